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
    """NFC, ligatures expanded, invisible and control characters removed, spaces collapsed."""
    text = unicodedata.normalize("NFC", text)
    text = _LIGATURE_RE.sub(lambda m: LIGATURES[m.group()], text)
    text = _INVISIBLE_RE.sub("", text)
    text = _CONTROL_RE.sub("", text)
    return _SPACES_RE.sub(" ", text).strip()


def join_lines(lines: Iterable[str], vocabulary: set[str] | None = None) -> str:
    """Join the lines of one paragraph into running text, undoing line-end hyphenation.

    A hyphen at a line end is kept when it is real: when the next line starts with a
    conjunction (suspended compound), with an upper-case letter or a digit, or when the
    hyphenated form occurs elsewhere in the document (``vocabulary``: lower-cased words
    of the document, hyphenated compounds included). Otherwise it is a typesetting
    hyphen and the word is joined ("samar-" + "bejde" → "samarbejde").
    """
    out = ""
    for raw in lines:
        line = normalize_line(raw)
        if not line:
            continue
        if not out:
            out = line
            continue
        end = _WORD_END_HYPHEN_RE.search(out)
        start = _WORD_START_RE.match(line)
        if end and start:
            head, tail = end.group(1), start.group(1)
            if _hyphen_is_real(head, tail, vocabulary):
                joined_with_hyphen = tail.lower() not in _SUSPENDED_NEXT
                out = out + line if joined_with_hyphen else out + " " + line
            else:
                out = out[:-1] + line
        else:
            out = out + " " + line
    return out


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
