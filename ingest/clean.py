"""Text cleaning shared by all readers: Unicode, ligatures, soft hyphens, line-end hyphenation.

Cleaning changes what users see, so it is conservative: it only undoes artefacts of
typesetting and extraction, never spelling (OCR damage stays; the index folds it).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

LIGATURES = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
}
_LIGATURE_RE = re.compile("[" + "".join(LIGATURES) + "]")
# Soft hyphen, zero-width chars, BOM; U+0002 is pdfium's marker for a line-end hyphen.
_INVISIBLE_RE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff\u0002]")
_CONTROL_RE = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]")
_SPACES_RE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")

# A line-end hyphen followed by one of these words marks a suspended compound
# ("bo- og døgntilbud", "social- og sundhedsområdet"): the hyphen is real.
_SUSPENDED_NEXT = {"og", "eller", "samt", "til", "som", "and", "or", "&", "/"}
_WORD_END_HYPHEN_RE = re.compile(r"(\w+)-$")
_WORD_START_RE = re.compile(r"^(\w+)")


def normalize_line(text: str) -> str:
    """NFC, ligatures expanded, invisible and control characters removed, spacing accents
    composed with their letter, spaces collapsed."""
    text = unicodedata.normalize("NFC", text)
    text = _LIGATURE_RE.sub(lambda m: LIGATURES[m.group()], text)
    text = _INVISIBLE_RE.sub("", text)
    text = _CONTROL_RE.sub("", text)
    text = compose_spacing_accents(text)
    return _SPACES_RE.sub(" ", text).strip()


# --- spacing accents ---------------------------------------------------------------------------
# Old TeX (and a few other producers) typeset an accented letter as two glyphs, the letter and a
# stand-alone accent over or under it. Extraction then yields "fu¨r", "k¨onnen", "˚a", in either
# order, depending on how the extractor sorts the two glyphs. Spacing accent → combining mark:
SPACING_ACCENTS = {
    "\u00a8": "\u0308",  # ¨ diaeresis
    "\u02da": "\u030a",  # ˚ ring above (Danish ˚a)
    "\u00b4": "\u0301",  # ´ acute
    "`": "\u0300",  # grave: TeX fonts' "grave" glyph maps to U+0060
    "\u02c6": "\u0302",  # ˆ circumflex
    "^": "\u0302",
    "\u02dc": "\u0303",  # ˜ tilde
    "~": "\u0303",
    "\u00b8": "\u0327",  # ¸ cedilla
    "\u02c7": "\u030c",  # ˇ caron
    "\u02d8": "\u0306",  # ˘ breve
    "\u02d9": "\u0307",  # ˙ dot above
    "\u00af": "\u0304",  # ¯ macron
    "\u02db": "\u0328",  # ˛ ogonek (Polish ą, ę)
    "\u02dd": "\u030b",  # ˝ double acute (Hungarian ő, ű)
}
# Marks under the letter: TeX's dotless ı stands in for i only under marks above it.
_BELOW = frozenset("\u0327\u0328")
# The letters each accent usually sits on in European languages. In running text an accent
# beside another letter is rather an apostrophe ("don´t") or a symbol, so text is only
# composed into these; the PDF reader composes by position (ingest.pdf_accents) and needs no such
# guess.
_USUAL_BASES = {
    "\u0308": "aeiouyAEIOUY",
    "\u0301": "aeiouyAEIOUY",
    "\u0300": "aeiouAEIOU",
    "\u0302": "aeiouAEIOU",
    "\u0303": "aonAON",
    "\u030a": "auAU",
    "\u0327": "cstCST",
    "\u030c": "cdenrstzCDENRSTZ",
    "\u0306": "aguAGU",
    "\u0307": "cegzCEGZI",
    "\u0304": "aeiouAEIOU",
    "\u0328": "aeiuAEIU",
    "\u030b": "ouOU",
}
_ACCENT_RE = re.compile("[" + re.escape("".join(SPACING_ACCENTS)) + "]")
# The ASCII forms are mostly code and quotes (x^2, ~/path, TeX's tie a~b, ``quotes''): ^ and ~
# are composed only between two letters, ` (TeX fonts' grave accent) only outside quotes.
# A token with these is code or markup ("\\ˆa", "{e^x}", "[start~angle=0]"): left alone.
_CODE_RE = re.compile(r"[\\{}\[\]=$#_|<>+*@%0-9]")
# TeX-style quotes (`word’, ``word'') on the line: its backticks are quote marks.
_BACKTICK_QUOTE_RE = re.compile(r"(?:^|[\s(\[])`+[^\W\d_]{2}")
_QUOTE_RE = re.compile("[`'\u2018\u2019\u201c\u201d\"].*[`'\u2018\u2019\u201c\u201d\"]|''")
# "we´re", "don`t": an accent before an English contraction ending is an apostrophe.
_APOSTROPHE_RE = re.compile(r"(?:s|t|d|m|ll|re|ve)\b", re.IGNORECASE)


def compose_accent(letter: str, accent: str) -> str | None:
    """The precomposed letter for ``letter`` with a spacing ``accent``, or None if Unicode has
    no such single character. Dotless ı and ȷ (TeX's base for accented i and j) count as i, j.
    """
    mark = SPACING_ACCENTS.get(accent)
    if mark is None:
        return None
    if letter in "ıȷ" and mark not in _BELOW:
        letter = "i" if letter == "ı" else "j"
    composed = unicodedata.normalize("NFC", letter + mark)
    return composed if len(composed) == 1 else None


def compose_spacing_accents(text: str) -> str:
    """Compose spacing accents standing right beside a letter: "fu¨r", "k¨onnen" → "für",
    "können"; "˚a" → "å". Only into letters that usually carry the accent, never in tokens that
    look like code, and ASCII ` ^ ~ only between two letters. Spaces are never removed: whether
    "f ¨ur" is one word or two cannot be told from the text."""
    if not _ACCENT_RE.search(text):
        return text
    quoted = bool(_BACKTICK_QUOTE_RE.search(text))
    return re.sub(r"\S+", lambda m: _compose_token(m.group(), quoted), text)


def _is_letter(ch: str) -> bool:
    return ch.isalpha() and ch not in SPACING_ACCENTS


def _usual(letter: str, accent: str) -> str | None:
    base = unicodedata.normalize("NFD", letter)[0].replace("ı", "i")
    if base not in _USUAL_BASES[SPACING_ACCENTS[accent]]:
        return None
    return compose_accent(letter, accent)


def _lone_grave(chars: list[str], i: int) -> bool:
    """A ` after a letter, or before a one-letter word ("`a" = "à"), rather than opening
    a quote ("`inputenc’")."""
    if i > 0 and _is_letter(chars[i - 1]):
        return True
    return i + 2 >= len(chars) or not _is_letter(chars[i + 2])


def _compose_token(token: str, quoted: bool) -> str:
    if not _ACCENT_RE.search(token) or _CODE_RE.search(token):
        return token
    chars = list(token)
    # accent position → candidate letter positions: the letter before it, the letter after it
    options: dict[int, list[int]] = {}
    for i, ch in enumerate(chars):
        if ch not in SPACING_ACCENTS:
            continue
        before = i - 1 if i > 0 and _is_letter(chars[i - 1]) else None
        after = i + 1 if i + 1 < len(chars) and _is_letter(chars[i + 1]) else None
        if ch in "^~" and (before is None or after is None or token.count(ch) > 1):
            continue  # "x^2", "~/path"; several in a word are code: "This~is~not~allowed"
        if ch == "`" and (quoted or _QUOTE_RE.search(token) or not _lone_grave(chars, i)):
            continue
        if before is not None and ch in "\u00b4`" and _APOSTROPHE_RE.match(token, i + 1):
            continue
        sides = [j for j in (before, after) if j is not None and _usual(chars[j], ch)]
        if sides:
            options[i] = sides
    if not options:
        return token
    # Unambiguous accents first; an accent between two possible letters then takes the one no
    # other accent took ("e´e´n" → "één"), a dotless ı (only ever typeset to carry an accent),
    # or else the letter after it: TeX writes the accent before the letter.
    owner: dict[int, int] = {i: sides[0] for i, sides in options.items() if len(sides) == 1}
    taken = set(owner.values())
    for i, (left, right) in ((i, s) for i, s in options.items() if len(s) == 2):
        dotless = [j for j in (left, right) if chars[j] in "ıȷ"]
        if len(dotless) == 1:
            owner[i] = dotless[0]
        elif right in taken and left not in taken:
            owner[i] = left
        else:
            owner[i] = right
        taken.add(owner[i])
    for i, j in sorted(owner.items()):
        composed = compose_accent(chars[j], chars[i])
        if composed is not None:  # a second accent on the same letter may not compose
            chars[j], chars[i] = composed, ""
    return unicodedata.normalize("NFC", "".join(chars))


def join_lines(lines: Iterable[str], vocabulary: set[str] | None = None) -> str:
    """Join the lines of one paragraph into running text, undoing line-end hyphenation.

    A hyphen at a line end is kept when it is real: when the next line starts with a
    conjunction (suspended compound), with an upper-case letter or a digit, or when the
    hyphenated form occurs elsewhere in the document (``vocabulary``: lower-cased words
    of the document, hyphenated compounds included). Otherwise it is a typesetting
    hyphen and the word is joined ("samar-" + "bejde" → "samarbejde").
    """
    parts: list[str] = []
    # The joined text's trailing run without whitespace: the hyphen rule looks at nothing else
    # (a word and its hyphen hold no space), so no line rescans what was joined before it.
    tail = ""
    for raw in lines:
        line = normalize_line(raw)
        if not line:
            continue
        sep = " "
        end = _WORD_END_HYPHEN_RE.search(tail) if parts else None
        start = _WORD_START_RE.match(line)
        if end and start:
            head, first = end.group(1), start.group(1)
            if _hyphen_is_real(head, first, vocabulary):
                sep = "" if first.lower() not in _SUSPENDED_NEXT else " "
            else:  # a typesetting hyphen: dropped
                parts[-1] = parts[-1][:-1]
                tail = tail[:-1]
                sep = ""
        piece = sep + line if parts else line
        parts.append(piece)
        last_run = line.rsplit(None, 1)
        tail = tail + piece if sep == "" and len(last_run) == 1 else last_run[-1]
    return "".join(parts)


def _hyphen_is_real(head: str, tail: str, vocabulary: set[str] | None) -> bool:
    if tail.lower() in _SUSPENDED_NEXT:
        return True
    if tail[0].isupper() or tail[0].isdigit() or head[-1].isdigit():
        return True
    if head.isupper() and len(head) > 1:  # "OPS-" + "modellen": an abbreviation compound
        return True
    if vocabulary is not None:
        if f"{head}-{tail}".lower() in vocabulary:
            return True
        if f"{head}{tail}".lower() in vocabulary:
            return False
    return False


_VOCAB_RE = re.compile(r"\w+(?:-\w+)*")


def vocabulary_of(texts: Iterable[str]) -> set[str]:
    """Lower-cased words (hyphenated compounds whole) of text, to judge line-end hyphens."""
    vocab: set[str] = set()
    for text in texts:
        vocab.update(w.lower() for w in _VOCAB_RE.findall(text))
    return vocab
