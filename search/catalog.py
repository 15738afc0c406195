"""The document catalog: one record per indexed document, in the index's SQLite database.

A record holds the whole ``CatalogEntry`` as JSON (the extracted text and page spans, which
the API serves without re-reading the file), beside indexed columns for the list views.

Each record has a state. ``Index.add_document`` writes it as ``indexing`` before the first
chunk goes to the store, and whole again as ``complete`` (one transaction) after the last.
Everything that lists, counts or looks up documents sees complete ones only; an
``indexing`` record outlives its writer only when that writer was killed, and tells
recovery (:mod:`search.recovery`) whose passages to remove.

An older index kept one JSON file per document in ``data_dir/catalog/``. On open they are
copied in (leftover ``.tmp-*`` files and unreadable records are skipped with a warning) and
the folder is renamed ``catalog.migrated-<date>``.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from ops_search.access import DEFAULT_COLLECTION
from ops_search.models import Document
from search.database import Database

log = logging.getLogger(__name__)

COMPLETE = "complete"
INDEXING = "indexing"

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('indexing', 'complete')),
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    format TEXT NOT NULL,
    pages INTEGER NOT NULL,
    chunks INTEGER NOT NULL,
    lang TEXT NOT NULL,
    doc_type TEXT,
    date TEXT,
    ingested_at TEXT NOT NULL,
    uploaded INTEGER NOT NULL,
    collection TEXT NOT NULL DEFAULT 'offentlig'
);
CREATE INDEX IF NOT EXISTS documents_state ON documents (state, id);
CREATE INDEX IF NOT EXISTS documents_source ON documents (source);
-- The full records (with the text) apart, so that list views scan narrow rows only.
CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY,
    entry TEXT NOT NULL
);
-- Counts the catalog's writes, so that a cached list view knows when it is stale.
CREATE TABLE IF NOT EXISTS catalog_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO catalog_meta VALUES ('generation', 0);
"""
# After the migration of a database from before collections (it adds the column).
INDEXES = """
CREATE INDEX IF NOT EXISTS documents_collection ON documents (state, collection, id);
"""

# The list view's columns, in the order of summary()'s keys.
SUMMARY_COLUMNS = (
    "id", "title", "source", "format", "pages", "chunks", "lang", "doc_type", "date",
    "ingested_at", "uploaded", "collection",
)  # fmt: skip
_PAGE = 200  # records parsed per query when iterating over full entries


class CatalogEntry(BaseModel):
    document: Document
    chunks: int
    ingested_at: str = Field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds")
    )
    file: str = Field(description="Absolute path of the original file, served for download.")
    uploaded: bool = Field(False, description="Sent through the API and kept under data_dir.")
    collection: str = Field(DEFAULT_COLLECTION, description="Who may read it (access).")


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
        "collection": entry.collection,
    }


_NAMES = (*SUMMARY_COLUMNS, "state")
_INSERT = f"INTO documents ({', '.join(_NAMES)}) VALUES ({', '.join(':' + n for n in _NAMES)})"


def _visible(visible: frozenset[str] | None) -> tuple[str, tuple]:
    """An SQL condition (with its parameters) for documents in the ``visible`` collections:
    None = every collection, an empty set = none."""
    if visible is None:
        return "1", ()
    names = tuple(sorted(visible))
    return f"collection IN ({', '.join('?' * len(names))})" if names else "0", names


def _add_collection_column(db: Database) -> None:
    """A database from before collections: every document it holds is in the default one."""
    with db.write() as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(documents)")}
        if "collection" not in columns:
            conn.execute(
                "ALTER TABLE documents ADD COLUMN collection TEXT NOT NULL "
                f"DEFAULT '{DEFAULT_COLLECTION}'"
            )
            log.warning("catalog: added collections; every document is in %s", DEFAULT_COLLECTION)


def _changed(db: sqlite3.Connection) -> None:
    db.execute("UPDATE catalog_meta SET value = value + 1 WHERE key = 'generation'")


def _insert(db: sqlite3.Connection, entries: list[CatalogEntry], state: str, verb: str) -> None:
    """Write records in the caller's transaction; ``verb`` is "REPLACE" or "IGNORE"."""
    _changed(db)
    db.executemany(f"INSERT OR {verb} {_INSERT}", [{**summary(e), "state": state} for e in entries])
    db.executemany(
        f"INSERT OR {verb} INTO entries (id, entry) VALUES (?, ?)",
        [(e.document.id, e.model_dump_json()) for e in entries],
    )


class Catalog:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.ensure(SCHEMA)
        _add_collection_column(db)
        db.ensure(INDEXES)
        # The list view is read on every list request: kept per set of visible collections
        # until the next write, as (generation, {visible: summaries}).
        self._summaries: tuple[int, dict[frozenset[str] | None, list[dict]]] = (-1, {})

    # --- writes ---

    def begin(self, entry: CatalogEntry) -> None:
        """Record a document as being indexed, before any of its chunks is written."""
        self._write(entry, INDEXING)

    def put(self, entry: CatalogEntry) -> None:
        """Record a document as complete: call only once all its chunks are in the store."""
        self._write(entry, COMPLETE)

    def _write(self, entry: CatalogEntry, state: str) -> None:
        with self.db.write() as db:
            _insert(db, [entry], state, "REPLACE")

    def set_collection(self, document_id: str, collection: str) -> None:
        """Move a document to another collection (its record only; the store has its own)."""
        with self.db.write() as db:
            row = db.execute("SELECT entry FROM entries WHERE id = ?", (document_id,)).fetchone()
            if row is None:
                return
            entry = CatalogEntry.model_validate_json(row[0])
            entry.collection = collection
            db.execute(
                "UPDATE documents SET collection = ? WHERE id = ?", (collection, document_id)
            )
            db.execute(
                "UPDATE entries SET entry = ? WHERE id = ?", (entry.model_dump_json(), document_id)
            )
            _changed(db)

    def delete(self, document_id: str) -> None:
        with self.db.write() as db:
            db.execute("DELETE FROM documents WHERE id = ?", (document_id,))
            db.execute("DELETE FROM entries WHERE id = ?", (document_id,))
            _changed(db)

    def clear(self) -> None:
        with self.db.write() as db:
            db.execute("DELETE FROM documents")
            db.execute("DELETE FROM entries")
            _changed(db)

    # --- reads: complete documents only ---
    # ``visible``: the collections the reader may see (None = all, an empty set = none).

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.db.read() as db:
            return db.execute(sql, params).fetchall()

    def get(self, document_id: str, visible: frozenset[str] | None = None) -> CatalogEntry | None:
        """The document, if it is complete and in a visible collection."""
        where, names = _visible(visible)
        rows = self._rows(
            "SELECT entry FROM entries JOIN documents USING (id) "
            f"WHERE id = ? AND state = 'complete' AND {where}",
            (document_id, *names),
        )
        return CatalogEntry.model_validate_json(rows[0][0]) if rows else None

    def entries(self) -> Iterator[CatalogEntry]:
        """Every complete document, by id, parsed a page at a time (full texts are large)."""
        after = ""
        while rows := self._rows(
            "SELECT id, entry FROM entries JOIN documents USING (id) "
            "WHERE state = 'complete' AND id > ? ORDER BY id LIMIT ?",
            (after, _PAGE),
        ):
            for _, entry in rows:
                yield CatalogEntry.model_validate_json(entry)
            after = rows[-1][0]

    def by_source(self) -> dict[str, CatalogEntry]:
        return {e.document.source: e for e in self.entries()}

    def files(self) -> dict[str, tuple[str, bool]]:
        """Every complete document's id → (absolute path of its file, uploaded), read from
        the records by SQLite itself: no record is parsed in Python."""
        rows = self._rows(
            "SELECT id, json_extract(entry, '$.file'), json_extract(entry, '$.uploaded') "
            "FROM entries JOIN documents USING (id) WHERE state = 'complete'"
        )
        return {i: (f, bool(u)) for i, f, u in rows}

    def ids(self) -> set[str]:
        return {r[0] for r in self._rows("SELECT id FROM documents WHERE state = 'complete'")}

    def __len__(self) -> int:
        return self.count()

    def count(self, visible: frozenset[str] | None = None) -> int:
        where, names = _visible(visible)
        sql = f"SELECT count(*) FROM documents WHERE state = 'complete' AND {where}"
        return self._rows(sql, names)[0][0]

    def summaries(self, visible: frozenset[str] | None = None) -> list[dict]:
        """The list view of every complete document in a visible collection (no text), by
        id. Shared: do not change it. Re-read only after a write, by any process (the
        generation lives in the file)."""
        where, names = _visible(visible)
        with self.db.read() as db:
            (generation,) = db.execute(
                "SELECT value FROM catalog_meta WHERE key = 'generation'"
            ).fetchone()
            cached = self._summaries
            if cached[0] == generation and visible in cached[1]:
                return cached[1][visible]
            # A write between the two reads only tags newer rows with an older generation,
            # which costs one more re-read, never a stale answer.
            rows = db.execute(
                f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM documents "
                f"WHERE state = 'complete' AND {where} ORDER BY id",
                names,
            ).fetchall()
        out = [dict(zip(SUMMARY_COLUMNS, row, strict=True)) for row in rows]
        for doc in out:
            doc["uploaded"] = bool(doc["uploaded"])
        views = cached[1] if cached[0] == generation else {}
        self._summaries = (generation, {**views, visible: out})
        return out

    # --- the explicit view of interrupted documents ---

    def interrupted(self) -> list[CatalogEntry]:
        """Documents whose indexing was interrupted (their writer was killed)."""
        rows = self._rows(
            "SELECT entry FROM entries JOIN documents USING (id) "
            "WHERE state = 'indexing' ORDER BY id"
        )
        return [CatalogEntry.model_validate_json(r[0]) for r in rows]

    def superseded(self) -> list[str]:
        """Ids of complete documents that a newer version of the same file replaced, left by a
        run killed between writing the new version and removing the old one. Uploads are
        kept: their sources name their content, never an earlier version."""
        rows = self._rows(
            "SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY source "
            "ORDER BY ingested_at DESC, rowid DESC) AS newer FROM documents "
            "WHERE state = 'complete' AND NOT uploaded) WHERE newer > 1"
        )
        return [r[0] for r in rows]


def open_catalog(db: Database, legacy_folder: Path) -> Catalog:
    """The catalog in ``db``, with the records of an older JSON folder moved in."""
    catalog = Catalog(db)
    if legacy_folder.is_dir():
        migrate_folder(catalog, legacy_folder)
    return catalog


def migrate_folder(catalog: Catalog, folder: Path) -> int:
    """Copy the records of a JSON catalog folder in, then rename the folder aside.
    Returns the number of records copied."""
    entries = []
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith(".tmp-"):
            log.warning("catalog migration: skipped %s, a write that never finished", path)
            continue
        try:
            entries.append(CatalogEntry.model_validate_json(path.read_bytes()))
        except (OSError, ValidationError) as err:
            reason = err.errors()[0]["msg"] if isinstance(err, ValidationError) else err.strerror
            log.warning("catalog migration: skipped %s, unreadable (%s)", path, reason)
    # Records already in the database are newer than the folder's: those are kept.
    with catalog.db.write() as db:
        _insert(db, entries, COMPLETE, "IGNORE")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    aside = folder.with_name(f"{folder.name}.migrated-{stamp}")
    folder.rename(aside)
    log.warning(
        "catalog: %d record(s) moved from %s into %s; the old folder is now %s",
        len(entries),
        folder,
        catalog.db.path,
        aside,
    )
    return len(entries)
