"""Spelling repair of OCR-damaged Danish, for what the dense model reads.

Old scans carry text layers in which æ, ø and å became ``ae``/``ee``/``ze``, ``g`` or ``a``
("Sjeelland", "gkonomisk", "omrade"). The keyword channel already meets such words through
their folded skeletons (:func:`search.sparse.fold`); the dense model does not: e5 reads
"veeksten i udgifterne har veeret kolossal" as noise. Before a Danish passage is embedded,
each word that the Danish word list lacks but whose folded skeleton belongs to exactly one
listed word is replaced by that word. The passage shown and cited stays as printed.

Measured on the sample corpus's OCR'd press release (word list ``wdanish``, 310k forms):
of its damaged words, 46 distinct ones are repaired, 44 of them right ("Sjeelland" →
"Sjælland", "leverandgrer" → "leverandører"); on its four clean documents the rule would
touch a few words (an acronym, an English word), so a passage is repaired only when it
shows damage: at least ``MIN_REPAIRS`` repairs and ``MIN_SHARE`` of its words. Acronyms
("OPS", which folds like "gps") are never touched.

A question typed without æ, ø and å (a keyboard without them: "okonomi", "Sjaelland", "hoej",
"staar") is mended before it is searched (:meth:`QuestionSpelling.mend_question`; the searcher
decides whether the question is Danish enough): each word the list lacks, and that is no
compound of listed words, becomes the one listed word (or compound) it spells with
``ae``/``oe``/``aa`` read as æ/ø/å, or else, unless it is a name, the one listed word it spells
with æ/ø/å written e/o/a. Not the folded skeleton here: it joins words no typist confuses
("keep", "kæp"). A question holding any of those letters is searched as typed. Measured with
the Danish questions of dev, holdout and the LibreOffice help spelt both ways
(``bench/typed_queries.py``, README).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from search.sparse import ENGLISH_FULL_STOPWORDS, fold

MIN_REPAIRS = 2
MIN_SHARE = 0.02
_WORD = re.compile(r"[^\W\d_]+")
_DANISH_LETTERS = re.compile("[æøåÆØÅ]")
# How a typist without æ, ø and å writes them.
_TYPED = re.compile("ae|oe|aa")
_TYPED_LETTER = {"ae": "æ", "oe": "ø", "aa": "å"}
_LETTERS_LEFT_OUT = str.maketrans({"æ": "e", "ø": "o", "å": "a"})
_MAX_TYPED = 4  # digraphs per word tried in every combination (2⁴ spellings at most)
# An address is spelt as it must be typed ("www.naestved.dk", "help.libreoffice.org"), not
# repaired: nor is any word joined to another by a dot.
_ADDRESS = re.compile(r"\S*(?:@|://|www\.)\S*|\w+(?:\.\w+)+")


class SpellingRepair:
    """Maps a damaged word to the one listed word with its folded skeleton. Thread-safe
    (read-only after construction)."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = frozenset(w.lower() for w in words)
        # A skeleton two listed words share ("mødes", "modes") repairs to neither.
        self._by_key = _one_word_per_key(self.words, fold)

    def correction(self, word: str) -> str | None:
        """The listed word ``word`` is a damaged spelling of, if exactly one; else None."""
        lower = word.lower()
        if len(word) < 2 or lower in self.words or (word.isupper() and len(word) > 1):
            return None
        fixed = self._by_key.get(fold(lower))
        if fixed is None or fixed == lower:
            return None
        return _cased_as(word, fixed)

    def repair(self, text: str) -> str:
        """``text`` with its damaged words repaired, if it shows damage; else ``text``."""
        fixes: list[tuple[int, int, str]] = []
        words = 0
        in_address = _address_test(text)
        for match in _WORD.finditer(text):
            words += 1
            if in_address(match.start()):
                continue
            fixed = self.correction(match.group())
            if fixed is not None:
                fixes.append((match.start(), match.end(), fixed))
        if len(fixes) < MIN_REPAIRS or len(fixes) < MIN_SHARE * words:
            return text
        out: list[str] = []
        last = 0
        for start, end, fixed in fixes:
            out += [text[last:start], fixed]
            last = end
        out.append(text[last:])
        return "".join(out)


class QuestionSpelling:
    """Mends a question typed without æ, ø and å (see the module docstring). Thread-safe
    (read-only after construction)."""

    def __init__(
        self, words: Iterable[str], compound: Callable[[str], object] | None = None
    ) -> None:
        self.words = frozenset(w.lower() for w in words)
        # Tells a compound the list lacks ("politikertemamødet") from a non-word: a split or
        # None (search.compounds).
        self._compound = compound
        self._by_letters_left_out = _one_word_per_key(self.words, _with_letters_left_out)

    def letters_left_out(self, word: str) -> str | None:
        """The one listed word ``word`` spells with æ, ø, å written e, o, a ("okonomi" →
        "økonomi", "omrade" → "område"), if any. Stricter than the folded skeleton, which
        also joins what no typist confuses ("keep" and "kæp", "paper" and "papaer")."""
        return self._by_letters_left_out.get(word.lower())

    def typed(self, word: str) -> str | None:
        """The listed word ``word`` spells with some of its ``ae``/``oe``/``aa`` read as
        æ/ø/å, if exactly one ("hoej" → "høj", "staar" → "står"); else None."""
        lower = word.lower()
        spans = [m.span() for m in _TYPED.finditer(lower)]
        if not spans or len(spans) > _MAX_TYPED:
            return None
        found = set()
        for pick in range(1, 2 ** len(spans)):
            out, last = [], 0
            for bit, (a, b) in enumerate(spans):
                if pick >> bit & 1:
                    out += [lower[last:a], _TYPED_LETTER[lower[a:b]]]
                    last = b
            candidate = "".join(out) + lower[last:]
            if self._known(candidate):
                found.add(candidate)
        return found.pop() if len(found) == 1 else None

    def _known(self, lower: str) -> bool:
        return lower in self.words or (
            self._compound is not None and self._compound(lower) is not None
        )

    def mend_query(self, text: str) -> str:
        """A question typed without æ, ø and å with each word the list lacks mended (see the
        module docstring); a question holding any of those letters, as typed."""
        return self.mend_question(text)[0]

    def mend_question(self, text: str) -> tuple[str, bool]:
        """:meth:`mend_query`, and whether a word it mended was spelt with ``ae``, ``oe`` or
        ``aa`` (a Danish typist's sign; a word with the letters left out is none: "for"
        could be "før" or English)."""
        if _DANISH_LETTERS.search(text):
            return text, False
        spelt_typed = False
        in_address = _address_test(text)

        def mend(match: re.Match[str]) -> str:
            nonlocal spelt_typed
            word = match.group()
            lower = word.lower()
            # An English "does" or "of" in a Danish question is no "døs", "øf".
            if len(word) < 2 or word.isupper() or lower in ENGLISH_FULL_STOPWORDS:
                return word
            if in_address(match.start()) or self._known(lower):
                return word
            fixed = self.typed(word)
            spelt_typed = spelt_typed or fixed is not None
            # A capital inside the question starts a name: "Sjaelland" is "Sjælland", but
            # "Navigator" and "Writer" are spelt as their owners spell them, not as Danish
            # words with the letters left out ("navigatør").
            if fixed is None and not (word[0].isupper() and match.start() > 0):
                fixed = self.letters_left_out(word)
            return word if fixed is None else _cased_as(word, fixed)

        mended = _WORD.sub(mend, text)
        return mended, spelt_typed


def _one_word_per_key(words: Iterable[str], key: Callable[[str], str | None]) -> dict[str, str]:
    """Each listed word by its key (None: left out), where no other listed word has it."""
    by_key: dict[str, str | None] = {}
    for word in words:
        k = key(word)
        if k is None:
            continue
        by_key[k] = None if k in by_key and by_key[k] != word else word
    return {k: w for k, w in by_key.items() if w is not None}


def _with_letters_left_out(word: str) -> str | None:
    """``word`` with æ, ø, å written e, o, a; None if it has none of them."""
    key = word.translate(_LETTERS_LEFT_OUT)
    return None if key == word else key


def _cased_as(word: str, fixed: str) -> str:
    return fixed.capitalize() if word[0].isupper() else fixed


def _address_test(text: str) -> Callable[[int], bool]:
    """Whether an offset of ``text`` lies inside an address (see ``_ADDRESS``)."""
    spans = [m.span() for m in _ADDRESS.finditer(text)]
    return lambda offset: any(a <= offset < b for a, b in spans)


@functools.lru_cache(maxsize=2)
def spelling_for(words: frozenset[str]) -> SpellingRepair:
    """The repair for a word list, built once per process (≈0.7 s for ``wdanish``)."""
    return SpellingRepair(words)


@functools.lru_cache(maxsize=2)
def question_spelling_for(
    words: frozenset[str], compound: Callable[[str], object] | None = None
) -> QuestionSpelling:
    """The question mending for a word list and compound splitter, built once per process
    (≈0.2 s for ``wdanish``)."""
    return QuestionSpelling(words, compound)
