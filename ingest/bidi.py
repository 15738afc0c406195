"""Right-to-left text read off a PDF page, put back into reading (logical) order.

A PDF places glyphs; it does not say in which order they are read. Extraction sorts a line's
glyphs from left to right, which is the reading order of Danish or English but backwards for
Arabic and Hebrew: "اختبار دعم" comes out as "معد رابتخا", a string no one types and no
query matches. (Danish municipalities publish information in Arabic, Farsi and Urdu, and
those documents must be found like the others.)

:func:`logical_order` undoes this per line, as a simplified inverse of the Unicode
bidirectional algorithm at word level:

- a word is right-to-left when it holds a right-to-left letter (bidi class R or AL), left-to-
  right when it holds a left-to-right letter, neutral otherwise (numbers, punctuation);
- the line's direction is that of the majority of its directional words;
- consecutive words of one direction form a run; a neutral word between two runs of the same
  direction joins them, otherwise it takes the line's direction;
- in a right-to-left line the runs are read from right to left; the words of a right-to-left
  run are read from right to left, and the letters of each right-to-left word too (a
  combining mark stays with its letter; mirrored brackets are swapped). Numbers and left-to-
  right words keep their order, as they were typeset.

A line without any right-to-left letter is returned unchanged (and cheaply), so Danish and
English text never pass through the rest.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["logical_order"]

_RTL_CLASSES = frozenset({"R", "AL"})
# Right-to-left scripts' blocks, to skip the per-character test for ordinary lines: Hebrew,
# Arabic, Syriac, Thaana, NKo, Samaritan, Mandaic, Arabic Extended, presentation forms.
_MAYBE_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_MIRROR = str.maketrans("()[]{}<>«»", ")(][}{><»«")


def _direction(word: str) -> str:
    """'R', 'L' or 'N' (neutral) by the word's first strong letter."""
    for ch in word:
        kind = unicodedata.bidirectional(ch)
        if kind in _RTL_CLASSES:
            return "R"
        if kind == "L":
            return "L"
    return "N"


def _reverse_letters(word: str) -> str:
    """A right-to-left word read backwards, each combining mark kept after its letter."""
    clusters: list[str] = []
    for ch in word:
        if clusters and unicodedata.combining(ch):
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return "".join(reversed(clusters)).translate(_MIRROR)


def logical_order(line: str) -> str:
    """A line extracted left to right, in the order it is read (see the module docstring)."""
    if not _MAYBE_RTL.search(line):
        return line
    words = line.split(" ")
    kinds = [_direction(w) for w in words]
    if "R" not in kinds:
        return line
    base = "R" if kinds.count("R") >= kinds.count("L") else "L"
    # Neutral words take the direction of their neighbours when both agree, else the line's.
    resolved = list(kinds)
    for i, kind in enumerate(kinds):
        if kind != "N":
            continue
        before = next((k for k in reversed(kinds[:i]) if k != "N"), base)
        after = next((k for k in kinds[i + 1 :] if k != "N"), base)
        resolved[i] = before if before == after else base
    runs: list[tuple[str, list[str]]] = []
    for word, kind, direction in zip(words, kinds, resolved, strict=True):
        text = _reverse_letters(word) if kind == "R" else word
        if runs and runs[-1][0] == direction:
            runs[-1][1].append(text)
        else:
            runs.append((direction, [text]))
    ordered = reversed(runs) if base == "R" else runs
    return " ".join(
        " ".join(reversed(run) if direction == "R" else run) for direction, run in ordered
    )
