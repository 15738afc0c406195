"""Which reader reads a file: by extension for files on disk, by content for uploads."""

from __future__ import annotations

import zipfile
from io import BytesIO
from pathlib import Path

from ingest.base import Reader
from ingest.docx import DocxReader
from ingest.html import HtmlReader
from ingest.pdf import PdfReader
from ingest.text import TextReader
from ops_search.errors import UnsupportedFormat
from ops_search.models import Format

EXTENSIONS: dict[str, Format] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
}


def reader_for_format(fmt: Format) -> Reader:
    if fmt == "pdf":
        return PdfReader()
    if fmt == "docx":
        return DocxReader()
    if fmt == "html":
        return HtmlReader()
    return TextReader(fmt)


def reader_for(path: Path) -> Reader:
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        shown = path.suffix or "(no extension)"
        supported = ", ".join(sorted(set(EXTENSIONS)))
        raise UnsupportedFormat(path, f"unsupported format {shown} (supported: {supported})")
    return reader_for_format(fmt)


def sniff_format(head: bytes) -> Format | None:
    """The format of a file by its first bytes, or None when it is none we read.

    Used for uploads, where the name proves nothing: a PDF must start like a PDF, a DOCX
    must be a zip holding word/document.xml, HTML must look like markup, text must decode.
    """
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(BytesIO(head)) as zf:
                if "word/document.xml" in zf.namelist():
                    return "docx"
        except zipfile.BadZipFile:
            return None
        return None
    sample = head[:2048].lstrip(b"\xef\xbb\xbf").lstrip().lower()
    if sample.startswith((b"<!doctype html", b"<html")) or b"<body" in sample[:1024]:
        return "html"
    if b"\x00" in head[:4096]:
        return None
    return "txt"
