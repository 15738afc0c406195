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


def test_eval_command_prints_a_table_per_mode(corpus_index, tmp_path):
    path = tmp_path / "qrels.jsonl"
    path.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in QRELS[:2]), "utf-8")
    env = {**os.environ, "OPS_DATA_DIR": str(corpus_index.data_dir),
           "OPS_CACHE_DIR": str(corpus_index.cache_dir)}  # fmt: skip
    proc = subprocess.run(
        [str(ROOT / ".venv/bin/ops-search"), "eval", str(path), "--mode", "sparse",
         "--mode", "dense"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:3] == ["mode", "kind", "n"]
    assert any(ln.startswith("sparse") and " all " in ln for ln in lines)
    assert any(ln.startswith("dense") and " all " in ln for ln in lines)
