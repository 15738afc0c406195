"""The SQLite catalog: WAL, complete-only views, migration from the JSON folder of earlier
versions (with the leftovers a killed writer left there), readers beside a writer, jobs."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from ops_search.models import Document, Page
from search.catalog import CatalogEntry, open_catalog
from search.database import Database
from search.jobs import JobStore


def entry(n: int, *, source: str | None = None, uploaded: bool = False) -> CatalogEntry:
    sha = hashlib.sha256(str(n).encode()).hexdigest()
    text = f"Dokument nummer {n} om offentlig-privat samarbejde. " * 20
    document = Document(
        id=Document.id_for(sha),
        source=source or f"docs/{n}.txt",
        title=f"Dokument {n}",
        sha256=sha,
        format="txt",
        page_count=1,
        lang="da",
        doc_type="rapport",
        date=f"20{10 + n % 15}-01-01",
        text=text,
        pages=[Page(number=1, char_start=0, char_end=len(text))],
    )
    return CatalogEntry(document=document, chunks=3, file=f"/tmp/{n}.txt", uploaded=uploaded)


@pytest.fixture
def db(tmp_path: Path):
    database = Database(tmp_path / "catalog.sqlite")
    yield database
    database.close()


def test_the_database_is_in_wal_mode(db):
    with db.read() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_lists_and_counts_see_complete_documents_only(db, tmp_path):
    catalog = open_catalog(db, tmp_path / "catalog")
    a, b = entry(1), entry(2)
    catalog.begin(a)
    catalog.begin(b)
    catalog.put(b)
    assert len(catalog) == 1 and catalog.ids() == {b.document.id}
    assert [s["id"] for s in catalog.summaries()] == [b.document.id]
    assert [e.document.id for e in catalog.entries()] == [b.document.id]
    assert catalog.get(a.document.id) is None and catalog.get(b.document.id) == b
    assert [e.document.id for e in catalog.interrupted()] == [a.document.id]
    catalog.delete(a.document.id)
    assert catalog.interrupted() == []
    catalog.put(a)  # the cached list view follows every write
    assert {s["id"] for s in catalog.summaries()} == {a.document.id, b.document.id}
    catalog.delete(b.document.id)
    assert [s["id"] for s in catalog.summaries()] == [a.document.id]


def test_summaries_match_the_entries(db, tmp_path):
    from search.catalog import summary

    catalog = open_catalog(db, tmp_path / "catalog")
    for n in range(5):
        catalog.put(entry(n, uploaded=n == 3))
    by_id = {e.document.id: summary(e) for e in catalog.entries()}
    assert {s["id"]: s for s in catalog.summaries()} == by_id
    assert sum(s["uploaded"] for s in catalog.summaries()) == 1


def test_stray_temp_files_are_never_counted(db, tmp_path):
    catalog = open_catalog(db, tmp_path / "catalog")
    catalog.put(entry(1))
    (tmp_path / ".tmp-abc.json").write_text("")  # what the JSON catalog used to leave
    assert len(catalog) == 1 and len(catalog.summaries()) == 1
    assert {p.name for p in tmp_path.iterdir()} <= {
        "catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm", ".tmp-abc.json"
    }  # fmt: skip


def test_a_json_catalog_folder_is_migrated_and_moved_aside(db, tmp_path, caplog):
    folder = tmp_path / "catalog"
    folder.mkdir()
    good = [entry(n) for n in range(3)]
    for e in good:
        (folder / f"{e.document.id}.json").write_text(e.model_dump_json(), encoding="utf-8")
    (folder / ".tmp-x1y2.json").write_text("")  # killed between mkstemp and the write
    (folder / "0123456789abcdef.json").write_text('{"document": {"id": "01')  # cut short
    with caplog.at_level(logging.WARNING, logger="search.catalog"):
        catalog = open_catalog(db, folder)
    assert len(catalog) == 3 and catalog.ids() == {e.document.id for e in good}
    assert catalog.get(good[0].document.id) == good[0]
    assert not folder.exists()
    [aside] = tmp_path.glob("catalog.migrated-*")
    assert len(list(aside.iterdir())) == 5  # kept as it was, for a person to look into
    warnings = caplog.text
    assert ".tmp-x1y2.json" in warnings and "never finished" in warnings
    assert "0123456789abcdef.json" in warnings and "Invalid JSON" in warnings
    assert "3 record(s) moved" in warnings
    # Opening again migrates nothing more.
    assert len(open_catalog(db, folder)) == 3


def test_migration_keeps_records_newer_than_the_folder(db, tmp_path):
    folder = tmp_path / "catalog"
    folder.mkdir()
    old = entry(1)
    (folder / f"{old.document.id}.json").write_text(old.model_dump_json(), encoding="utf-8")
    catalog = open_catalog(db, tmp_path / "elsewhere")
    newer = old.model_copy(update={"chunks": 9})
    catalog.put(newer)
    open_catalog(db, folder)
    assert catalog.get(old.document.id).chunks == 9


def test_superseded_versions_are_found_but_not_uploads(db, tmp_path):
    catalog = open_catalog(db, tmp_path / "catalog")
    first, second = entry(1, source="docs/a.txt"), entry(2, source="docs/a.txt")
    catalog.put(first)
    catalog.put(second)  # written later: the current version
    catalog.put(entry(3, source="docs/b.txt"))
    catalog.put(entry(4, source="uploads/x/a.txt", uploaded=True))
    catalog.put(entry(5, source="uploads/x/a.txt", uploaded=True))
    assert catalog.superseded() == [first.document.id]


def test_readers_never_fail_while_a_writer_writes(db, tmp_path):
    catalog = open_catalog(db, tmp_path / "catalog")
    errors: list[BaseException] = []
    writing = threading.Event()
    writing.set()

    def write() -> None:
        try:
            for n in range(300):
                e = entry(n)
                catalog.begin(e)
                catalog.put(e)
                if n % 3 == 0:
                    catalog.delete(entry(n // 2).document.id)
        except BaseException as err:  # noqa: BLE001 - collected for the assertion below
            errors.append(err)
        finally:
            writing.clear()

    def read() -> None:
        try:
            while writing.is_set():
                docs = catalog.summaries()
                assert len(docs) <= 300 and all(d["chunks"] == 3 for d in docs)
                for doc in docs[:3]:
                    catalog.get(doc["id"])  # may have been deleted since: None is fine
                len(catalog)
                sum(1 for _ in catalog.entries())
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    deleted = {entry(n // 2).document.id for n in range(0, 300, 3)}
    assert len(catalog) == 300 - len(deleted)


def test_a_write_that_fails_leaves_nothing(db, tmp_path):
    catalog = open_catalog(db, tmp_path / "catalog")
    with pytest.raises(RuntimeError), db.write() as conn:
        conn.execute(
            "INSERT INTO documents (id, state, title, source, format, pages, chunks, lang, "
            "ingested_at, uploaded) VALUES ('x', 'complete', '', '', 'txt', 1, 1, '', '', 0)"
        )
        raise RuntimeError("killed half-way")
    assert len(catalog) == 0
    with pytest.raises(sqlite3.IntegrityError), db.write() as conn:
        conn.execute("INSERT INTO documents (id, state) VALUES ('y', 'half')")


def test_jobs_are_stored_and_unfinished_ones_listed(db):
    jobs = JobStore(db)
    jobs.create("a", "queued", '{"id": "a"}', ["/data/files/1/x.pdf"])
    jobs.create("b", "queued", '{"id": "b"}', [])
    jobs.update("b", "done", '{"id": "b", "done": true}')
    jobs.update("a", "running", '{"id": "a", "running": true}', resumed=1)
    assert jobs.get("b") == '{"id": "b", "done": true}' and jobs.get("c") is None
    [unfinished] = jobs.unfinished()
    assert (unfinished.id, unfinished.originals, unfinished.resumed) == (
        "a", ["/data/files/1/x.pdf"], 1
    )  # fmt: skip


# --- collections ---------------------------------------------------------------------------

OLD_SCHEMA = """
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('indexing', 'complete')),
    title TEXT NOT NULL, source TEXT NOT NULL, format TEXT NOT NULL, pages INTEGER NOT NULL,
    chunks INTEGER NOT NULL, lang TEXT NOT NULL, doc_type TEXT, date TEXT,
    ingested_at TEXT NOT NULL, uploaded INTEGER NOT NULL
);
CREATE TABLE entries (id TEXT PRIMARY KEY, entry TEXT NOT NULL);
CREATE TABLE catalog_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO catalog_meta VALUES ('generation', 0);
"""


def test_a_database_from_before_collections_puts_its_documents_in_offentlig(tmp_path):
    path = tmp_path / "catalog.sqlite"
    old = entry(1)
    record = old.model_dump(mode="json")
    del record["collection"]  # as an older ops-search wrote it
    conn = sqlite3.connect(path)
    conn.executescript(OLD_SCHEMA)
    conn.execute(
        "INSERT INTO documents VALUES (?, 'complete', 'Dokument 1', 'docs/1.txt', 'txt', 1, 3, "
        "'da', 'rapport', '2011-01-01', '2020-01-01T00:00:00+00:00', 0)",
        (old.document.id,),
    )
    conn.execute("INSERT INTO entries VALUES (?, ?)", (old.document.id, json.dumps(record)))
    conn.commit()
    conn.close()
    database = Database(path)
    try:
        catalog = open_catalog(database, tmp_path / "catalog")
        assert catalog.get(old.document.id, frozenset({"offentlig"})).collection == "offentlig"
        assert [s["collection"] for s in catalog.summaries()] == ["offentlig"]
        assert catalog.count(frozenset({"intern"})) == 0
        catalog.put(entry(2).model_copy(update={"collection": "intern"}))
        assert catalog.count(frozenset({"intern"})) == 1
    finally:
        database.close()


def test_reads_see_the_visible_collections_only(db, tmp_path):
    catalog = open_catalog(db, tmp_path / "catalog")
    public, internal, secret = entry(1), entry(2), entry(3)
    internal.collection, secret.collection = "intern", "hemmelig"
    for e in (public, internal, secret):
        catalog.put(e)
    both = frozenset({"offentlig", "intern"})
    assert [s["id"] for s in catalog.summaries(both)] == sorted(
        [public.document.id, internal.document.id]
    )
    assert catalog.count(both) == 2 and catalog.count(frozenset()) == 0 and len(catalog) == 3
    assert catalog.get(secret.document.id, both) is None
    assert catalog.get(secret.document.id) == secret  # no restriction: the indexer's view
    assert catalog.summaries(frozenset()) == []
    assert len(catalog.summaries()) == 3  # each view cached apart


def test_set_collection_moves_record_and_list_view(db, tmp_path):
    catalog = open_catalog(db, tmp_path / "catalog")
    doc = entry(1)
    catalog.put(doc)
    assert catalog.summaries(frozenset({"intern"})) == []
    catalog.set_collection(doc.document.id, "intern")
    assert catalog.get(doc.document.id).collection == "intern"
    assert [s["collection"] for s in catalog.summaries(frozenset({"intern"}))] == ["intern"]
    assert catalog.get(doc.document.id, frozenset({"offentlig"})) is None
