"""Sync from folders on a real index with the real model: adds, changes, renames (not
embedded again), removals, copies, unreadable files, files still being written, and a
sync that keeps to its folder."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from ops_search.errors import OpsSearchError
from search.index import Index
from search.query import Searcher, SearchRequest
from search.store import Filters
from search.sync import states, sync_folder
from tests.conftest import FIXTURES, SEEDS, quiet_reporter

MINUTES_QUERY = "Mødedato KKR Sjælland 14. marts 2024"


@pytest.fixture
def sync_settings(settings, shared_cache):
    return settings.model_copy(update={"cache_dir": shared_cache, "sync_settle_s": 0.0})


def open_index(settings, embedder) -> Index:
    return Index.open(settings, role="test", embedder=embedder)


def run(index: Index, folder: Path, collection: str = "kkr"):
    return sync_folder(index, folder, collection, quiet_reporter())


def counts(report) -> tuple[int, ...]:
    return (report.added, report.changed, report.renamed, report.removed, report.unchanged,
            report.skipped, report.errors)  # fmt: skip


def files_of(index: Index) -> dict[str, str]:
    """file → document id, for the complete documents."""
    return {f: i for i, (f, _) in index.catalog.files().items()}


def agrees(index: Index) -> bool:
    return index.store.document_ids() == index.catalog.ids() and index.store.count() == sum(
        e.chunks for e in index.catalog.entries()
    )


def cached_vectors(settings) -> int:
    with sqlite3.connect(settings.embedding_cache) as db:
        return db.execute("SELECT count(*) FROM vectors").fetchone()[0]


def test_sync_adds_changes_renames_and_removes(tmp_path, sync_settings, embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(SEEDS / "000_fed949171b11b3aa.txt", folder / "a.txt")
    shutil.copy(SEEDS / "001_d484550536b64950.txt", folder / "b.txt")
    shutil.copy(FIXTURES / "minutes.txt", folder / "referat.txt")
    with open_index(sync_settings, embedder) as index:
        first = run(index, folder)
        assert counts(first) == (3, 0, 0, 0, 0, 0, 0) and first.status == "done"
        before = files_of(index)
        assert sorted(before) == [str(folder / n) for n in ("a.txt", "b.txt", "referat.txt")]
        minutes_id = before[str(folder / "referat.txt")]
        minutes_chunks = sorted(p.id for p in index.store.document_chunks(minutes_id))
        assert counts(run(index, folder)) == (0, 0, 0, 0, 3, 0, 0)  # nothing to do

        # A rename into a subfolder: the same document, under its new path, nothing embedded.
        (folder / "2024").mkdir()
        (folder / "referat.txt").rename(folder / "2024" / "kkr-referat.txt")
        vectors = cached_vectors(sync_settings)
        renamed = run(index, folder)
        assert counts(renamed) == (0, 0, 1, 0, 2, 0, 0)
        assert cached_vectors(sync_settings) == vectors
        moved = str(folder / "2024" / "kkr-referat.txt")
        assert files_of(index)[moved] == minutes_id and str(folder / "referat.txt") not in files_of(
            index
        )
        points = index.store.document_chunks(minutes_id)
        assert sorted(p.id for p in points) == minutes_chunks
        assert {p.payload["source"] for p in points} == {moved}
        assert index.catalog.get(minutes_id).document.source == moved
        hit = Searcher(index).search(SearchRequest(query=MINUTES_QUERY, limit=1)).hits[0]
        assert hit.citation.document_id == minutes_id and hit.citation.source == moved

        # A change, a removal and a new file in one round.
        old_b = files_of(index)[str(folder / "b.txt")]
        with open(folder / "b.txt", "a", encoding="utf-8") as fh:
            fh.write("\nEt nyt afsnit om takstforhandlinger mellem kommuner og leverandører.\n")
        (folder / "a.txt").unlink()
        shutil.copy(FIXTURES / "latin1.txt", folder / "ny.txt")
        report = run(index, folder)
        assert counts(report) == (1, 1, 0, 1, 1, 0, 0)
        after = files_of(index)
        assert sorted(after) == sorted([str(folder / "b.txt"), str(folder / "ny.txt"), moved])
        assert after[str(folder / "b.txt")] != old_b and old_b not in index.store.document_ids()
        assert agrees(index) and len(index.catalog) == 3
        recorded = states(index).get(str(folder.resolve()))
        assert recorded is not None and recorded.collection == "kkr"
        assert counts(recorded) == counts(report) and recorded.last_run

        # Same size, new content: hashed again (its time changed), so changed. Touched only:
        # hashed again, and unchanged.
        latin = folder / "ny.txt"
        data = latin.read_bytes()
        vowel = data.index(b"a")
        latin.write_bytes(data[:vowel] + b"e" + data[vowel + 1 :])
        os.utime(folder / "b.txt")
        assert counts(run(index, folder)) == (0, 1, 0, 0, 2, 0, 0)

        # The folder emptied: every document of it goes.
        for path in folder.rglob("*.txt"):
            path.unlink()
        assert counts(run(index, folder)) == (0, 0, 0, 3, 0, 0, 0)
        assert len(index.catalog) == 0 and index.store.count() == 0

    audit = (sync_settings.log_dir / "audit.jsonl").read_text()
    assert audit.count('"outcome": "renamed"') == 1 and audit.count('"outcome": "removed"') == 4
    assert '"key_id": "sync"' in audit


def test_copies_unreadable_files_and_other_folders(tmp_path, sync_settings, embedder):
    folder, other = tmp_path / "docs", tmp_path / "docs2"  # docs2 shares docs's prefix
    folder.mkdir()
    other.mkdir()
    shutil.copy(FIXTURES / "minutes.txt", folder / "referat.txt")
    shutil.copy(FIXTURES / "minutes.txt", folder / "referat-kopi.txt")
    shutil.copy(FIXTURES / "empty.txt", folder / "tom.txt")
    shutil.copy(FIXTURES / "latin1.txt", other / "andet.txt")
    with open_index(sync_settings, embedder) as index:
        assert index.ingest([other], quiet_reporter()).ingested == 1
        report = run(index, folder)
        assert counts(report) == (1, 0, 0, 0, 1, 0, 1)
        assert any("same content as" in m for m in report.messages)
        assert any("tom.txt: empty file" in m for m in report.messages)
        # Not read again while unchanged; read when it changes.
        again = run(index, folder)
        assert counts(again) == (0, 0, 0, 0, 2, 0, 1)
        assert any("has not changed" in m for m in again.messages)
        shutil.copy(FIXTURES / "windows-1252.txt", folder / "tom.txt")
        assert counts(run(index, folder)) == (1, 0, 0, 0, 2, 0, 0)
        # A file that turns unreadable keeps its last good version, round after round.
        good = files_of(index)[str(folder / "tom.txt")]
        (folder / "tom.txt").write_bytes(b"")
        for _ in range(2):
            assert counts(run(index, folder)) == (0, 0, 0, 0, 2, 0, 1)
            assert files_of(index)[str(folder / "tom.txt")] == good
        # The file indexed of the two goes: the copy takes its place, nothing is embedded.
        copies = {str(folder / "referat.txt"), str(folder / "referat-kopi.txt")}
        (held,) = copies & set(files_of(index))
        Path(held).unlink()
        assert counts(run(index, folder)) == (0, 0, 1, 0, 0, 0, 1)
        assert (copies - {held}) < set(files_of(index))
        # Another folder's document and an empty sync of this one.
        assert str(other / "andet.txt") in files_of(index)
        for path in folder.iterdir():
            path.unlink()
        assert counts(run(index, folder)) == (0, 0, 0, 2, 0, 0, 0)
        assert run(index, folder).failed == {}  # nothing remembered of files that are gone
        assert list(files_of(index)) == [str(other / "andet.txt")]
        with pytest.raises(OpsSearchError, match="is not a folder"):
            run(index, tmp_path / "missing")
        assert states(index).get(str(tmp_path / "missing")).status == "failed"


def test_a_file_being_written_waits_for_the_next_round(tmp_path, sync_settings, embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(FIXTURES / "minutes.txt", folder / "referat.txt")
    settings = sync_settings.model_copy(update={"sync_settle_s": 1.0})
    with open_index(settings, embedder) as index:
        time.sleep(1.1)  # settled
        assert counts(run(index, folder)) == (1, 0, 0, 0, 0, 0, 0)
        old = files_of(index)[str(folder / "referat.txt")]
        writing = threading.Event()
        done = threading.Event()
        seed = (SEEDS / "001_d484550536b64950.txt").read_text(encoding="utf-8")

        def writer() -> None:  # a slow copy of a new file and a rewrite of the old one
            with open(folder / "ny.txt", "w") as new, open(folder / "referat.txt", "a") as old_f:
                for n in range(40):
                    new.write(seed[n * 90 : (n + 1) * 90])
                    old_f.write(f"\nTilføjet punkt {n}.")
                    new.flush()
                    old_f.flush()
                    writing.set()
                    time.sleep(0.1)
            done.set()

        thread = threading.Thread(target=writer)
        thread.start()
        writing.wait()
        report = run(index, folder)
        assert not done.is_set(), "the writer finished before the round looked twice"
        assert counts(report) == (0, 0, 0, 0, 0, 2, 0)
        assert sum("still being written" in m for m in report.messages) == 2
        assert files_of(index) == {str(folder / "referat.txt"): old}  # the old version stays
        thread.join()
        time.sleep(1.1)
        assert counts(run(index, folder)) == (1, 1, 0, 0, 0, 0, 0)
        assert old not in index.catalog.ids() and agrees(index)


def test_synced_documents_carry_their_folders_collection_and_move_with_it(
    tmp_path, sync_settings, embedder
):
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(FIXTURES / "minutes.txt", folder / "referat.txt")
    with open_index(sync_settings, embedder) as index:
        run(index, folder, "kkr")
        [entry] = index.catalog.entries()
        assert entry.collection == "kkr"
        assert index.store.facets("collection") == {"kkr": entry.chunks}
        shutil.move(folder / "referat.txt", folder / "omdoebt.txt")  # a rename keeps it
        renamed = run(index, folder, "kkr")
        assert renamed.renamed == 1 and index.store.facets("collection") == {"kkr": entry.chunks}
        moved = run(index, folder, "intern")  # the folder now goes to another collection
        assert moved.unchanged == 1
        assert any("moved from collection kkr to intern" in m for m in moved.messages)
        assert [e.collection for e in index.catalog.entries()] == ["intern"]
        assert index.store.facets("collection") == {"intern": entry.chunks}
        visible = Searcher(index).search(
            SearchRequest(MINUTES_QUERY, filters=Filters(visible=frozenset({"kkr"})))
        )
        assert visible.hits == [] and agrees(index)
