"""DOCX reader (python-docx): heading styles → sections, list paragraphs, tables, page breaks.

The package is checked by ``ingest.safezip`` before python-docx sees it (zip bombs, damaged
archives, DTDs), and whatever python-docx, zipfile or lxml still raise becomes a
``CorruptFile`` naming the problem: one bad file must never stop a batch.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.opc.exceptions import OpcError
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from lxml import etree

from ingest.base import Extracted, PageCallback
from ingest.clean import normalize_line
from ingest.keywords import keyword_entries
from ingest.safezip import check_zip
from ingest.text import refuse_oversized, utf8_size
from ops_search.config import Settings
from ops_search.errors import CorruptFile, EmptyFile, IngestError
from ops_search.models import Block

_HEADING_RE = re.compile(r"^(?:heading|overskrift)\s*(\d)$", re.IGNORECASE)
# Word's "toc 1".."toc 9" and "TOC Heading", LibreOffice's "Contents 1", "Contents Heading"
# (a TOC Word wraps in a content control, w:sdt, is not read at all).
_CONTENTS_STYLE_RE = re.compile(
    r"(?:toc|contents|indholdsfortegnelse)\s*(?:\d|heading|overskrift)", re.IGNORECASE
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word 97–2003 and encrypted Word files
_NOT_ZIP = "not a valid DOCX file (truncated or damaged zip archive)"


class DocxReader:
    format = "docx"

    def read(
        self, path: Path, settings: Settings, on_page: PageCallback | None = None
    ) -> Extracted:
        with open(path, "rb") as fh:
            head = fh.read(8)
        if not head:
            raise EmptyFile(path, "empty file")
        if head == _OLE_MAGIC:
            # An encrypted DOCX is stored in an OLE container too, so both causes are named.
            raise CorruptFile(
                path,
                "not a DOCX file but an OLE container: an old Word .doc file or a "
                "password-protected document (save it as .docx without a password)",
            )
        check_zip(path, "DOCX")
        try:
            document = docx.Document(str(path))
            blocks = list(_blocks(document))
            title = normalize_line(document.core_properties.title or "") or None
            keywords = keyword_entries([document.core_properties.keywords])
        except (IngestError, MemoryError, OSError):  # OSError: the file itself (the caller's)
            raise
        except Exception as err:  # python-docx raises many types on bad input: name them all
            raise CorruptFile(path, _explain(path, err)) from err
        refuse_oversized(path, sum(utf8_size(b.text) for b in blocks), settings)
        page_count = max((b.page for b in blocks), default=1)
        if on_page:
            for n in range(1, page_count + 1):
                on_page(n, False)
        return Extracted(
            format="docx", blocks=blocks, page_count=page_count, title=title, keywords=keywords
        )


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
            if _CONTENTS_STYLE_RE.match(style.strip()):
                text = ""  # a table of contents' entry: navigation (see ingest/contents.py)
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
            rows = _table_rows(element, document)
            if rows:
                yield Block(kind="table", text="\n".join(rows), page=page)
    yield from flush_list()


def _table_rows(table, parent) -> list[str]:
    """One line per row, cells separated by " | ". Each ``w:tc`` is read once: python-docx's
    ``row.cells`` repeats a merged cell for every grid column it spans."""
    rows = []
    for tr in table.iterchildren(qn("w:tr")):
        cells = [_cell_text(tc, parent) for tc in tr.iterchildren(qn("w:tc"))]
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def _cell_text(tc, parent) -> str:
    """A cell's paragraphs, and a nested table flattened into it ("a / b; c / d"), which
    python-docx's ``cell.text`` leaves out. Nesting is bounded: lxml refuses XML deeper
    than 256 elements."""
    parts = []
    for child in tc.iterchildren():
        if child.tag == qn("w:p"):
            parts.append(normalize_line(Paragraph(child, parent).text))
        elif child.tag == qn("w:tbl"):
            parts.append("; ".join(r.replace(" | ", " / ") for r in _table_rows(child, parent)))
    return " ".join(p for p in parts if p)


def _heading_level(style: str) -> int:
    if style.lower() == "title":
        return 1
    match = _HEADING_RE.match(style.strip())
    return int(match.group(1)) if match else 0


# --- what went wrong, in words ---------------------------------------------------------------


def _explain(path: Path, err: Exception) -> str:
    if isinstance(err, etree.XMLSyntaxError):
        part, message = _damaged_part(path) or ("", str(err))
        where = f"DOCX part {part}" if part else "a DOCX part"
        return f"{where} is damaged (XML error: {_xml_problem(message)})"
    if isinstance(err, (OpcError, zipfile.BadZipFile)):
        return _NOT_ZIP
    if isinstance(err, KeyError):
        missing = re.search(r"named '([^']+)'", str(err))
        return f"not a Word document (it has no {missing.group(1) if missing else err})"
    if isinstance(err, ValueError) and "not a Word file" in str(err):
        content_type = str(err).rsplit("content type is", 1)[-1].strip(" '")
        return f"not a Word document (its main part is {content_type})"
    return f"python-docx could not read it ({type(err).__name__}: {err})"


def _xml_problem(message: str) -> str:
    """libxml2's complaint, with its resource limits said for a person."""
    if "Excessive depth" in message:
        return "elements nested more than 256 levels deep; " + message
    if "amplification" in message:
        return "entities that expand without bound; " + message
    return message


def _damaged_part(path: Path) -> tuple[str, str] | None:
    """Which XML part lxml cannot parse, and why. Only called after a failure, and only on
    a package ``check_zip`` has bounded; elements are dropped as they end, so memory stays
    small however large the part."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.lower().endswith((".xml", ".rels")):
                continue
            try:
                with archive.open(info) as member:
                    events = etree.iterparse(
                        member, events=("end",), resolve_entities=False, no_network=True
                    )
                    for _, element in events:
                        element.clear(keep_tail=False)
            except etree.XMLSyntaxError as err:
                return info.filename, str(err)
    return None
