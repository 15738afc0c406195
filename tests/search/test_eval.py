"""``ops-search eval``: recall and MRR per kind from a qrels file."""

from __future__ import annotations

import json
import os
import subprocess

from search.eval import Qrel, evaluate, format_reports, is_relevant, load_qrels
from search.index import Index
from search.query import Searcher
from tests.conftest import ROOT

QRELS = [
    {"id": "a", "query": "IKA-prisen Aarhus", "kind": "keyword",
     "answer_contains": ["vandt Aarhus Kommune IKA-prisen"]},
    {"id": "b", "query": "Hvad står forkortelsen KORA for?", "kind": "factual",
     "answer_contains": ["Det Nationale Institut for Kommuners og Regioners"], "page": 2},
    {"id": "c", "query": "Hvad står forkortelsen KORA for?", "kind": "factual",
     "answer_contains": ["Det Nationale Institut for Kommuners og Regioners"], "page": 9},
    {"id": "d", "query": "månelandinger og rumfart", "kind": "none",
     "answer_contains": ["Apollo 11 landede"]},
]  # fmt: skip


def test_metrics_per_kind_and_overall(corpus_index, embedder, tmp_path):
    path = tmp_path / "qrels.jsonl"
    path.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in QRELS), "utf-8")
    with Index.open(corpus_index, role="test", embedder=embedder) as index:
        report = evaluate(Searcher(index), load_qrels(path), "hybrid")
    assert report.table["keyword"]["R@10"] == 1.0
    assert report.ranks["b"] is not None and report.ranks["c"] is None  # page must match
    assert report.ranks["d"] is None
    assert report.table["all"]["R@10"] == 0.5
    assert 0 < report.table["all"]["MRR@10"] <= 0.5
    assert "hybrid" in format_reports([report]) and "keyword" in format_reports([report])


def test_relevance_ignores_case_and_whitespace():
    from ops_search.models import Citation, Hit

    citation = Citation(document_id="d", title="t", source="s", page_start=3, page_end=4,
                        section="", char_start=0, char_end=10, label="l")  # fmt: skip
    hit = Hit(rank=1, score=1.0, chunk_id="c", text="Det  blev\nBESLUTTET i dag", kind="text",
              lang="da", citation=citation)  # fmt: skip
    assert is_relevant(hit, Qrel("x", "q", "k", ["det blev besluttet"]))
    assert is_relevant(hit, Qrel("x", "q", "k", ["det blev besluttet"], page=4))
    assert not is_relevant(hit, Qrel("x", "q", "k", ["det blev besluttet"], page=5))


def test_eval_command_prints_a_table_per_set_and_mode_then_a_line_per_set(corpus_index, tmp_path):
    first, second = tmp_path / "keyword.jsonl", tmp_path / "factual.jsonl"
    first.write_text(json.dumps(QRELS[0], ensure_ascii=False), "utf-8")
    second.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in QRELS[1:]), "utf-8")
    env = {**os.environ, "OPS_DATA_DIR": str(corpus_index.data_dir),
           "OPS_CACHE_DIR": str(corpus_index.cache_dir)}  # fmt: skip
    proc = subprocess.run(
        [str(ROOT / ".venv/bin/ops-search"), "eval", str(first), str(second), "--mode", "sparse",
         "--mode", "dense"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "== keyword (1 queries)" in lines and "== factual (3 queries)" in lines
    assert lines[1].split()[:3] == ["mode", "kind", "n"]
    summary = lines[lines.index(next(ln for ln in lines if ln.startswith("set "))) :]
    rows = {tuple(ln.split()[:3]): ln.split()[3:] for ln in summary[1:]}
    assert set(rows) == {
        ("keyword", "sparse", "1"), ("keyword", "dense", "1"),
        ("factual", "sparse", "3"), ("factual", "dense", "3"),
    }  # fmt: skip
    assert rows[("keyword", "sparse", "1")][2] == "1.000"  # R@10 of the one keyword query
    # The factual set: of its three queries only "b" can be found (page 9 and Apollo cannot).
    assert float(rows[("factual", "dense", "3")][2]) <= 1 / 3 + 1e-3


def test_eval_command_names_a_broken_qrels_file(corpus_index, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "query": "takster"}\n', "utf-8")
    env = {**os.environ, "OPS_DATA_DIR": str(corpus_index.data_dir),
           "OPS_CACHE_DIR": str(corpus_index.cache_dir)}  # fmt: skip
    proc = subprocess.run([str(ROOT / ".venv/bin/ops-search"), "eval", str(bad)],
                          env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert f"{bad}:1" in proc.stderr and "answer_contains" in proc.stderr
