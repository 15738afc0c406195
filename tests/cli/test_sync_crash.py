"""`ops-search sync` as a user runs it, killed with a real `kill -9` in the middle of a round
that adds, changes, renames and removes: the next run converges on exactly what a clean
sync of the folder gives, with nothing lost or duplicated."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time

import pytest

from ops_search.config import Settings
from search.index import CATALOG_FILE, Index
from search.sync import SyncReport, sync_folder
from tests.conftest import FIXTURES, ROOT, SEEDS, quiet_reporter

pytestmark = pytest.mark.slow

EXE = ROOT / ".venv" / "bin" / "ops-search"


def test_sync_killed_mid_round_converges_on_the_next(tmp_path, embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(SEEDS / "000_fed949171b11b3aa.txt", folder / "a.txt")
    shutil.copy(SEEDS / "001_d484550536b64950.txt", folder / "b.txt")
    shutil.copy(FIXTURES / "minutes.txt", folder / "referat.txt")
    cache = tmp_path / "cache"  # cold for the new files: a round takes long enough to kill

    env = {**os.environ, "OPS_DATA_DIR": str(tmp_path / "data"), "OPS_CACHE_DIR": str(cache),
           "OPS_SYNC_SETTLE_S": "0"}  # fmt: skip

    def sync(*args: str) -> subprocess.CompletedProcess:
        cmd = [str(EXE), "sync", str(folder), "--collection", "kkr", "--json", *args]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr
        return done

    assert json.loads(sync().stdout)["added"] == 3

    # A round with everything in it: a rename, a change, a removal, two new larger files.
    (folder / "referat.txt").rename(folder / "kkr-referat-2024.txt")
    with open(folder / "b.txt", "a", encoding="utf-8") as fh:
        fh.write("\nEt nyt afsnit om takstforhandlinger mellem kommuner og leverandører.\n")
    (folder / "a.txt").unlink()
    shutil.copy(SEEDS / "002_b3bc81efb5790516.txt", folder / "c.txt")
    shutil.copy(SEEDS / "003_a4deeee32cfe0938.txt", folder / "d.txt")

    proc = subprocess.Popen(
        [str(EXE), "sync", str(folder), "--collection", "kkr"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    catalog = tmp_path / "data" / CATALOG_FILE
    deadline = time.monotonic() + 600
    with sqlite3.connect(catalog, timeout=30) as db:  # a reader beside the writer (WAL)
        # Killed while the last new file is being written: the rename, the change and the
        # first new file are in; the removal is still to do.
        # The round's progress is saved as it goes (what /stats shows meanwhile).

        def progress() -> dict:
            row = db.execute("SELECT record FROM sync_state").fetchone()
            return json.loads(row[0])

        while not (
            db.execute(
                "SELECT id FROM documents WHERE state = 'indexing' AND source LIKE '%/d.txt'"
            ).fetchone()
            and (p := progress())["renamed"] == 1
            and (p["added"], p["changed"]) == (1, 1)
        ):
            assert proc.poll() is None, "sync finished before it could be killed"
            assert time.monotonic() < deadline, "the last file was never written"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert db.execute("SELECT count(*) FROM documents WHERE state = 'indexing'").fetchone()[0]
        state = json.loads(db.execute("SELECT record FROM sync_state").fetchone()[0])
        assert state["status"] == "running"
        assert SyncReport(**state).as_seen().status == "interrupted"  # as /stats shows it

    rerun = json.loads(sync().stdout)
    assert rerun["status"] == "done"
    assert any("did not finish" in m for m in rerun["messages"])
    assert rerun["removed"] == 1  # a.txt, which the killed round had not reached
    again = json.loads(sync().stdout)
    assert (again["added"], again["changed"], again["renamed"], again["removed"]) == (0, 0, 0, 0)
    assert again["unchanged"] == 4

    # The same folder synced cleanly into a fresh index.
    clean = Settings(data_dir=tmp_path / "clean", cache_dir=cache, _env_file=None)
    with Index.open(clean, role="test", embedder=embedder) as index:
        assert sync_folder(index, folder, "kkr", quiet_reporter()).added == 4

    def contents(data_dir) -> tuple[dict, list, int]:
        settings = Settings(data_dir=data_dir, cache_dir=cache, _env_file=None)
        with Index.open(settings, role="test", embedder=embedder) as index:
            files = {f: i for i, (f, _) in index.catalog.files().items()}
            points = list(index.store.scroll())
            assert index.store.document_ids() == index.catalog.ids()
            sources = {p.payload["document_id"]: p.payload["source"] for p in points}
            assert sources == {i: f for f, i in files.items()}  # citations name the files
            return files, sorted(p.id for p in points), len(points)

    crashed, fresh = contents(tmp_path / "data"), contents(tmp_path / "clean")
    assert crashed == fresh
    assert sorted(crashed[0]) == sorted(
        str(folder / n) for n in ("b.txt", "c.txt", "d.txt", "kkr-referat-2024.txt")
    )
    assert len(set(crashed[1])) == crashed[2]  # no passage twice


def test_sync_refuses_a_bad_collection_and_a_missing_folder(tmp_path):
    env = {**os.environ, "OPS_DATA_DIR": str(tmp_path / "data")}
    (tmp_path / "docs").mkdir()
    for args, words in (
        (["docs", "--collection", "kkr sjælland"], "collection name"),
        (["nowhere", "--collection", "kkr"], "nowhere is not a folder"),
    ):
        done = subprocess.run(
            [str(EXE), "sync", *args],
            env=env,
            cwd=tmp_path,  # short paths: the error box does not wrap them
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists()  # refused before anything was opened
    bad = {**env, "OPS_SYNC": "/srv/a=kkr,/srv/a=andet"}
    done = subprocess.run([str(EXE), "status"], env=bad, capture_output=True, text=True)
    assert done.returncode == 2 and "sync" in done.stderr and "named twice" in done.stderr
