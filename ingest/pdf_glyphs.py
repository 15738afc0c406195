"""Glyphs pdfminer cannot map to Unicode, which it writes as "(cid:N)" placeholders.

A font without a ToUnicode map whose glyph names pdfminer does not know leaves it with a bare
character code: dvips's bitmap fonts (Type 3, glyphs named /a252), TeX's symbol, picture-line
and non-Latin fonts. pdfium, like poppler, falls back to the code itself or the font's own
tables, which is right for the Latin-1 codes of dvips's fonts ("f(cid:252)r" → "für") and
for many non-Latin fonts.

So the glyphs of such a font take the characters pdfium reads at the same places on the
page (a glyph's origin, which both parsers compute from the same text matrix), and the page
keeps pdfminer's layout analysis: tables, headings, columns. An unmapped glyph pdfium has no
printable character for either (a control or private-use code) is dropped.

Reading such pages with pdfium altogether was measured too and is worse where it matters:
its word breaks differ on TeX's glyph tables (txfonts' manual, pages with placeholders:
recall 0.56 against pdftotext's words, 0.98 with pdfminer's words), and the page loses its
tables and headings.
"""

from __future__ import annotations

import bisect
import ctypes
import re
import unicodedata
from collections import Counter

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

_PLACEHOLDER_RE = re.compile(r"\(cid:\d+\)")
# How far (points) pdfium's origin of a glyph may lie from pdfminer's: both come from the same
# matrices, so they agree to rounding.
ORIGIN_TOLERANCE = 0.05
# ... but their advances may differ in the last digits, so that on a long line pdfium's
# origins drift a few tenths of a point from pdfminer's (0.22 pt after 250 pt in reledpar's
# Greek font). An unmapped glyph without an exact match looks this far (points): less than
# the narrowest printed glyph's width, so a neighbour's origin is not reached.
NEAR_TOLERANCE = 0.5
# Unicode categories of characters worth keeping: letters, marks, digits, punctuation, symbols.
_PRINTABLE = frozenset("LMNPS")

Matrix = tuple[float, float, float, float, float, float]


def is_unmapped(obj: dict) -> bool:
    """A pdfplumber char pdfminer could not map (its text is the whole placeholder)."""
    text = obj.get("text")
    # startswith first: this runs on every char of every page.
    return bool(text and text.startswith("(cid:") and _PLACEHOLDER_RE.fullmatch(text))


def has_unmapped(chars: list[dict]) -> bool:
    return any(is_unmapped(c) for c in chars)


def without_unmapped(page):
    """The pdfplumber page with its unmapped glyphs left out (for tables: their cells are
    read from the page's own chars)."""
    return page.filter(lambda obj: not is_unmapped(obj))


def pdfminer_ctm(page) -> Matrix:
    """The matrix pdfminer puts in front of a page's content (``PDFPageInterpreter.
    process_page``): the media box moved to the origin and the page's /Rotate applied."""
    x0, y0, x1, y1 = page.page_obj.mediabox
    return {
        90: (0, -1, 1, 0, -y0, x1),
        180: (-1, 0, 0, -1, x1, y1),
        270: (0, 1, -1, 0, y1, -x0),
    }.get(page.page_obj.rotate, (1, 0, 0, 1, -x0, -y0))


class PdfiumGlyphs:
    """pdfium's characters of one page by glyph origin, in pdfminer's coordinates."""

    def __init__(self, page: pdfium.PdfPage, ctm: Matrix) -> None:
        a, b, c, d, e, f = ctm
        textpage = page.get_textpage()
        x, y = ctypes.c_double(), ctypes.c_double()
        glyphs = []
        try:
            for i in range(textpage.count_chars()):
                if pdfium_c.FPDFText_IsGenerated(textpage, i):
                    continue  # a space or line break pdfium inferred, not a glyph
                if not pdfium_c.FPDFText_GetCharOrigin(textpage, i, x, y):
                    continue
                code = pdfium_c.FPDFText_GetUnicode(textpage, i)
                px, py = x.value, y.value
                glyphs.append((a * px + c * py + e, b * px + d * py + f, i, code))
        finally:
            textpage.close()
        glyphs.sort()
        self._glyphs = glyphs
        self._xs = [g[0] for g in glyphs]

    def at(self, x: float, y: float, rank: int = 0, count: int = 1) -> str | None:
        """pdfium's printable text of the glyph that starts at (x, y), if it has any. A
        ligature's glyph may stand for several characters ("ffi"): pdfium gives each one,
        all at the glyph's origin. Where pdfminer has ``count`` glyphs at (x, y) (a zero-width
        one before the next) and pdfium as many, the glyph is the ``rank``-th of them."""
        lo = bisect.bisect_left(self._xs, x - ORIGIN_TOLERANCE)
        hi = bisect.bisect_right(self._xs, x + ORIGIN_TOLERANCE)
        here = sorted(
            (i, code) for _, gy, i, code in self._glyphs[lo:hi] if abs(gy - y) <= ORIGIN_TOLERANCE
        )
        if count > 1 and len(here) == count:
            here = here[rank : rank + 1]
        text = "".join(chr(code) for _, code in here if _printable(code))
        return text or None

    def near(self, x: float, y: float, rank: int, count: int) -> str | None:
        """pdfium's character for a glyph whose origin (x, y) it places a little off: at the
        nearest of its origins within ``NEAR_TOLERANCE``, the ``rank``-th glyph of the
        ``count`` pdfminer has at (x, y) (a zero-width glyph shares its origin with the next
        one), provided pdfium has as many glyphs there; else None."""
        lo = bisect.bisect_left(self._xs, x - NEAR_TOLERANCE)
        hi = bisect.bisect_right(self._xs, x + NEAR_TOLERANCE)
        candidates = [g for g in self._glyphs[lo:hi] if abs(g[1] - y) <= NEAR_TOLERANCE]
        if not candidates:
            return None
        gx, gy, _, _ = min(candidates, key=lambda g: abs(g[0] - x) + abs(g[1] - y))
        here = sorted((i, code) for px, py, i, code in candidates if (px, py) == (gx, gy))
        if len(here) != count or not _printable(here[rank][1]):
            return None
        return chr(here[rank][1])


def _printable(code: int) -> bool:
    if not 0 < code < 0x110000:
        return False
    category = unicodedata.category(chr(code))
    return category[0] in _PRINTABLE and category != "Co"


def map_unmapped(chars: list[dict], glyphs: PdfiumGlyphs | None) -> list[dict]:
    """``chars`` with the glyphs of every font that has unmapped ones read by pdfium: an
    unmapped glyph pdfium has no character for is left out, a mapped one keeps pdfminer's.

    The whole font, not only its unmapped glyphs: where pdfminer cannot name some glyphs
    of a font it guessed the others, from PDF's StandardEncoding, which is wrong for a
    dvips font's Latin-1 codes (ø, code 248, comes out as "ł").
    """
    fonts = {c.get("fontname") for c in chars if is_unmapped(c)}
    at_origin = Counter(_origin(c) for c in chars)
    seen: Counter[tuple[float, float] | None] = Counter()
    mapped = []
    for char in chars:
        origin = _origin(char)
        rank = seen[origin]
        seen[origin] += 1
        unmapped = is_unmapped(char)
        if not unmapped and char.get("fontname") not in fonts:
            mapped.append(char)
            continue
        matrix = char.get("matrix")
        count = at_origin[origin]
        text = glyphs.at(matrix[4], matrix[5], rank, count) if glyphs and matrix else None
        if text is None and unmapped and glyphs and matrix:
            text = glyphs.near(matrix[4], matrix[5], rank, count)
        if text is not None:
            mapped.append({**char, "text": text})
        elif not unmapped:
            mapped.append(char)
    return mapped


def _origin(char: dict) -> tuple[float, float] | None:
    matrix = char.get("matrix")
    return (round(matrix[4], 3), round(matrix[5], 3)) if matrix else None
