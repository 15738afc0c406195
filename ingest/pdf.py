"""PDF reader: pdfplumber per page (words with positions and font sizes, tables, columns).

Why pdfplumber and not pypdfium2's faster text: we need font sizes (headings), word
positions (two-column reading order, running headers/footers) and ruled tables. Measured
on this corpus it costs a few hundredths of a second per page, well under the embedding
cost of the same page, so extraction is not the bottleneck. ``x_tolerance=1.5`` keeps
justified words apart (the default glues them).

Pages without a usable text layer are rendered and OCRed (``ingest.ocr``).
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfplumber.utils.exceptions import PdfminerException

from ingest.base import Extracted, PageCallback
from ingest.clean import join_lines, normalize_line, vocabulary_of
from ingest.ocr import OcrUnavailable, ocr_pages
from ops_search.config import Settings
from ops_search.errors import CorruptFile, EmptyFile, EncryptedPDF
from ops_search.models import Block

X_TOLERANCE = 1.5
# Fewer printable characters than this on a page with an image means "scanned".
MIN_TEXT_CHARS = 20
# Top and bottom bands of the page where running headers and footers live.
MARGIN_BAND = 0.12
_DIGITS_RE = re.compile(r"\d+")
_PAGE_NUMBER_RE = re.compile(
    r"^(?:side|s\.|page|p\.)?\s*[-–—]?\s*\d{1,4}\s*[-–—]?\s*(?:(?:af|of|/)\s*\d{1,4})?$",
    re.IGNORECASE,
)


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
class PageLayout:
    number: int
    height: float
    items: list[Line | TableItem] = field(default_factory=list)
    scanned: bool = False


class PdfReader:
    format = "pdf"

    def read(
        self, path: Path, settings: Settings, on_page: PageCallback | None = None
    ) -> Extracted:
        _check_is_pdf(path)
        layouts: list[PageLayout] = []
        title: str | None = None
        try:
            with pdfplumber.open(path) as pdf:
                meta_title = (pdf.metadata or {}).get("Title")
                if isinstance(meta_title, str) and meta_title.strip():
                    title = normalize_line(meta_title)
                for number, page in enumerate(pdf.pages, start=1):
                    layouts.append(_layout(page, number))
                    page.close()  # drop pdfplumber's per-page caches as we go
                    if on_page and not layouts[-1].scanned:
                        on_page(number, False)
        except PdfminerException as err:
            cause = err.args[0] if err.args else err
            if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError):
                raise EncryptedPDF(path, "encrypted PDF (password required)") from err
            raise CorruptFile(path, f"corrupt PDF ({_short(cause)})") from err
        except (EncryptedPDF, CorruptFile):
            raise
        except Exception as err:  # pdfminer raises many types on broken files
            raise CorruptFile(path, f"corrupt PDF ({_short(err)})") from err
        if not layouts:
            raise CorruptFile(path, "PDF has no pages")

        extracted = Extracted(format="pdf", blocks=[], page_count=len(layouts), title=title)
        scanned = [p.number for p in layouts if p.scanned]
        ocr_text: dict[int, str] = {}
        if scanned:
            try:
                ocr_text = ocr_pages(
                    path, scanned, settings, on_done=lambda n: on_page and on_page(n, True)
                )
            except OcrUnavailable as err:
                for n in scanned:
                    extracted.skipped_pages[n] = f"no text layer and OCR unavailable: {err}"
                extracted.warnings.append(
                    f"{path}: {len(scanned)} scanned page(s) skipped: OCR unavailable ({err})"
                )

        _remove_running_lines(layouts)
        body_size, heading_levels = _font_levels(layouts)
        vocab = vocabulary_of(
            item.text for page in layouts for item in page.items if isinstance(item, Line)
        )
        vocab |= vocabulary_of(ocr_text.values())
        for page in layouts:
            if page.number in ocr_text:
                extracted.ocr_pages.add(page.number)
                extracted.blocks.extend(_ocr_blocks(ocr_text[page.number], page.number, vocab))
            else:
                extracted.blocks.extend(_page_blocks(page, body_size, heading_levels, vocab))
        return extracted


def _check_is_pdf(path: Path) -> None:
    with open(path, "rb") as fh:
        head = fh.read(1024)
    if not head:
        raise EmptyFile(path, "empty file")
    if b"%PDF-" not in head:
        raise CorruptFile(path, "not a PDF (no %PDF header; wrong file extension?)")


def _short(err: object) -> str:
    text = str(err) or type(err).__name__
    return text if len(text) < 120 else text[:117] + "..."


# --- page layout -------------------------------------------------------------------------


def _layout(page: pdfplumber.page.Page, number: int) -> PageLayout:
    layout = PageLayout(number=number, height=float(page.height))
    chars = [c for c in page.chars if c.get("text", "").strip()]
    if len(chars) < MIN_TEXT_CHARS and (page.images or not chars):
        layout.scanned = bool(page.images)
        if not layout.scanned and not chars:
            return layout  # a blank page
        if layout.scanned:
            return layout

    tables = [t for t in page.find_tables() if _is_real_table(t)]
    table_boxes = [t.bbox for t in tables]
    words = page.extract_words(
        x_tolerance=X_TOLERANCE, y_tolerance=3, extra_attrs=["size", "fontname"]
    )
    words = [w for w in words if not any(_inside(w, box) for box in table_boxes)]
    gutter = _find_gutter(words, float(page.width))
    lines = _group_lines(words, gutter)
    items: list[Line | TableItem] = list(lines)
    for table in tables:
        rows = [
            [normalize_line(" ".join((cell or "").split())) for cell in row]
            for row in table.extract(x_tolerance=X_TOLERANCE)
        ]
        x0, top, _, bottom = table.bbox
        column = 0
        if gutter is not None:
            column = 1 if (x0 + table.bbox[2]) / 2 < gutter else 2
        items.append(TableItem(rows=rows, top=top, bottom=bottom, x0=x0, column=column))
    layout.items = _reading_order(items)
    return layout


def _is_real_table(table: pdfplumber.table.Table) -> bool:
    rows = table.extract()
    return len(rows) >= 2 and max((len(r) for r in rows), default=0) >= 2


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
    # they get no space between them.
    text = words[0]["text"]
    for prev, word in zip(words, words[1:], strict=False):
        text += ("" if word["x0"] - prev["x1"] <= X_TOLERANCE else " ") + word["text"]
    return Line(
        text=text,
        top=min(w["top"] for w in words),
        bottom=max(w["bottom"] for w in words),
        x0=min(w["x0"] for w in words),
        size=round(statistics.median(sizes), 1),
        bold=bold_chars > chars / 2,
        column=column,
    )


# A gutter is a vertical band at least this wide (points) that almost no word crosses.
MIN_GUTTER = 8


def _find_gutter(words: list[dict], width: float) -> float | None:
    """The middle x of the white band between two text columns, if the page has one.

    Word gaps in single-column text are a few points wide and wander from line to line;
    only a real gutter leaves a wide band free on every line.
    """
    if len(words) < 40:
        return None
    allowed = max(2, len(words) // 50)  # full-width titles may cross it
    lo, hi = int(width * 0.3), int(width * 0.7)
    # crossing[x] = number of words with x0 < x < x1, by a difference array.
    diff = np.zeros(int(width) + 2, dtype=np.int32)
    for w in words:
        first, last = math.floor(w["x0"]) + 1, math.ceil(w["x1"]) - 1
        if first <= last:
            diff[max(first, 0)] += 1
            diff[min(last, int(width)) + 1] -= 1
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
    gutter = lo + best_start + best_len / 2
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
            if isinstance(ln, Line) and _in_margin(ln, page.height)
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
                and _in_margin(it, page.height)
                and (_running_key(it.text) in running or _PAGE_NUMBER_RE.match(it.text.strip()))
            )
        ]


def _in_margin(line: Line, height: float) -> bool:
    return line.bottom <= height * MARGIN_BAND or line.top >= height * (1 - MARGIN_BAND)


# --- blocks ----------------------------------------------------------------------------------


def _font_levels(pages: list[PageLayout]) -> tuple[float, dict[float, int]]:
    """Body font size (most characters) and heading level per larger size (1 = largest)."""
    weight: Counter[float] = Counter()
    for page in pages:
        for it in page.items:
            if isinstance(it, Line):
                weight[it.size] += len(it.text)
    if not weight:
        return 0.0, {}
    body = weight.most_common(1)[0][0]
    bigger = sorted((s for s in weight if s >= body * 1.15), reverse=True)
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
            text = "\n".join(" | ".join(row) for row in item.rows if any(row))
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


def _ocr_blocks(text: str, number: int, vocab: set[str]) -> list[Block]:
    blocks = []
    for para in re.split(r"\n\s*\n", text):
        joined = join_lines(para.splitlines(), vocab)
        if joined:
            blocks.append(Block(kind="text", text=joined, page=number, ocr=True))
    return blocks
