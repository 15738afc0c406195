"""Glyphs of a slanted font boxed along their baseline, so word gaps keep their width.

A font without an italic (Bera, in many PSTricks manuals) is slanted by a skewed text
matrix ``[a 0 c d e f]``. pdfminer boxes a glyph by transforming two opposite corners of its
upright box, so a slanted glyph's box runs from its descender's foot to its ascender's
head: ``c × font size`` (a sixth of it at 10°) wider than its advance, reaching into both
neighbours. Word gaps measured between such boxes shrink by as much and fall under the
word-break threshold ("macrosfor generic"). Measured along the baseline, from the glyph's
origin over its advance, the gaps are the ones the typesetter made.
"""

from __future__ import annotations


def baseline_boxes(chars: list[dict]) -> list[dict]:
    """``chars`` (pdfplumber char dicts) with every slanted upright glyph's ``x0``/``x1``
    set to its origin and origin plus advance; the same list when none is slanted."""
    if not any(_slanted(c) for c in chars):
        return chars
    out = []
    for char in chars:
        if _slanted(char):
            a, _, _, _, e, _ = char["matrix"]
            char = {**char, "x0": e, "x1": e + a * char["adv"]}
        out.append(char)
    return out


def _slanted(char: dict) -> bool:
    matrix = char.get("matrix")
    if not matrix or char.get("adv") is None:
        return False
    a, b, c, d, _, _ = matrix
    return b == 0 and c != 0 and a > 0 and d > 0
