"""The domain types that flow through the pipeline: Document → Block/Page → Chunk → Hit/Citation.

One name per concept, used the same way in payloads, the API and tests.

Invariants the rest of the code relies on:
- ``Document.text`` is the document's extracted, cleaned text: its blocks joined by ``BLOCK_SEP``.
- ``Block.char_start/char_end`` and ``Chunk.char_start/char_end`` index into ``Document.text``;
  ``chunk.text == document.text[chunk.char_start:chunk.char_end]`` always holds.
- A block never spans two pages, so a chunk's ``page_start/page_end`` are exact.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from ops_search.access import DEFAULT_COLLECTION

BLOCK_SEP = "\n\n"

Format = Literal["pdf", "docx", "html", "txt", "md"]
BlockKind = Literal["heading", "text", "table"]
ChunkKind = Literal["text", "table", "decision"]
DocType = Literal["rapport", "aftale", "referat", "pressemeddelelse", "artikel"]

# Namespace for chunk ids: uuid5(namespace, f"{sha256}:{ordinal}") is stable across re-ingests.
CHUNK_NAMESPACE = uuid.UUID("5b0f6c1e-8d1a-4c55-9a35-0b1c0e8f0a57")


class Block(BaseModel):
    """A unit of extracted text on one page: a heading, a paragraph or a table."""

    kind: BlockKind
    text: str
    page: int = Field(ge=1, description="Physical 1-based page number (1 for unpaged formats).")
    level: int = Field(0, ge=0, description="Heading level, 1 = top; 0 for non-headings.")
    ocr: bool = False
    char_start: int = 0
    char_end: int = 0


class Page(BaseModel):
    """One physical page and where its text lies in ``Document.text``."""

    number: int = Field(ge=1)
    char_start: int
    char_end: int
    ocr: bool = False
    skipped: str | None = Field(None, description="Why the page has no text, when it has none.")
    degraded: str | None = Field(
        None,
        description="Why the page was read by a simpler method (its layout analysis failed), "
        "when it was.",
    )


class Document(BaseModel):
    id: str = Field(description="Derived from the file's sha256: same content, same id.")
    source: str = Field(description="Path of the file as ingested (POSIX).")
    title: str
    sha256: str
    format: Format
    page_count: int
    lang: str = ""
    doc_type: DocType | None = None
    date: str | None = Field(None, description="ISO date found in the text, or None.")
    text: str = ""
    blocks: list[Block] = Field(default_factory=list)
    pages: list[Page] = Field(default_factory=list)
    keywords: list[str] = Field(
        default_factory=list,
        description="Index terms the file's author gave it (HTML keywords metadata, "
        "PDF /Keywords, DOCX keywords); shown with the document.",
    )
    warnings: list[str] = Field(default_factory=list)
    reader: str = Field(
        "",
        description="Which reader read the file when it was not the format's usual one "
        '(e.g. "pypdfium2" when pdfminer could not parse a PDF); empty otherwise.',
    )

    @staticmethod
    def id_for(sha256: str) -> str:
        return sha256[:16]

    @property
    def ocr_pages(self) -> int:
        return sum(1 for p in self.pages if p.ocr)

    @property
    def degraded_pages(self) -> dict[int, str]:
        return {p.number: p.degraded for p in self.pages if p.degraded}

    def page_text(self, number: int) -> str:
        for page in self.pages:
            if page.number == number:
                return self.text[page.char_start : page.char_end]
        raise KeyError(number)


class Chunk(BaseModel):
    """A passage as indexed and shown. Its fields are the payload stored with its vectors."""

    id: str
    document_id: str
    title: str
    source: str
    text: str
    page_start: int
    page_end: int
    section: str = ""
    char_start: int
    char_end: int
    lang: str
    kind: ChunkKind = "text"
    ocr: bool = False
    doc_type: DocType | None = None
    date: str | None = None
    decision_date: str | None = None
    decision_body: str | None = None
    collection: str = Field(
        DEFAULT_COLLECTION, description="The collection its document belongs to (access)."
    )

    @staticmethod
    def id_for(sha256: str, ordinal: int) -> str:
        return str(uuid.uuid5(CHUNK_NAMESPACE, f"{sha256}:{ordinal}"))


class Citation(BaseModel):
    document_id: str
    title: str
    source: str
    page_start: int
    page_end: int
    section: str
    char_start: int
    char_end: int
    label: str = Field(description='Human label, e.g. "KORA 2013, s. 12, afsnit 3.2".')
    collection: str = Field(DEFAULT_COLLECTION, description="The document's collection.")


class Gloss(BaseModel):
    """A question put word by word into the other language (search.glossary) and searched
    that way too: a Danish one among the English passages, an English one among the Danish."""

    lang: Literal["da", "en"] = Field(description="The language the question was put into.")
    text: str = Field(description="The words searched, function words left out.")


class Hit(BaseModel):
    rank: int
    score: float
    chunk_id: str
    text: str
    kind: ChunkKind
    lang: str
    doc_type: DocType | None = None
    date: str | None = None
    highlights: list[tuple[int, int]] = Field(default_factory=list)
    citation: Citation
    # Near-duplicates of this passage in other documents (boilerplate), not listed apart.
    repeats: int = 0
