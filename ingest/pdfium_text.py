"""Whole-file fallback: read a PDF that pdfminer cannot parse with pypdfium2, page by page.

pdfium (Chrome's PDF engine) repairs damaged files that pdfminer gives up on ("Invalid
dictionary construct", broken cross-reference tables). What it gives is text and page
numbers; no tables, headings or column order. Pages without text are OCRed as usual.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ingest.base import Extracted, PageCallback
from ingest.clean import normalize_line, vocabulary_of
from ingest.keywords import keyword_entries
from ingest.ocr import OcrUnavailable, ocr_pages
from ingest.pdf_blocks import _ocr_blocks
from ingest.pdf_layout import PlainLine
from ingest.pdf_plain import pdfium_lines, plain_blocks
from ops_search.config import Settings
from ops_search.errors import CorruptFile, EncryptedPDF

READER = "pypdfium2"
# Fewer printable characters than this on a page with an image means "scanned".
MIN_TEXT_CHARS = 20

log = logging.getLogger("ops_search.ingest")


def read_with_pdfium(
    path: Path, settings: Settings, why: str, on_page: PageCallback | None = None
) -> Extracted:
    """Read ``path`` with pypdfium2; ``why`` says why pdfminer could not. Raises
    ``EncryptedPDF`` or ``CorruptFile`` when pdfium cannot open the file either."""
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as err:
        if "password" in str(err).lower():
            raise EncryptedPDF(path, "encrypted PDF (password required)") from err
        raise CorruptFile(path, f"corrupt PDF ({why}; pypdfium2: {_reason(err)})") from err
    try:
        return _read(pdf, path, settings, why, on_page)
    finally:
        pdf.close()


def _read(
    pdf: pdfium.PdfDocument,
    path: Path,
    settings: Settings,
    why: str,
    on_page: PageCallback | None,
) -> Extracted:
    count = len(pdf)
    if count == 0:
        if why == "no pages":
            raise CorruptFile(path, "PDF has no pages")
        raise CorruptFile(path, f"corrupt PDF ({why}; pypdfium2 finds no pages)")
    extracted = Extracted(
        format="pdf",
        blocks=[],
        page_count=count,
        title=_title(pdf),
        keywords=_keywords(pdf),
        reader=READER,
    )
    extracted.warnings.append(
        f"{path}: pdfminer could not parse the file ({why}); read with pypdfium2 instead "
        "(text only: no tables, headings or column order)"
    )
    lines: dict[int, list[PlainLine]] = {}
    scanned: list[int] = []
    for number in range(1, count + 1):
        try:
            page = pdf[number - 1]
        except pdfium.PdfiumError as err:
            extracted.skipped_pages[number] = f"pypdfium2 cannot read the page ({_reason(err)})"
            continue
        try:
            page_lines = pdfium_lines(page)
            if _looks_scanned(page, page_lines):
                scanned.append(number)
                continue
        except pdfium.PdfiumError as err:
            extracted.skipped_pages[number] = f"pypdfium2 cannot read the page ({_reason(err)})"
            continue
        finally:
            page.close()
        lines[number] = page_lines
        if on_page:
            on_page(number, False)

    ocr_text = _ocr(path, scanned, settings, extracted, on_page)
    vocab = vocabulary_of(line.text for page_lines in lines.values() for line in page_lines)
    vocab |= vocabulary_of(ocr_text.values())
    for number in range(1, count + 1):
        if number in ocr_text:
            extracted.ocr_pages.add(number)
            extracted.blocks.extend(_ocr_blocks(ocr_text[number], number, vocab))
        elif number in lines:
            extracted.blocks.extend(plain_blocks(lines[number], number, vocab))
    return extracted


def _looks_scanned(page: pdfium.PdfPage, lines: list[PlainLine]) -> bool:
    """No text, or next to none on a page with an image: the page is a picture of text."""
    printable = sum(len("".join(line.text.split())) for line in lines)
    if printable >= MIN_TEXT_CHARS:
        return False
    if printable == 0:
        return True
    return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))


def _ocr(
    path: Path,
    numbers: list[int],
    settings: Settings,
    extracted: Extracted,
    on_page: PageCallback | None,
) -> dict[int, str]:
    if not numbers:
        return {}
    try:
        return ocr_pages(path, numbers, settings, on_done=lambda n: on_page and on_page(n, True))
    except OcrUnavailable as err:
        problem = f"OCR unavailable: {err}"
    except pdfium.PdfiumError as err:  # a page pdfium could read but not render
        problem = f"pypdfium2 cannot render the page for OCR ({_reason(err)})"
    for number in numbers:
        extracted.skipped_pages[number] = f"no text layer and {problem}"
    extracted.warnings.append(f"{path}: {len(numbers)} scanned page(s) skipped: {problem}")
    return {}


def _title(pdf: pdfium.PdfDocument) -> str | None:
    try:
        title = pdf.get_metadata_value("Title")
    except pdfium.PdfiumError:
        return None
    return normalize_line(title or "") or None


def _keywords(pdf: pdfium.PdfDocument) -> list[str]:
    try:
        return keyword_entries([pdf.get_metadata_value("Keywords")])
    except pdfium.PdfiumError:
        return []


def _reason(err: Exception) -> str:
    text = str(err) or type(err).__name__
    return text if len(text) < 120 else text[:117] + "..."
