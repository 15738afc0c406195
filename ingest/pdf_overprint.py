"""Glyphs printed more than once at the same place → once.

Producers overprint to fake bold (the same glyph shifted by a fraction of a point), to draw
shadows, or, in PSTricks figures, by drawing a label again for every object that carries it:
one real 18-page manual has 172,000 chars of which 27,000 are distinct. Read as they are,
the copies glue into words no one wrote ("newnew", "bcbcbc"). pdftotext drops them too.

pdfplumber's own ``dedupe_chars`` restores the order with ``list.index`` per char, which is
quadratic: minutes on such a page. This keeps the first char of each group in one pass,
finding earlier copies through a grid of cells one tolerance wide.
"""

from __future__ import annotations

# Copies of a glyph lie within this many points of each other (pdfplumber's default too),
# and within this share of the glyph's size: at 4.6 points (a calendar's days set along a
# dodecahedron's slanted face) the two "1"s of "11" stand 1.2 points apart, 0.7 across and
# 0.9 down, and were taken for one ("1" for 11, "2" for 22: 400 numbers lost on one page).
TOLERANCE = 1.0
SIZE_SHARE = 0.15


class GlyphGrid:
    """Glyphs placed so far, to tell a copy from a new glyph in constant time."""

    def __init__(self, tolerance: float = TOLERANCE) -> None:
        self.tolerance = tolerance
        self._cells: dict[tuple, list[tuple[float, float]]] = {}

    def place(self, glyph: tuple, x: float, y: float, size: float | None = None) -> bool:
        """Record ``glyph`` (text, font, …) at ``x, y``; False when a copy of it already
        lies within the tolerance there (and nothing is recorded). ``size``, the glyph's
        font size when known, narrows the tolerance for small type."""
        t = self.tolerance
        near = t if not size else min(t, SIZE_SHARE * size)
        cx, cy = int(x // t), int(y // t)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for ox, oy in self._cells.get((*glyph, cx + dx, cy + dy), ()):
                    if (ox - x) ** 2 + (oy - y) ** 2 <= near * near:
                        return False
        self._cells.setdefault((*glyph, cx, cy), []).append((x, y))
        return True


def drop_overprinted(chars: list[dict], tolerance: float = TOLERANCE) -> list[dict]:
    """``chars`` (pdfplumber char dicts) without the later copies of a glyph that sits,
    with the same text, font and size, within ``tolerance`` (and ``SIZE_SHARE`` of its
    size) of an earlier one; the same list when there are none."""
    grid = GlyphGrid(tolerance)
    kept = [
        char
        for char in chars
        if grid.place(
            (char["text"], char.get("fontname"), char.get("size"), char.get("upright")),
            float(char["x0"]),
            float(char["doctop"]),
            float(char.get("size") or 0),
        )
    ]
    return chars if len(kept) == len(chars) else kept
