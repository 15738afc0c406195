"""The document catalog: one JSON record per indexed document, beside the index.

A record is written only after all of the document's chunks are in the store, so its
presence means "fully indexed". A crash before that leaves no record; the next run
re-indexes the file and, chunk ids being deterministic, converges without duplicates.
The record keeps the extracted text and page spans, which the API serves (page text,
sections) without re-reading the file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from ops_search.models import Document


class CatalogEntry(BaseModel):
    document: Document
    chunks: int
    ingested_at: str = Field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds")
    )
    file: str = Field(description="Absolute path of the original file, served for download.")
    uploaded: bool = Field(False, description="Sent through the API and kept under data_dir.")


class Catalog:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        # Light list views, re-read only when the folder changed (every write is a rename
        # into it, which updates its mtime): listing and facets must not parse full texts
        # on every request.
        self._summaries: tuple[tuple[int, int], list[dict]] | None = None
        self._lock = threading.Lock()

    def summaries(self) -> list[dict]:
        """The list view of every document (no text), cheap to call repeatedly."""
        # mtime and count together: the clock may not tick between two quick writes.
        stamp = (self.folder.stat().st_mtime_ns, len(self))
        with self._lock:
            if self._summaries is None or self._summaries[0] != stamp:
                self._summaries = (stamp, [summary(e) for e in self.entries()])
            return self._summaries[1]

    def _path(self, document_id: str) -> Path:
        if not document_id.isalnum():
            raise KeyError(document_id)  # ids are hex: anything else is not ours
        return self.folder / f"{document_id}.json"

    def get(self, document_id: str) -> CatalogEntry | None:
        try:
            path = self._path(document_id)
        except KeyError:
            return None
        if not path.exists():
            return None
        return CatalogEntry.model_validate_json(path.read_text(encoding="utf-8"))

    def put(self, entry: CatalogEntry) -> None:
        path = self._path(entry.document.id)
        # Atomic replace: a reader never sees half a record, a crash never leaves one.
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(entry.model_dump_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def delete(self, document_id: str) -> None:
        with contextlib.suppress(KeyError):
            self._path(document_id).unlink(missing_ok=True)

    def entries(self) -> Iterator[CatalogEntry]:
        for path in sorted(self.folder.glob("*.json")):
            yield CatalogEntry.model_validate_json(path.read_text(encoding="utf-8"))

    def by_source(self) -> dict[str, CatalogEntry]:
        return {e.document.source: e for e in self.entries()}

    def ids(self) -> set[str]:
        return {p.stem for p in self.folder.glob("*.json")}

    def __len__(self) -> int:
        return sum(1 for _ in self.folder.glob("*.json"))


def summary(entry: CatalogEntry) -> dict:
    """The list view of a document (no text)."""
    doc = entry.document
    return {
        "id": doc.id,
        "title": doc.title,
        "source": doc.source,
        "format": doc.format,
        "pages": doc.page_count,
        "chunks": entry.chunks,
        "lang": doc.lang,
        "doc_type": doc.doc_type,
        "date": doc.date,
        "ingested_at": entry.ingested_at,
        "uploaded": entry.uploaded,
    }
