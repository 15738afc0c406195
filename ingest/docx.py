"""DOCX reader (python-docx): heading styles → sections, list paragraphs, tables, page breaks."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from ingest.base import Extracted, PageCallback
from ingest.clean import normalize_line
from ops_search.config import Settings
from ops_search.errors import CorruptFile, EmptyFile
from ops_search.models import Block

_HEADING_RE = re.compile(r"^(?:heading|overskrift)\s*(\d)$", re.IGNORECASE)


class DocxReader:
    format = "docx"

    def read(
        self, path: Path, settings: Settings, on_page: PageCallback | None = None
    ) -> Extracted:
        if path.stat().st_size == 0:
            raise EmptyFile(path, "empty file")
        try:
            document = docx.Document(str(path))
        except (zipfile.BadZipFile, KeyError, ValueError) as err:
            raise CorruptFile(path, f"not a valid DOCX file ({err})") from err
        blocks = list(_blocks(document))
        page_count = max((b.page for b in blocks), default=1)
        if on_page:
            for n in range(1, page_count + 1):
                on_page(n, False)
        title = normalize_line(document.core_properties.title or "") or None
        return Extracted(format="docx", blocks=blocks, page_count=page_count, title=title)


def _blocks(document: DocxDocument):
    """Body items in order. Consecutive list paragraphs become one block, a line each."""
    page = 1
    list_lines: list[str] = []

    def flush_list():
        nonlocal list_lines
        if list_lines:
            yield Block(kind="text", text="\n".join(list_lines), page=page)
            list_lines = []

    for element in document.element.body.iterchildren():
        if element.tag == qn("w:p"):
            paragraph = Paragraph(element, document)
            text = normalize_line(paragraph.text)
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            level = _heading_level(style)
            is_list = "list" in style.lower() or element.find(".//" + qn("w:numPr")) is not None
            if text:
                if is_list and not level:
                    list_lines.append(text)
                else:
                    yield from flush_list()
                    if level:
                        yield Block(kind="heading", text=text, page=page, level=level)
                    else:
                        yield Block(kind="text", text=text, page=page)
            # A hard page break inside the paragraph starts the next page after it.
            breaks = element.findall(".//" + qn("w:br"))
            page += sum(1 for br in breaks if br.get(qn("w:type")) == "page")
        elif element.tag == qn("w:tbl"):
            yield from flush_list()
            rows = []
            for row in Table(element, document).rows:
                cells = [normalize_line(" ".join(c.text.split())) for c in row.cells]
                if any(cells):
                    rows.append(" | ".join(cells))
            if rows:
                yield Block(kind="table", text="\n".join(rows), page=page)
    yield from flush_list()


def _heading_level(style: str) -> int:
    if style.lower() == "title":
        return 1
    match = _HEADING_RE.match(style.strip())
    return int(match.group(1)) if match else 0
