"""Request and response models: the OpenAPI schema is the API's contract."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ops_search.access import DEFAULT_COLLECTION
from ops_search.models import Citation, Gloss, Hit


class SearchResponse(BaseModel):
    query: str
    searched_for: str | None = Field(
        None,
        description="The question as searched when it was typed without æ, ø and å and "
        'mended ("okonomi" → "økonomi"); null when searched as typed.',
    )
    gloss: Gloss | None = Field(
        None,
        description="The question put word by word into the other language and searched "
        "that way too (hybrid mode): a Danish question among the English passages, an English "
        "one among the Danish; null when not.",
    )
    mode: Literal["hybrid", "dense", "sparse"]
    took_ms: float
    offset: int = 0
    limit: int
    total: int = Field(description="Distinct passages found (an upper bound for paging).")
    results: list[Hit]
    facets: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="Passage counts per doc_type, lang, collection and year, over the "
        "collections the reader may see.",
    )


class Health(BaseModel):
    ok: bool = Field(description="The service is up. Nothing else: see /stats.")


class SyncStatus(BaseModel):
    """A synced folder's latest round (search.sync)."""

    folder: str
    collection: str
    status: str = Field(
        description="pending, running, done, stopped (by a shutdown), failed, or interrupted "
        "(its process was killed; the next round completes it)"
    )
    started_at: str
    last_run: str | None = Field(description="When the latest round ended.")
    files: int
    added: int
    changed: int
    renamed: int
    removed: int
    unchanged: int
    skipped: int = Field(description="Files still being written: left for the next round.")
    errors: int
    message: str
    messages: list[str]


class Stats(BaseModel):
    """What the reader may see: documents and passages of its collections only."""

    ok: bool
    documents: int
    chunks: int
    model: str
    engine: str
    data_dir: str | None = Field(description="Only for a key that sees every collection.")
    disk_bytes: int | None = Field(description="Only for a key that sees every collection.")
    doc_types: dict[str, int]
    langs: dict[str, int]
    kinds: dict[str, int]
    collections: dict[str, int] = Field(default_factory=dict)
    sync: list[SyncStatus] = Field(
        default_factory=list,
        description="Synced folders (OPS_SYNC and ops-search sync) of the collections the "
        "reader may see.",
    )


class DocumentSummary(BaseModel):
    id: str
    title: str
    source: str
    format: str
    pages: int
    chunks: int
    lang: str
    doc_type: str | None
    date: str | None
    ingested_at: str
    uploaded: bool = False
    collection: str = DEFAULT_COLLECTION


class DocumentList(BaseModel):
    total: int
    offset: int
    limit: int
    documents: list[DocumentSummary]


class Section(BaseModel):
    title: str
    path: str
    level: int
    page: int
    char_start: int


class DocumentDetail(DocumentSummary):
    sha256: str
    sections: list[Section]
    ocr_pages: list[int]
    skipped_pages: dict[int, str]
    degraded_pages: dict[int, str] = Field(
        default_factory=dict,
        description="Pages read by a simpler method because their layout analysis failed, "
        "with the reason.",
    )
    reader: str = Field(
        "", description='A fallback reader that read the whole file (e.g. "pypdfium2"), if any.'
    )
    keywords: list[str] = Field(
        default_factory=list,
        description="Index terms the file's author gave it (HTML keywords metadata, PDF "
        "/Keywords, DOCX keywords).",
    )
    warnings: list[str]


class PageText(BaseModel):
    document_id: str
    page: int
    pages: int
    text: str
    char_start: int
    ocr: bool
    skipped: str | None = None
    degraded: str | None = None


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str


class JobFile(BaseModel):
    name: str
    status: Literal["queued", "running", "done", "unchanged", "failed", "interrupted"]
    message: str = ""
    document_id: str | None = None
    passages: int = Field(0, description="Passages of this file.")


class Job(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed", "interrupted"]
    message: str = Field(
        "", description="Why the job stopped or went on after a restart of the server."
    )
    files: list[JobFile]
    pages_done: int = 0
    passages_total: int = 0
    passages_done: int = 0
    created_at: str
    finished_at: str | None = None
    collection: str = Field(DEFAULT_COLLECTION, description="Where the files go.")


__all__ = ["Citation", "Hit"]
