"""Simple ways to read a PDF page when the layout analysis cannot: plain lines with their
vertical positions, and paragraphs cut from them by line gaps.

Two sources: pdfplumber's plain text lines (the same parse as the analysis, none of the
geometry) and pypdfium2's text (another PDF parser altogether, for pages or files pdfminer
cannot parse). No tables, headings or columns: the text and its page are what matter.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ingest.bidi import logical_order
from ingest.clean import join_lines
from ingest.pdf_glyphs import Matrix, PdfiumGlyphs
from ingest.pdf_layout import X_TOLERANCE, PlainLine
from ingest.pdf_overprint import GlyphGrid
from ops_search.models import Block

# pdfium's mark for a hyphen at a line end. It joins such a line with the next one; we break
# the line there again and let join_lines judge the hyphen, as for every other reader.
_PDFIUM_LINE_END_HYPHEN = 2
# A line further below the previous one than this many ordinary line pitches starts a new
# paragraph (a blank line's worth of space between them).
PARAGRAPH_GAP = 1.4


def plumber_lines(page) -> list[PlainLine]:
    """pdfplumber's plain text lines of the page (``extract_text``'s lines, with positions),
    right-to-left words in reading order (pypdfium2's lines are in reading order already)."""
    return [
        PlainLine(logical_order(line["text"]), float(line["top"]), float(line["bottom"]))
        for line in page.extract_text_lines(x_tolerance=X_TOLERANCE, return_chars=False)
        if line["text"].strip()
    ]


def pdfium_lines(page: pdfium.PdfPage) -> list[PlainLine]:
    """pypdfium2's text of the page, line by line; raises ``pdfium.PdfiumError``."""
    textpage = page.get_textpage()
    try:
        height = page.get_height()
        lines: list[PlainLine] = []
        units: list[int] = []
        top, bottom = float("inf"), float("-inf")
        placed = GlyphGrid()

        def flush() -> None:
            nonlocal top, bottom
            text = (
                "".join(map(chr, units))
                .encode("utf-16", "surrogatepass")
                .decode("utf-16", "replace")
            )
            if text.strip():
                if top > bottom:  # only generated characters: place it under the previous line
                    top = bottom = lines[-1].bottom if lines else 0.0
                lines.append(PlainLine(text=text, top=top, bottom=bottom))
            units.clear()
            top, bottom = float("inf"), float("-inf")

        for i in range(textpage.count_chars()):
            code = pdfium_c.FPDFText_GetUnicode(textpage, i)
            if code in (10, 13):
                flush()
                continue
            if code == _PDFIUM_LINE_END_HYPHEN:
                # After a letter it is the hyphen; elsewhere a glyph without a Unicode value
                # (TeX's bullet), dropped like every control character.
                if units and chr(units[-1]).isalnum():
                    units.append(ord("-"))
                    flush()
                continue
            if code > 32 and not pdfium_c.FPDFText_IsGenerated(textpage, i):
                left, low, right, high = textpage.get_charbox(i)
                if not placed.place((code,), left, low):
                    continue  # overprinted (ingest.pdf_overprint)
                if high > low:
                    top, bottom = min(top, height - high), max(bottom, height - low)
            units.append(code)
        flush()
        return lines
    finally:
        textpage.close()


def plain_blocks(lines: list[PlainLine], number: int, vocab: set[str]) -> list[Block]:
    """Text blocks of one page from its plain lines: a new paragraph where the gap to the
    previous line is clearly wider than the page's usual line pitch, or the text jumps back
    up (a new column); line-end hyphens undone as everywhere else."""
    # Steps are measured between bottoms, which do not depend on a line's capitals. The usual
    # pitch is the lower median of the steps, leaving out the tiny ones of pieces of one line
    # (a superscript, a change of font).
    height = statistics.median(line.bottom - line.top for line in lines) if lines else 0.0
    steps = [b.bottom - a.bottom for a, b in zip(lines, lines[1:], strict=False)]
    pitches = [step for step in steps if step > max(height / 2, 0.0)]
    pitch = statistics.median_low(pitches) if pitches else 0.0
    paragraphs: list[list[str]] = []
    prev: PlainLine | None = None
    for line in lines:
        step = line.bottom - prev.bottom if prev else 0.0
        if prev is None or step < -pitch / 2 or (pitch > 0 and step > pitch * PARAGRAPH_GAP):
            paragraphs.append([])
        paragraphs[-1].append(line.text)
        prev = line
    blocks = []
    for para in paragraphs:
        text = join_lines(para, vocab)
        if text:
            blocks.append(Block(kind="text", text=text, page=number))
    return blocks


class PdfiumPages:
    """pypdfium2's reading of single pages of a file, opened on first use (most files
    never need it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pdf: pdfium.PdfDocument | None = None

    def _document(self) -> pdfium.PdfDocument:
        if self._pdf is None:
            self._pdf = pdfium.PdfDocument(str(self.path))
        return self._pdf

    def lines(self, number: int) -> list[PlainLine]:
        """Lines of 1-based page ``number``; raises ``pdfium.PdfiumError``."""
        page = self._document()[number - 1]
        try:
            return pdfium_lines(page)
        finally:
            page.close()

    def glyphs(self, number: int, ctm: Matrix) -> PdfiumGlyphs:
        """pdfium's characters of 1-based page ``number`` by glyph origin, in the coordinates
        ``ctm`` gives; raises ``pdfium.PdfiumError``."""
        page = self._document()[number - 1]
        try:
            return PdfiumGlyphs(page, ctm)
        finally:
            page.close()

    def drawing_size(self, number: int, max_segments: int) -> tuple[int, int]:
        """How many objects (text runs, paths, images) draw page ``number``, and how many
        segments its paths have, counted up to just past ``max_segments``; (0, 0) when
        pdfium cannot tell (pdfminer then reads the page as usual)."""
        try:
            page = self._document()[number - 1]
        except (pdfium.PdfiumError, IndexError):
            return 0, 0
        try:
            objects = max(0, int(pdfium_c.FPDFPage_CountObjects(page.raw)))
            segments = 0
            for i in range(objects):
                obj = pdfium_c.FPDFPage_GetObject(page.raw, i)
                if pdfium_c.FPDFPageObj_GetType(obj) == pdfium_c.FPDF_PAGEOBJ_PATH:
                    segments += max(0, int(pdfium_c.FPDFPath_CountSegments(obj)))
                    if segments > max_segments:
                        break
            return objects, segments
        finally:
            page.close()

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()
            self._pdf = None

    def __enter__(self) -> PdfiumPages:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
