"""Geometry of one PDF page: words → lines, two-column gutter, reading order.

Coordinates are pdfplumber's: x grows to the right, ``top`` downwards. A page's box need not
start at 0 (a MediaBox of [100 100 700 900]), and text may lie partly outside it: everything
that measures against the page uses the page's own box.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

import numpy as np

from ingest.bidi import logical_order

X_TOLERANCE = 1.5  # points: table cells and the plain-text fallback
# Words: a gap wider than this share of the font size starts a new word. 0.14 is 1.5 points
# at 10.7-point body text; relative, so 6-point figure labels keep their spaces (a gap of
# 0.25 em is 1.4 points there) and 20-point titles their letter-spaced words.
WORD_GAP = 0.14
# Words of a row that touch are one word only when they share this much of the lower one's
# height: lines of small type next to a large word share none (or a subscript's sliver).
MIN_SHARED_HEIGHT = 0.3
# A footnote's mark: smaller type than the word it precedes (at most this share of its size),
# raised above its baseline, and only digits or the marks below.
MARK_SIZE = 0.85
FOOTNOTE_MARKS = frozenset("0123456789*†‡§¶")
# A word may overhang a table rule by this much (points) and still be in one cell.
RULE_TOLERANCE = 1.0
# A gutter is a vertical band at least this wide (points) that almost no word crosses.
MIN_GUTTER = 8
# PDF pages are at most 200 inches wide; a wider box is broken, not worth a gutter search.
MAX_PAGE_WIDTH = 14_400


@dataclass
class Line:
    text: str
    top: float
    bottom: float
    x0: float
    size: float
    bold: bool
    column: int = 0  # 0 = full width, 1 = left, 2 = right


@dataclass
class TableItem:
    rows: list[list[str]]
    top: float
    bottom: float
    x0: float
    column: int = 0


@dataclass
class PlainLine:
    """A line of text read without layout analysis, with its vertical position."""

    text: str
    top: float
    bottom: float


@dataclass
class PageLayout:
    number: int
    height: float
    top: float = 0.0  # y of the page box's top edge (not 0 when the box does not start at 0)
    items: list[Line | TableItem] = field(default_factory=list)
    scanned: bool = False
    # When the layout analysis failed: the page's lines as a simpler method read them, and why.
    plain_lines: list[PlainLine] | None = None
    degraded: str = ""


def _is_real_table(table) -> bool:
    rows = table.extract()
    return len(rows) >= 2 and max((len(r) for r in rows), default=0) >= 2


def cuts_words(table, words: list[dict]) -> bool:
    """Whether one of the table's column rules runs through a word (its letters on both
    sides): then it is a drawing's grid under labels (PSTricks' ``showgrid``), not a table,
    whose cells would cut the labels into pieces ("A sho | rt line"). A real table's rules
    run between words."""
    edges = {(x, top, bottom) for x0, top, x1, bottom in table.cells for x in (x0, x1)}
    for word in words:
        if not _inside(word, table.bbox):
            continue
        middle = (word["top"] + word["bottom"]) / 2
        left, right = word["x0"] + RULE_TOLERANCE, word["x1"] - RULE_TOLERANCE
        if any(left < x < right and top <= middle <= bottom for x, top, bottom in edges):
            return True
    return False


def in_cell(word: dict, table) -> bool:
    """Whether the word lies in one of the table's cells, i.e. is read with the table. A
    word in the table's box but in no cell (a column whose rules stop at the header row)
    is not in its rows: it is read as a line instead of lost."""
    return _inside(word, table.bbox) and any(_inside(word, cell) for cell in table.cells)


def _inside(word: dict, box: tuple[float, float, float, float]) -> bool:
    cx = (word["x0"] + word["x1"]) / 2
    cy = (word["top"] + word["bottom"]) / 2
    return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


def _group_lines(words: list[dict], gutter: float | None) -> list[Line]:
    """Words → lines by vertical position; on a two-column page, a row that does not
    cross the gutter is split into a left-column and a right-column line."""
    rows: list[list[dict]] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if rows:
            last = rows[-1]
            height = max(1.0, last[0]["bottom"] - last[0]["top"])
            if abs(word["top"] - last[0]["top"]) <= height * 0.5:
                last.append(word)
                continue
        rows.append([word])
    lines = []
    for row in rows:
        row.sort(key=lambda w: w["x0"])
        if gutter is None or any(w["x0"] < gutter < w["x1"] for w in row):
            lines.append(_make_line(row))
            continue
        left = [w for w in row if w["x1"] <= gutter]
        right = [w for w in row if w["x0"] >= gutter]
        lines.extend(_make_line(ws, col) for ws, col in ((left, 1), (right, 2)) if ws)
    return lines


def _make_line(words: list[dict], column: int = 0) -> Line:
    sizes = [w["size"] for w in words]
    bold_chars = sum(len(w["text"]) for w in words if "bold" in w["fontname"].lower())
    chars = sum(len(w["text"]) for w in words)
    # Words split only by a change of font (a link, a bold word before its comma) touch:
    # they get no space between them. Words of two lines of small type that a large word's
    # row took in (a 58-point title over a wallpaper of 6-point lines, Zpravodaj's cover)
    # are side by side, not touching: they share little of their height.
    text = words[0]["text"]
    starts_word = True  # whether ``prev`` begins a word (the line's first, or after a space)
    for prev, word in zip(words, words[1:], strict=False):
        touching = word["x0"] - prev["x1"] <= WORD_GAP * prev["size"] and _share_height(prev, word)
        if touching and starts_word and _is_leading_mark(prev, word):
            touching = False
        text += ("" if touching else " ") + word["text"]
        starts_word = not touching
    return Line(
        text=logical_order(text),  # pdfplumber sorts glyphs left to right: undo for Arabic, Hebrew
        top=min(w["top"] for w in words),
        bottom=max(w["bottom"] for w in words),
        x0=min(w["x0"] for w in words),
        size=round(statistics.median(sizes), 1),
        bold=bold_chars > chars / 2,
        column=column,
    )


def _is_leading_mark(mark: dict, word: dict) -> bool:
    """Whether ``mark`` is a footnote's mark set right before its text ("¹familiar footnote"
    at the foot of a page): a word of its own, as every reader takes it. A mark *after* a
    word ("secunda¹", "x²") stays glued to it, as pdftotext and PDFium read it too."""
    return (
        mark["size"] <= MARK_SIZE * word["size"]
        and mark["bottom"] < word["bottom"] - 0.1 * word["size"]  # raised
        and all(c in FOOTNOTE_MARKS for c in mark["text"])
    )


def _share_height(a: dict, b: dict) -> bool:
    """Whether two words of a row overlap by ``MIN_SHARED_HEIGHT`` of the lower one's
    height at least, as glyphs of one line do (a superscript included)."""
    shared = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
    lower = min(a["bottom"] - a["top"], b["bottom"] - b["top"])
    return shared >= MIN_SHARED_HEIGHT * lower


def _find_gutter(words: list[dict], width: float, x0: float = 0.0) -> float | None:
    """The middle x of the white band between two text columns, if the page has one.

    Word gaps in single-column text are a few points wide and wander from line to line;
    only a real gutter leaves a wide band free on every line. The page box spans ``x0`` to
    ``x0 + width`` (pdfplumber's ``page.bbox``); words reaching outside it are counted only
    where they overlap it.
    """
    if len(words) < 40:
        return None
    x_left = float(x0)
    span = int(width)
    if not 2 * MIN_GUTTER <= span <= MAX_PAGE_WIDTH:
        return None
    allowed = max(2, len(words) // 50)  # full-width titles may cross it
    lo, hi = int(span * 0.3), int(span * 0.7)
    # crossing[x] = number of words with x0 < x < x1 (x relative to the page's left edge),
    # by a difference array over the page's width.
    diff = np.zeros(span + 2, dtype=np.int32)
    for w in words:
        first = max(math.floor(w["x0"] - x_left) + 1, 0)
        last = min(math.ceil(w["x1"] - x_left) - 1, span)
        if first <= last:  # a word wholly outside the page box crosses nothing on it
            diff[first] += 1
            diff[last + 1] -= 1
    free = (np.cumsum(diff)[lo:hi] <= allowed).tolist()
    best_start, best_len, start = 0, 0, None
    for i, ok in enumerate(free + [False]):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            if i - start > best_len:
                best_start, best_len = start, i - start
            start = None
    if best_len < MIN_GUTTER:
        return None
    gutter = x_left + lo + best_start + best_len / 2
    left = sum(1 for w in words if w["x1"] <= gutter)
    right = sum(1 for w in words if w["x0"] >= gutter)
    if min(left, right) < len(words) * 0.2:
        return None
    return gutter


def _reading_order(items: list[Line | TableItem]) -> list[Line | TableItem]:
    """Full-width items above the columns, then the left column, the right, the rest."""
    columned = [it for it in items if it.column]
    if not columned:
        return sorted(items, key=lambda it: (it.top, it.x0))
    col_top = min(it.top for it in columned)
    above = [it for it in items if not it.column and it.top < col_top]
    below = [it for it in items if not it.column and it.top >= col_top]
    left = [it for it in columned if it.column == 1]
    right = [it for it in columned if it.column == 2]

    def by_top(xs: list[Line | TableItem]) -> list[Line | TableItem]:
        return sorted(xs, key=lambda it: (it.top, it.x0))

    return by_top(above) + by_top(left) + by_top(right) + by_top(below)
