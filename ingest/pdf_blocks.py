"""From page layouts to blocks: running headers and footers dropped, headings found by font
size, lines joined into paragraphs, tables kept as rows."""

from __future__ import annotations

import re
from collections import Counter

from ingest.bidi import logical_order
from ingest.clean import join_lines, normalize_line
from ingest.pdf_layout import Line, PageLayout, TableItem
from ops_search.models import Block

# Top and bottom bands of the page where running headers and footers live.
MARGIN_BAND = 0.12
_DIGITS_RE = re.compile(r"\d+")
_PAGE_NUMBER_RE = re.compile(
    r"^(?:side|s\.|page|p\.)?\s*[-–—]?\s*\d{1,4}\s*[-–—]?\s*(?:(?:af|of|/)\s*\d{1,4})?$",
    re.IGNORECASE,
)


# --- running headers and footers -----------------------------------------------------------


def _running_key(text: str) -> str:
    return _DIGITS_RE.sub("#", " ".join(text.lower().split()))


def _remove_running_lines(pages: list[PageLayout]) -> None:
    """Drop lines in the top/bottom bands that repeat across pages, digits ignored
    ("Side 3 af 12" ≡ "Side 4 af 12"), and lone page numbers in those bands."""
    candidates: Counter[str] = Counter()
    text_pages = [p for p in pages if p.items]
    for page in text_pages:
        keys = {
            _running_key(ln.text)
            for ln in page.items
            if isinstance(ln, Line) and _in_margin(ln, page)
        }
        candidates.update(keys)
    threshold = max(2, (len(text_pages) + 1) // 2)
    running = {key for key, n in candidates.items() if n >= threshold}
    for page in text_pages:
        page.items = [
            it
            for it in page.items
            if not (
                isinstance(it, Line)
                and _in_margin(it, page)
                and (_running_key(it.text) in running or _PAGE_NUMBER_RE.match(it.text.strip()))
            )
        ]


def _in_margin(line: Line, page: PageLayout) -> bool:
    top, bottom = line.top - page.top, line.bottom - page.top  # from the page box's top edge
    return bottom <= page.height * MARGIN_BAND or top >= page.height * (1 - MARGIN_BAND)


# --- blocks ----------------------------------------------------------------------------------


COVER_MIN_PAGES = 4  # below this, page 1's big title heads the document


def _font_levels(pages: list[PageLayout]) -> tuple[float, dict[float, int]]:
    """Body font size (most characters) and heading level per larger size (1 = largest).

    A size found only on the cover (the first page of a document of several) is the cover's
    lettering, not a level of the document's sections: taken as one, the cover's last line
    ("Udgivelsesdato: 31.01.2024") became the root of every section path after it."""
    weight: Counter[float] = Counter()
    seen_on: dict[float, set[int]] = {}
    for page in pages:
        for it in page.items:
            if isinstance(it, Line):
                weight[it.size] += len(it.text)
                seen_on.setdefault(it.size, set()).add(page.number)
    if not weight:
        return 0.0, {}
    body = weight.most_common(1)[0][0]
    cover = {pages[0].number} if len(pages) >= COVER_MIN_PAGES else set()
    bigger = sorted((s for s in weight if s >= body * 1.15 and seen_on[s] != cover), reverse=True)
    return body, {size: level for level, size in enumerate(bigger[:4], start=1)}


def _is_heading(line: Line, body: float, levels: dict[float, int]) -> int:
    if line.size in levels and len(line.text.split()) <= 20:
        return levels[line.size]
    # A short bold line in body size is a low-level heading, unless it is running text.
    short_bold = line.bold and abs(line.size - body) < 0.5 and len(line.text.split()) <= 12
    if short_bold and not line.text.rstrip().endswith((".", ",", ";")):
        return len(levels) + 1
    return 0


def _page_blocks(
    page: PageLayout, body: float, levels: dict[float, int], vocab: set[str]
) -> list[Block]:
    blocks: list[Block] = []
    para: list[Line] = []
    heading: list[Line] = []
    heading_level = 0

    def flush_para() -> None:
        if para:
            text = join_lines((ln.text for ln in para), vocab)
            if text:
                blocks.append(Block(kind="text", text=text, page=page.number))
            para.clear()

    def flush_heading() -> None:
        nonlocal heading_level
        if heading:
            text = join_lines((ln.text for ln in heading), vocab)
            if text:
                blocks.append(
                    Block(kind="heading", text=text, page=page.number, level=heading_level)
                )
            heading.clear()
            heading_level = 0

    prev: Line | None = None
    for item in page.items:
        if isinstance(item, TableItem):
            flush_para()
            flush_heading()
            text = "\n".join(table_rows(item, vocab))
            if text:
                blocks.append(Block(kind="table", text=text, page=page.number))
            prev = None
            continue
        level = _is_heading(item, body, levels)
        if level:
            flush_para()
            if heading and (level != heading_level or _gap(prev, item) > item.size * 1.2):
                flush_heading()
            heading.append(item)
            heading_level = level
        else:
            flush_heading()
            if para and (_new_paragraph(prev, item) or prev is None):
                flush_para()
            para.append(item)
        prev = item
    flush_para()
    flush_heading()
    return blocks


def _gap(prev: Line | None, line: Line) -> float:
    if prev is None:
        return 0.0
    return line.top - prev.bottom


def _new_paragraph(prev: Line | None, line: Line) -> bool:
    if prev is None or prev.column != line.column:
        return True
    if abs(prev.size - line.size) > 0.6:
        return True
    # Lines of a paragraph sit about a line apart; a blank line's worth more is a break.
    return _gap(prev, line) > line.size * 0.8 or line.top < prev.top


def cell_lines(cell: str | None) -> str:
    """A table cell as pdfplumber extracts it, its lines kept apart ("\n") for
    ``table_rows`` to join like a paragraph's; right-to-left words in reading order."""
    lines = (normalize_line(logical_order(" ".join(ln.split()))) for ln in (cell or "").split("\n"))
    return "\n".join(ln for ln in lines if ln)


def table_rows(table: TableItem, vocab: set[str]) -> list[str]:
    """The table's non-empty rows, cells joined by " | ". A cell's lines are joined as a
    paragraph's are: a word hyphenated at a cell's line end ("aflast-" / "ningsophold") is
    one word again (it was two, neither of them a word)."""
    rows = [[join_lines(cell.split("\n"), vocab) for cell in row] for row in table.rows]
    return [" | ".join(row) for row in rows if any(row)]


def _ocr_blocks(text: str, number: int, vocab: set[str]) -> list[Block]:
    blocks = []
    for para in re.split(r"\n\s*\n", text):
        joined = join_lines(para.splitlines(), vocab)
        if joined:
            blocks.append(Block(kind="text", text=joined, page=number, ocr=True))
    return blocks
