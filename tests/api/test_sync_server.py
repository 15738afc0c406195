"""The server's scheduled sync (OPS_SYNC) through the real app on a real index: rounds on
a schedule, progress in /stats and on the documents page, turns taken with the writer lock
that uploads and deletes hold, and a clean stop at shutdown in the middle of a round."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from search.index import CATALOG_FILE
from tests.conftest import FIXTURES, SEEDS, wait

pytestmark = pytest.mark.slow


def sync_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "sync" and t.is_alive()]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_scheduled_sync_reports_progress_and_takes_turns_with_writers(
    tmp_path, settings, shared_cache, embedder
):
    folder = tmp_path / "delt mappe"
    folder.mkdir()
    shutil.copy(FIXTURES / "minutes.txt", folder / "referat.txt")
    shutil.copy(FIXTURES / "latin1.txt", folder / "notat.txt")
    settings = settings.model_copy(
        update={
            "cache_dir": shared_cache,
            "sync": f"{folder}=kkr",
            "sync_interval": 0.5,
            "sync_settle_s": 0.0,
            "api_keys": "sync-admin:admin",
        }
    )
    with TestClient(create_app(settings, embedder=embedder)) as client:
        client.headers["X-API-Key"] = "sync-admin"  # kkr is no public collection
        first = wait(
            lambda: (s := client.get("/stats").json()["sync"])[0]["status"] == "done" and s[0],
            "the first round",
        )
        assert first["folder"] == str(folder) and first["collection"] == "kkr"
        assert (first["added"], first["errors"], first["files"]) == (2, 0, 2)
        assert first["last_run"] and client.get("/stats").json()["documents"] == 2
        page = client.get("/dokumenter").text
        assert "Synkroniserede mapper" in page and "samlingen <strong>kkr</strong>" in page
        assert f"<code>{folder}</code>" in page and "færdig" in page
        # A reader who may not see kkr sees neither its round nor its documents.
        anonymous = client.get("/stats", headers={"X-API-Key": ""}).json()
        assert anonymous["sync"] == [] and anonymous["documents"] == 0
        assert str(folder) not in client.get("/dokumenter", headers={"X-API-Key": ""}).text

        # While a writer holds the lock (an upload, a delete), the round waits for it.
        state = client.app.state.ops
        with state.lock:
            shutil.copy(SEEDS / "001_d484550536b64950.txt", folder / "ny.txt")
            wait(
                lambda: (
                    client.get("/stats").json()["sync"][0]["status"] == "running"
                    and state.readers.processes
                ),
                "a round that reads the new file",
            )
            time.sleep(2.0)
            assert client.get("/stats").json()["documents"] == 2
            assert client.get("/stats").json()["sync"][0]["status"] == "running"
            readers = state.readers.processes
        wait(lambda: client.get("/stats").json()["documents"] == 3, "the new document")
        wait(
            lambda: client.get("/stats").json()["sync"][0]["status"] == "done",
            "the round to end",
        )
        assert "0 fejl" in client.get("/dokumenter").text
        assert sync_threads()
    assert not sync_threads()
    assert all(gone(pid) for pid in readers)
    audit = (settings.log_dir / "audit.jsonl").read_text()
    assert audit.count('"outcome": "added"') == 3


def test_shutdown_in_the_middle_of_a_round_stops_it_cleanly(tmp_path, settings, embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(SEEDS / "003_a4deeee32cfe0938.txt", folder / "rapport.txt")
    settings = settings.model_copy(
        update={
            "cache_dir": tmp_path / "cache",  # cold: the round embeds for a while
            "sync": str(folder),
            "sync_interval": 3600,
            "sync_settle_s": 0.0,
        }
    )
    catalog = settings.data_dir / CATALOG_FILE
    client = TestClient(create_app(settings, embedder=embedder))
    with client:

        def indexing() -> bool:
            if not catalog.exists():
                return False
            with sqlite3.connect(catalog) as db:
                return bool(
                    db.execute("SELECT 1 FROM documents WHERE state = 'indexing'").fetchone()
                )

        wait(indexing, "the round to write its document")
        readers = client.app.state.ops.readers.processes
        assert readers
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 30
    assert not sync_threads() and all(gone(pid) for pid in readers)
    with sqlite3.connect(catalog) as db:
        assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 0  # undone
        (record,) = db.execute("SELECT record FROM sync_state").fetchone()
    assert '"status": "stopped"' in record

    with TestClient(create_app(settings, embedder=embedder)) as client:
        done = wait(
            lambda: (s := client.get("/stats").json()["sync"][0])["status"] == "done" and s,
            "the next round",
            timeout=600,
        )
        assert done["added"] == 1 and done["collection"] == "offentlig"
        stats = client.get("/stats").json()
        docs = client.get("/documents").json()["documents"]
        assert stats["documents"] == 1 and stats["chunks"] == docs[0]["chunks"]
