"""A question put into the other language word by word: a Danish one into English for the
English passages, an English one into Danish for the Danish passages.

e5-small places a Danish question far from the English passage that answers it: asked in
English, the same questions find their answers several times as often (see the README).
No translation model can be had offline, so the question is glossed through a word list
learnt from a parallel text (``bench/build_glossary.py``: the Danish and English LibreOffice
help, paragraph by paragraph): "Mine scannede sider har lodrette streger" → "my scanned
pages have vertical lines". The gloss is no sentence, but e5 reads it as English and so
meets English passages on their own terms. Words the list lacks stay as written (names,
"GIMP", "XCF"); an inflected form the list lacks is looked up by its stem, and a compound
by its parts.
"""

from __future__ import annotations

import functools
import gzip
import logging
import re
from collections.abc import Callable
from pathlib import Path

import Stemmer

from search.sparse import DANISH_STOPWORDS, ENGLISH_FULL_STOPWORDS

GLOSSARY_PATH = Path(__file__).resolve().parent / "data" / "glossary-da-en.tsv"
TO_ENGLISH, TO_DANISH, STEM_TO_ENGLISH = "da-en", "en-da", "da-en-stem"
_WORD_RE = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_TOKEN_RE = re.compile(r"\w+(?:[-.]\w+)*")

# Function words carry little meaning and the list translates them worst ("jeg", "man"):
# they are left out of the gloss, question words too, so that e5 reads the content words.
_LEFT_OUT = DANISH_STOPWORDS | {
    "hvordan", "hvilken", "hvilket", "hvilke", "hvornår", "hvorfor", "jeg", "kan", "så", "helt",
    "bare", "lige",
}  # fmt: skip
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_SENSE_RE = re.compile(r"(?:^|\s)\d+\.\s")
# FreeDict explains some senses in Danish between brackets ("[et bogstav] a", "abbot
# [forstander for et …]"): the note is no translation, and its Danish words would join the
# English gloss.
_NOTE_RE = re.compile(r"\[[^\]]*\]?")

log = logging.getLogger(__name__)


# A Danish word's two likeliest English words, not one: the list learns senses from software
# text ("små" → "lowercase small"), and the wrong one alone misleads the English passages'
# lists where the pair still finds them (measured: README, glossary).
SENSES = 2


def words(text: str) -> list[str]:
    """Lower-cased words of letters (hyphenated compounds kept whole), as the list holds them."""
    return [w for w in _WORD_RE.findall(text.lower()) if len(w) > 1]


class Glossary:
    """Word → translations (best first), per direction."""

    def __init__(
        self,
        entries: dict[str, dict[str, list[str]]],
        split: Callable[[str], tuple[str, str] | None] | None = None,
        dictionary: dict[str, list[str]] | None = None,
    ) -> None:
        self.to_english = entries.get(TO_ENGLISH, {})
        self.to_danish = entries.get(TO_DANISH, {})
        self.stems_to_english = entries.get(STEM_TO_ENGLISH, {})
        self.split = split
        self._stem = Stemmer.Stemmer("danish").stemWord
        self._english_stem = Stemmer.Stemmer("english").stemWord
        # An English form the list lacks ("selected") by its stem ("select").
        self.stems_to_danish: dict[str, list[str]] = {}
        for word, translations in self.to_danish.items():
            self.stems_to_danish.setdefault(self._english_stem(word), translations)
        # A general dictionary's headwords by stem ("mørkeste" finds "mørk"): everyday words
        # the help never uses ("dårlig", "langsom", "skarp").
        self.dictionary: dict[str, list[str]] = {}
        for headword, translations in (dictionary or {}).items():
            self.dictionary.setdefault(self._stem(headword), self._usual(translations))

    @classmethod
    def from_file(
        cls,
        path: Path,
        split: Callable[[str], tuple[str, str] | None] | None = None,
        dictionary: dict[str, list[str]] | None = None,
    ) -> Glossary:
        entries: dict[str, dict[str, list[str]]] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line or line.startswith("#"):
                continue
            word, direction, translations = line.split("\t")
            entries.setdefault(direction, {})[word] = translations.split()
        return cls(entries, split, dictionary)

    def _usual(self, translations: list[str]) -> list[str]:
        """A dictionary entry's translations as the help would use them: single words, those
        the help uses first ("mørk": "bleak, dark, dismal" → "dark"), the likeliest one."""
        single = [t for t in translations if " " not in t] or translations
        known = [t for t in single if t in self.to_danish]
        return (known or single)[:1]

    def english_words(self, word: str) -> str | None:
        """The likeliest English words (at most ``SENSES``) for one lower-case Danish word, if
        the list knows it by its form, the dictionary by its stem, the list by its stem or (a
        compound) by its parts. Snowball keeps comparison ("mørkeste" → "mørkest"): its
        endings are tried off too."""
        for form in (word, *_compared(word)):
            stem = self._stem(form)
            found = (
                self.to_english.get(form)
                or self.dictionary.get(stem)
                or self.stems_to_english.get(stem)
            )
            if found:
                return " ".join(found[:SENSES])
        parts = self.split(word) if self.split is not None else None
        if parts:
            glossed = [self.english_words(part) for part in parts]
            if all(glossed):
                return " ".join(g for g in glossed if g)
        return None

    def _english_token(self, token: str) -> str | None:
        """A word's English words; a hyphenated one ("sort-hvidt") part by part, the parts
        the list lacks kept; None for numbers and words nothing is known of."""
        if token.isalpha() or token in self.to_english:  # "e-mail" is a word of the list
            return self.english_words(token)
        parts = token.split("-")
        if len(parts) < 2 or not all(part.isalpha() for part in parts):
            return None
        glossed = [self.english_words(part) for part in parts]
        if not any(glossed):
            return None
        return " ".join(g or part for g, part in zip(glossed, parts, strict=True))

    def to_danish_text(self, text: str) -> tuple[str, int]:
        """``text`` (English) word by word in Danish, and how many of its words were
        translated; English function words are left out, words the list lacks kept."""
        out, translated = [], 0
        for token in _TOKEN_RE.findall(text):
            word = token.lower()
            if word in ENGLISH_FULL_STOPWORDS:
                continue
            found = None
            if token.isalpha():
                found = self.to_danish.get(word) or self.stems_to_danish.get(
                    self._english_stem(word)
                )
            if found:
                out.append(found[0])
                translated += found[0] != word
            else:
                out.append(token)
        return " ".join(out), translated

    def to_english_text(self, text: str) -> tuple[str, int]:
        """``text`` word by word in English, and how many of its words were translated. Words
        the list lacks stay as written (names, numbers, terms shared by both languages)."""
        out, translated = [], 0
        for token in _TOKEN_RE.findall(text):
            if token.lower() in _LEFT_OUT:
                continue
            english = self._english_token(token.lower())
            if english is None:
                out.append(token)
            else:
                out.append(english)
                translated += english != token.lower()
        return " ".join(out), translated


def _compared(word: str) -> list[str]:
    """The positive of a comparative or superlative ("mørkeste", "lysere" → "mørk", "lys")."""
    return [
        word[: -len(ending)]
        for ending in ("este", "est", "ere")
        if word.endswith(ending) and len(word) - len(ending) >= 3
    ]


def read_dictd(base: Path) -> dict[str, list[str]]:
    """A dictd dictionary (``BASE.index`` and ``BASE.dict.dz``, as Debian's FreeDict packages
    install them): headword → the translations of its first sense."""
    data = gzip.decompress(base.with_name(base.name + ".dict.dz").read_bytes())
    entries: dict[str, list[str]] = {}
    index = base.with_name(base.name + ".index").read_text(encoding="utf-8")
    for line in index.splitlines():
        fields = line.split("\t")
        if len(fields) != 3 or fields[0].startswith("00") or " " in fields[0]:
            continue  # the database's own description; phrases
        start, length = (_base64_number(f) for f in fields[1:])
        body = data[start : start + length].decode("utf-8", errors="replace").split("\n", 1)
        if len(body) < 2:
            continue
        first_sense = _SENSE_RE.split(" ".join(body[1].split()))
        sense = next((part for part in first_sense if part.strip()), "")
        sense = _NOTE_RE.sub(" ", sense).replace("\u2010", "-")  # and its Unicode hyphen
        translations = [" ".join(t.split()) for t in sense.split(",") if t.strip()]
        if translations:
            entries[fields[0].lower()] = translations
    return entries


def _base64_number(text: str) -> int:
    value = 0
    for char in text:
        value = value * 64 + _B64.index(char)
    return value


@functools.lru_cache(maxsize=4)
def glossary_for(
    path: Path,
    split: Callable[[str], tuple[str, str] | None] | None = None,
    dictionary: Path | None = None,
) -> Glossary | None:
    """The glossary at ``path`` with the dictd dictionary ``dictionary`` (loaded once per
    process), or None with a warning; a dictionary that does not load is left out."""
    entries = None
    if dictionary is not None:
        try:
            entries = read_dictd(dictionary)
        except (OSError, ValueError) as err:
            log.warning("Danish–English dictionary %s not loaded (%s)", dictionary, err)
    try:
        return Glossary.from_file(path, split, entries)
    except (OSError, ValueError) as err:
        log.warning("Danish–English glossary %s not loaded (%s): no question is glossed", path, err)
        return None
