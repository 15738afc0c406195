"""PDF reader: pdfplumber per page (words with positions and font sizes, tables, columns).

Why pdfplumber and not pypdfium2's faster text: we need font sizes (headings), word
positions (two-column reading order, running headers/footers) and ruled tables. Measured
on this corpus it costs a few hundredths of a second per page, well under the embedding
cost of the same page, so extraction is not the bottleneck. ``x_tolerance=1.5`` keeps
justified words apart (the default glues them).

Pages without a usable text layer are rendered and OCRed (``ingest.ocr``).

One odd page must not cost the whole file, and a bug of ours must not be reported as a
corrupt file. So each page's analysis runs under a guard: when it raises, that page is read
as plain text (``ingest.pdf_plain``: pdfplumber's text, else pypdfium2's, else OCR), recorded in
``Extracted.degraded_pages`` and logged with its traceback. A file pdfminer cannot parse at
all is read by pypdfium2 (``ingest.pdfium_text``); only when that fails too is it corrupt.

Glyphs pdfminer cannot map to Unicode (its "(cid:N)" placeholders) take pypdfium2's reading
of them, or are dropped (``ingest.pdf_glyphs``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfplumber.utils import extract_words
from pdfplumber.utils.exceptions import PdfminerException

from ingest.base import Extracted, PageCallback
from ingest.clean import normalize_line, vocabulary_of
from ingest.keywords import keyword_entries
from ingest.ocr import OcrUnavailable, ocr_pages
from ingest.pdf_accents import merge_accents
from ingest.pdf_blocks import (
    _font_levels,
    _ocr_blocks,
    _page_blocks,
    _remove_running_lines,
    cell_lines,
    table_rows,
)
from ingest.pdf_encoding import correct_encodings
from ingest.pdf_glyphs import (
    PdfiumGlyphs,
    has_unmapped,
    map_unmapped,
    pdfminer_ctm,
    without_unmapped,
)
from ingest.pdf_layout import (
    WORD_GAP,
    X_TOLERANCE,
    Line,
    PageLayout,
    PlainLine,
    TableItem,
    _find_gutter,
    _group_lines,
    _is_real_table,
    _reading_order,
    cuts_words,
    in_cell,
)
from ingest.pdf_overprint import drop_overprinted
from ingest.pdf_plain import PdfiumPages, plain_blocks, plumber_lines
from ingest.pdf_rotated import split_by_angle, turned_lines
from ingest.pdf_slant import baseline_boxes
from ingest.pdf_spaced import close_even_gaps
from ingest.pdfium_text import read_with_pdfium
from ops_search.config import Settings
from ops_search.errors import CorruptFile, EmptyFile, EncryptedPDF
from ops_search.models import Block

# Fewer printable characters than this on a page with an image means "scanned".
MIN_TEXT_CHARS = 20
# A page drawn with more objects than this (a plotted figure: PSTricks and TikZ pages of
# 30,000–45,000 curve pieces) is read by pypdfium2 as plain text: pdfminer spends ≈0.25 ms
# per object (10 CPU s for one such page, measured on real TeX documentation), which put
# whole files over the time limit; pdfium counts them in a tenth of a second.
MAX_LAYOUT_OBJECTS = 15_000
# The same for a few paths of very many segments (a fractal, a field plot: 161 objects of
# 878,000 segments took pdfminer 24 CPU s): ≈27 µs per segment, so this is ≈1.3 s. A page
# of text and tables has a few hundred.
MAX_LAYOUT_SEGMENTS = 50_000

log = logging.getLogger("ops_search.ingest")

correct_encodings()  # before any document is parsed (ingest.pdf_encoding)


class _Unparsable(Exception):
    """pdfminer cannot parse the file as a whole (not one page of it); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PdfReader:
    format = "pdf"

    def read(
        self, path: Path, settings: Settings, on_page: PageCallback | None = None
    ) -> Extracted:
        _check_is_pdf(path)
        try:
            title, keywords, layouts = _analyse(path, on_page)
        except _Unparsable as failure:
            log.warning(
                "%s: pdfminer cannot parse the file (%s); reading it with pypdfium2",
                path,
                failure.reason,
                exc_info=True,
            )
            return read_with_pdfium(path, settings, failure.reason, on_page)

        extracted = Extracted(
            format="pdf", blocks=[], page_count=len(layouts), title=title, keywords=keywords
        )
        extracted.degraded_pages.update((p.number, p.degraded) for p in layouts if p.degraded)
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
        extracted.blocks = _blocks(path, layouts, ocr_text, extracted)
        extracted.ocr_pages.update(ocr_text)
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


def _describe(err: Exception) -> str:
    """What went wrong, for a person: "IndexError: index 619 is out of bounds …"."""
    return f"{type(err).__name__}: {_short(err)}"


# --- the file: open, pages, per-page guard ---------------------------------------------------


def _analyse(
    path: Path, on_page: PageCallback | None
) -> tuple[str | None, list[str], list[PageLayout]]:
    """Title and keywords, and the layout of every page. Raises ``EncryptedPDF``, or
    ``_Unparsable`` when pdfminer cannot open the file or list its pages."""
    try:
        pdf = pdfplumber.open(path)
    except PdfminerException as err:
        cause = err.args[0] if err.args else err
        if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError):
            raise EncryptedPDF(path, "encrypted PDF (password required)") from err
        raise _Unparsable(_short(cause)) from err
    except Exception as err:  # pdfminer raises many types on broken files
        raise _Unparsable(_short(err)) from err
    with pdf, PdfiumPages(path) as pdfium_pages:
        title, keywords = _metadata(path, pdf)
        try:
            pages = pdf.pages
        except Exception as err:
            raise _Unparsable(_short(err)) from err
        if not pages:
            raise _Unparsable("no pages")
        layouts = []
        for number, page in enumerate(pages, start=1):
            objects, segments = pdfium_pages.drawing_size(number, MAX_LAYOUT_SEGMENTS)
            if objects > MAX_LAYOUT_OBJECTS or segments > MAX_LAYOUT_SEGMENTS:
                why = f"graphics-heavy page ({objects:,} drawing objects, "
                why += f"{segments:,}{'+' if segments > MAX_LAYOUT_SEGMENTS else ''} path segments)"
                layout = _plain_layout(path, page, number, why, pdfium_pages, plumber=False)
            else:
                layout = _guarded_layout(path, page, number, pdfium_pages)
            page.close()  # drop pdfplumber's per-page caches as we go
            layouts.append(layout)
            if on_page and not layout.scanned:
                on_page(number, False)
    return title, keywords, layouts


def _metadata(path: Path, pdf: pdfplumber.PDF) -> tuple[str | None, list[str]]:
    """Title and keywords from the Info dictionary."""
    try:
        info = pdf.metadata or {}
    except Exception:  # a broken Info dictionary costs the title, nothing else
        log.warning("%s: cannot read the PDF's metadata", path, exc_info=True)
        return None, []
    title = info.get("Title")
    title = normalize_line(title) or None if isinstance(title, str) else None
    return title, keyword_entries([info.get("Keywords")])


def _guarded_layout(
    path: Path, page: pdfplumber.page.Page, number: int, pdfium_pages: PdfiumPages
) -> PageLayout:
    """The page's layout; when the analysis raises, the page read as plain text instead.

    Glyphs pdfminer cannot map to Unicode ("(cid:N)") take pypdfium2's reading of them, or
    are dropped where it has none either (``ingest.pdf_glyphs``): no placeholder is indexed.
    """
    try:
        chars = page.chars
        unique = drop_overprinted(chars)
        if unique is not chars:  # tables read the page's own chars: leave the copies out
            kept = {id(c) for c in unique}
            page = page.filter(lambda obj: obj.get("object_type") != "char" or id(obj) in kept)
            chars = unique
        if has_unmapped(chars):
            chars = map_unmapped(chars, _pdfium_glyphs(path, page, number, pdfium_pages))
            page = without_unmapped(page)
        return _layout(page, number, chars)
    except Exception as err:
        log.error(
            "%s: page %d: layout analysis failed; reading the page as plain text",
            path,
            number,
            exc_info=True,
        )
        why = f"layout analysis failed ({_describe(err)})"
        return _plain_layout(path, page, number, why, pdfium_pages)


def _pdfium_glyphs(
    path: Path, page: pdfplumber.page.Page, number: int, pdfium_pages: PdfiumPages
) -> PdfiumGlyphs | None:
    try:
        return pdfium_pages.glyphs(number, pdfminer_ctm(page))
    except pdfium.PdfiumError:
        log.warning("%s: page %d: pypdfium2 cannot read it", path, number, exc_info=True)
        return None


def _plain_layout(
    path: Path,
    page: pdfplumber.page.Page,
    number: int,
    why: str,
    pdfium_pages: PdfiumPages,
    plumber: bool = True,
) -> PageLayout:
    """The page as plain lines: pdfplumber's text (unless ``plumber`` is off), else
    pypdfium2's, else (no text) OCR."""
    layout = PageLayout(number=number, height=float(page.height), top=float(page.bbox[1]))
    lines: list[PlainLine] = []
    how = "read as plain text"
    try:
        lines = plumber_lines(page) if plumber else []
    except Exception:
        log.warning("%s: page %d: pdfplumber cannot read its text", path, number, exc_info=True)
    if not lines:
        how = "read as plain text with pypdfium2"
        try:
            lines = pdfium_pages.lines(number)
        except pdfium.PdfiumError:
            log.warning("%s: page %d: pypdfium2 cannot read it", path, number, exc_info=True)
    if lines:
        layout.plain_lines = lines
    else:
        layout.scanned = True
        how = "no text found, read by OCR"
    layout.degraded = f"{why}; {how}"
    return layout


# --- page layout ---------------------------------------------------------------------------


def _layout(page: pdfplumber.page.Page, number: int, chars: list[dict]) -> PageLayout:
    """The page's lines and tables in reading order; ``chars`` are its chars with their text
    mapped (``page.chars`` unless pdfminer could not map some)."""
    layout = PageLayout(number=number, height=float(page.height), top=float(page.bbox[1]))
    printable = [c for c in chars if c.get("text", "").strip()]
    if len(printable) < MIN_TEXT_CHARS and (page.images or not printable):
        layout.scanned = bool(page.images)
        if not layout.scanned and not printable:
            return layout  # a blank page
        if layout.scanned:
            return layout

    upright, turned = split_by_angle(chars)
    words = extract_words(
        close_even_gaps(baseline_boxes(merge_accents(upright))),
        x_tolerance_ratio=WORD_GAP,
        y_tolerance=3,
        extra_attrs=["size", "fontname"],
    )
    tables = [t for t in page.find_tables() if _is_real_table(t) and not cuts_words(t, words)]
    table_boxes = [t.bbox for t in tables]
    words = [w for w in words if not any(in_cell(w, table) for table in tables)]
    x0, _, x1, _ = page.bbox
    gutter = _find_gutter(words, float(x1 - x0), float(x0))
    lines = _group_lines(words, gutter) + turned_lines(turned, table_boxes)
    items: list[Line | TableItem] = list(lines)
    for table in tables:
        rows = [
            [cell_lines(cell) for cell in row] for row in table.extract(x_tolerance=X_TOLERANCE)
        ]
        tx0, top, tx1, bottom = table.bbox
        column = 0
        if gutter is not None:
            column = 1 if (tx0 + tx1) / 2 < gutter else 2
        items.append(TableItem(rows=rows, top=top, bottom=bottom, x0=tx0, column=column))
    layout.items = _reading_order(items)
    return layout


# --- blocks --------------------------------------------------------------------------------


def _blocks(
    path: Path, layouts: list[PageLayout], ocr_text: dict[int, str], extracted: Extracted
) -> list[Block]:
    """Blocks of all pages. The document-wide steps (running lines, font sizes) and each
    page's block building are guarded too: a failure costs that refinement or that page's
    structure, never the file."""
    analysed = [p for p in layouts if p.plain_lines is None]
    try:
        _remove_running_lines(analysed)
    except Exception as err:
        log.error("%s: removing running headers and footers failed", path, exc_info=True)
        extracted.warnings.append(
            f"{path}: running headers and footers were left in the text "
            f"(their detection failed: {_describe(err)})"
        )
    try:
        body_size, heading_levels = _font_levels(analysed)
    except Exception as err:
        log.error("%s: measuring font sizes failed", path, exc_info=True)
        extracted.warnings.append(
            f"{path}: headings were not detected (font size analysis failed: {_describe(err)})"
        )
        body_size, heading_levels = 0.0, {}
    vocab = vocabulary_of(
        item.text for page in analysed for item in page.items if isinstance(item, Line)
    )
    vocab |= vocabulary_of(ln.text for page in layouts for ln in page.plain_lines or [])
    vocab |= vocabulary_of(ocr_text.values())

    blocks: list[Block] = []
    for page in layouts:
        if page.number in ocr_text:
            blocks.extend(_ocr_blocks(ocr_text[page.number], page.number, vocab))
        elif page.plain_lines is not None:
            blocks.extend(plain_blocks(page.plain_lines, page.number, vocab))
        else:
            try:
                blocks.extend(_page_blocks(page, body_size, heading_levels, vocab))
            except Exception as err:
                log.error(
                    "%s: page %d: building blocks failed; reading the page as plain text",
                    path,
                    page.number,
                    exc_info=True,
                )
                blocks.extend(plain_blocks(_item_lines(page, vocab), page.number, vocab))
                extracted.degraded_pages[page.number] = (
                    f"block building failed ({_describe(err)}); read as plain text"
                )
    return blocks


def _item_lines(page: PageLayout, vocab: set[str]) -> list[PlainLine]:
    """The analysed page's lines and table rows as plain lines, in reading order."""
    lines = []
    for item in page.items:
        if isinstance(item, TableItem):
            lines.extend(PlainLine(row, item.top, item.bottom) for row in table_rows(item, vocab))
        else:
            lines.append(PlainLine(item.text, item.top, item.bottom))
    return lines
