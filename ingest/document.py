"""Assemble a Document from what a reader extracted: text, spans, pages, metadata, language."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ingest.base import Extracted
from ingest.contents import drop_contents
from ingest.language import detect_document_language
from ingest.metadata import document_date, document_type
from ops_search.models import BLOCK_SEP, Document, Page


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build_document(path: Path, extracted: Extracted, sha256: str, source: str) -> Document:
    """Lay the blocks end to end (``BLOCK_SEP`` between them) and record every span."""
    parts: list[str] = []
    offset = 0
    blocks = []
    for block in drop_contents(extracted.blocks, extracted.page_count):
        if not block.text:
            continue
        if parts:
            parts.append(BLOCK_SEP)
            offset += len(BLOCK_SEP)
        start = offset
        parts.append(block.text)
        offset += len(block.text)
        blocks.append(
            block.model_copy(
                update={
                    "char_start": start,
                    "char_end": offset,
                    "ocr": block.ocr or block.page in extracted.ocr_pages,
                }
            )
        )
    text = "".join(parts)

    pages = []
    for number in range(1, extracted.page_count + 1):
        on_page = [b for b in blocks if b.page == number]
        if on_page:
            start, end = on_page[0].char_start, on_page[-1].char_end
        else:  # an empty page sits, zero-width, where its text would have been
            start = end = next((b.char_start for b in blocks if b.page > number), len(text))
        pages.append(
            Page(
                number=number,
                char_start=start,
                char_end=end,
                ocr=number in extracted.ocr_pages,
                skipped=extracted.skipped_pages.get(number),
                degraded=extracted.degraded_pages.get(number),
            )
        )

    title = extracted.title or _first_heading(blocks) or path.stem.replace("-", " ").strip()
    return Document(
        id=Document.id_for(sha256),
        source=source,
        title=title,
        sha256=sha256,
        format=extracted.format,
        page_count=extracted.page_count,
        lang=detect_document_language(text, extracted.declared_lang) if text else "",
        doc_type=document_type(title, text, extracted.doc_type_hint),
        date=document_date(text),
        text=text,
        blocks=blocks,
        pages=pages,
        keywords=list(extracted.keywords),
        warnings=list(extracted.warnings),
        reader=extracted.reader,
    )


def _first_heading(blocks) -> str | None:
    for block in blocks[:10]:
        if block.kind == "heading":
            return block.text
    return None
