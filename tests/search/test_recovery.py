"""Recovery on open, on a real index with the real model: a document whose writer was
killed half-way, passages the catalog does not know, an old version left behind, upload
staging folders, and an index whose catalog is still the JSON folder of earlier versions."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from ingest.driver import ReaderPool
from ops_search.config import Settings
from search.index import CATALOG_FILE, Index
from search.query import Searcher, SearchRequest
from tests.conftest import FIXTURES, ROOT, SEEDS, quiet_reporter

EXE = ROOT / ".venv" / "bin" / "ops-search"
MINUTES_QUERY = "Mødedato KKR Sjælland 14. marts 2024"

# Ingests FILE and is killed by SIGKILL from inside, right after the first batch of its
# passages is in the store: the precise moment a real kill can only hit by chance.
KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from ops_search.config import Settings
    from ops_search.progress import LogReporter
    from search.index import Index

    class KilledAfterFirstBatch(LogReporter):
        def passages_done(self, n):
            os.kill(os.getpid(), signal.SIGKILL)

    with Index.open(Settings(_env_file=None), role="ingest") as index:
        index.ingest([Path(sys.argv[1])], KilledAfterFirstBatch())
    """
)


def open_index(settings, embedder) -> Index:
    return Index.open(settings, role="test", embedder=embedder)


def agrees(index: Index) -> bool:
    """Store and catalog tell the same story: same documents, passages counted alike."""
    ids = index.catalog.ids()
    return index.store.document_ids() == ids and index.store.count() == sum(
        e.chunks for e in index.catalog.entries()
    )


def env_for(settings) -> dict:
    return {
        **os.environ,
        "OPS_DATA_DIR": str(settings.data_dir),
        "OPS_CACHE_DIR": str(settings.cache_dir),
        "PYTHONPATH": str(ROOT),
    }


def test_a_document_killed_half_way_is_undone_on_open(tmp_path, settings, embedder, shared_cache):
    settings = settings.model_copy(update={"cache_dir": shared_cache})
    kept = tmp_path / "notat.txt"
    shutil.copy(FIXTURES / "windows-1252.txt", kept)
    with open_index(settings, embedder) as index:
        index.ingest([kept], quiet_reporter())

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(FIXTURES / "minutes.txt")],
        env=env_for(settings),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == -9, killed.stderr
    with sqlite3.connect(settings.data_dir / CATALOG_FILE) as db:
        states = dict(db.execute("SELECT source, state FROM documents").fetchall())
    assert sorted(states.values()) == ["complete", "indexing"]  # killed inside add_document

    with open_index(settings, embedder) as index:
        assert len(index.catalog) == 1 and index.catalog.interrupted() == []
        assert agrees(index)
        hits = Searcher(index).search(SearchRequest(query=MINUTES_QUERY, limit=10)).hits
        assert all(h.citation.source.endswith("notat.txt") for h in hits)
        # And the next ingest indexes it whole.
        summary = index.ingest([FIXTURES / "minutes.txt"], quiet_reporter())
        assert summary.ingested == 1 and len(index.catalog) == 2 and agrees(index)


def test_passages_of_unknown_documents_and_old_versions_are_removed(
    tmp_path, settings, embedder, shared_cache
):
    settings = settings.model_copy(update={"cache_dir": shared_cache})
    doc = tmp_path / "referat.txt"
    shutil.copy(FIXTURES / "minutes.txt", doc)
    other = tmp_path / "andet.txt"
    shutil.copy(FIXTURES / "windows-1252.txt", other)
    with open_index(settings, embedder) as index:
        index.ingest([doc, other], quiet_reporter())
        [old] = [e for e in index.catalog.entries() if e.document.source.endswith("referat.txt")]
        # A new version written, and the run killed before it removed the old one.
        doc.write_text(doc.read_text(encoding="utf-8") + "\nTilføjet efter mødet.\n", "utf-8")
        with ReaderPool(settings, log_file=tmp_path / "read.log") as readers:
            new = readers.read(doc)
        assert new.document is not None
        index.add_document(new.document, new.chunks, file=doc)
        [lost] = [e for e in index.catalog.entries() if e.document.source.endswith("andet.txt")]
    # A record lost while its passages stayed (say, a catalog restored from a backup).
    with sqlite3.connect(settings.data_dir / CATALOG_FILE) as db:
        db.execute("DELETE FROM documents WHERE id = ?", (lost.document.id,))
    staging = settings.files_dir / ".incoming-0123abcd"
    staging.mkdir(parents=True)
    (staging / "halv.pdf").write_bytes(b"%PDF-1.4 ...")

    with open_index(settings, embedder) as index:
        assert index.catalog.ids() == {new.document.id}
        assert index.store.document_ids() == {new.document.id}  # old and lost ones gone
        assert agrees(index)
    assert not staging.exists()


def test_an_old_json_catalog_is_migrated_and_ingest_goes_on(tmp_path, settings, shared_cache):
    """The tester's case: an index of the JSON catalog with an empty .tmp leftover made every
    later ingest exit 2. Now it is migrated, and ingest finds everything unchanged."""
    settings = settings.model_copy(update={"cache_dir": shared_cache})
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(FIXTURES / "minutes.txt", folder / "referat.txt")
    env = env_for(settings)

    def run(*args: str) -> subprocess.CompletedProcess:
        cmd = [str(EXE), *args]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)

    assert run("ingest", str(folder)).returncode == 0
    # Turn it into an index of the previous version: one JSON file per document.
    legacy = settings.data_dir / "catalog"
    legacy.mkdir()
    with sqlite3.connect(settings.data_dir / CATALOG_FILE) as db:
        for doc_id, entry in db.execute("SELECT id, entry FROM entries"):
            (legacy / f"{doc_id}.json").write_text(entry, encoding="utf-8")
    for path in settings.data_dir.glob(CATALOG_FILE + "*"):
        path.unlink()
    (legacy / ".tmp-k1ll3d.json").write_text("")

    again = run("ingest", str(folder))
    assert again.returncode == 0, again.stderr
    assert "0 ingested, 1 unchanged" in again.stderr
    assert ".tmp-k1ll3d.json" in again.stderr and "1 record(s) moved" in again.stderr
    status = json.loads(run("status", "--json").stdout)
    assert status["documents"] == 1 and status["chunks"] > 0
    assert not legacy.exists() and list(settings.data_dir.glob("catalog.migrated-*"))


@pytest.mark.slow
def test_ingest_killed_mid_way_recovers_and_converges(tmp_path, embedder):
    """A real `ops-search ingest`, kill -9 while it writes a document: the index opens,
    status agrees with the catalog, nothing of the killed document is searchable, and a
    re-run ends with exactly the chunks of a clean run."""
    folder = tmp_path / "docs"
    folder.mkdir()
    # Two one-passage files first ("ok" lines come quickly), then larger ones to kill in.
    inputs = [FIXTURES / "latin1.txt", FIXTURES / "windows-1252.txt",
              SEEDS / "001_d484550536b64950.txt", FIXTURES / "minutes.txt"]  # fmt: skip
    for n, path in enumerate(inputs):
        shutil.copy(path, folder / f"{n}-{path.name}")
    cache = tmp_path / "cache"  # cold, so a document takes seconds; later runs reuse it

    def env(data: str) -> dict:
        return {**os.environ, "OPS_DATA_DIR": str(tmp_path / data), "OPS_CACHE_DIR": str(cache)}

    def run(data: str, *args: str) -> subprocess.CompletedProcess:
        cmd = [str(EXE), *args]
        done = subprocess.run(cmd, env=env(data), capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr
        return done

    proc = subprocess.Popen([str(EXE), "ingest", str(folder)], env=env("crashed"),
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stderr is not None
    ok_lines = 0
    for line in proc.stderr:
        ok_lines += line.startswith("ok ")
        if ok_lines == 2:
            break
    catalog_file = tmp_path / "crashed" / CATALOG_FILE
    with sqlite3.connect(catalog_file) as db:  # a reader beside the writer (WAL)

        def indexing() -> str | None:
            row = db.execute("SELECT id FROM documents WHERE state = 'indexing'").fetchone()
            return row[0] if row else None

        while not indexing():
            assert proc.poll() is None, "ingest finished before it could be killed"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed = indexing()

    status = json.loads(run("crashed", "status", "--json").stdout)
    with sqlite3.connect(catalog_file) as db:
        complete, chunks = db.execute(
            "SELECT count(*), sum(chunks) FROM documents WHERE state = 'complete'"
        ).fetchone()
    assert (status["documents"], status["chunks"]) == (complete, chunks) and complete >= 2
    settings = Settings(data_dir=tmp_path / "crashed", cache_dir=cache, _env_file=None)
    with open_index(settings, embedder) as index:
        assert killed not in index.store.document_ids() and agrees(index)
        text = (folder / "2-001_d484550536b64950.txt").read_text(encoding="utf-8")[:300]
        hits = Searcher(index).search(SearchRequest(query=text, limit=20)).hits
        assert hits and {h.citation.document_id for h in hits} <= index.catalog.ids()

    run("crashed", "ingest", str(folder))
    clean = Settings(data_dir=tmp_path / "clean", cache_dir=cache, _env_file=None)
    with open_index(clean, embedder) as index:  # in-process: it needs no model load of its own
        assert index.ingest([folder], quiet_reporter()).ingested == len(inputs)

    def chunk_ids(data: str) -> list[str]:
        settings = Settings(data_dir=tmp_path / data, cache_dir=cache, _env_file=None)
        with open_index(settings, embedder) as index:
            assert agrees(index) and len(index.catalog) == len(inputs)
            return sorted(p.id for p in index.store.scroll())

    assert chunk_ids("crashed") == chunk_ids("clean")
