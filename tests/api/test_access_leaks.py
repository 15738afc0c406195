"""Leak suite: no reader learns anything of a document outside its collections.

One real index (the corpus in ``offentlig``, plus documents in ``intern`` and ``fortrolig``),
the real app, and three kinds of reader: anonymous (sees ``offentlig``), a read key for
``offentlig+intern``, and an admin key. For each, every read route and the web page are swept
with queries that match the restricted text, in every mode and with every filter that could
reach it, and each whole response (body and headers) is searched for any title, passage
word, id, chunk id or source name of a document the reader may not see. Counts are checked
against what the reader may see, and results against the same query restricted by the
reader's own collection filter, so a restriction applied after the engine (dropping hits,
wrong totals or facets) fails too. The admin sweep finds the restricted documents: the
queries do reach them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.problems import PROBLEM_JSON
from search.index import Index
from search.store import Filters
from tests.conftest import quiet_reporter

ADMIN_KEY = "admin-noegle-1"
READ_KEY = "laeser-noegle-2"
KEYS = f"{ADMIN_KEY}:admin,{READ_KEY}:read=offentlig+intern"

# Restricted documents: (collection, file name, text). Their words are in no corpus file.
# The queries name them by words the responses echo (the query); each sentence also holds a
# secret word that no query contains, which only a leaked passage can carry. Their dates
# (years no corpus document has) would show in the year facet.
RESTRICTED = [
    (
        "intern",
        "zebrafisk-notat.txt",
        "Internt notat om Zebrafiskudbuddet\n\n"
        "København, 12. marts 2031.\n\n"
        "Zebrafiskudbuddet gælder drift af plejecentre i et offentlig-privat partnerskab efter "
        "Sølvrævsklausulen. Kommunen betaler takster på 1.234 kr. pr. døgn til leverandøren "
        "Okapigruppen, jf. Sølvrævsklausulen. Rammeaftalen om Zebrafiskudbuddet løber i fire "
        "år, og takster reguleres årligt efter Sølvrævsklausulen. Okapigruppen skal rapportere "
        "kvalitet hvert kvartal til kommunalbestyrelsen, som Sølvrævsklausulen kræver.",
    ),
    (
        "fortrolig",
        "blaahval-referat.txt",
        "Fortroligt referat om Blåhvalprojektet\n\n"
        "Mødedato: 3. juni 2032.\n\n"
        "Beslutning: KKR besluttede at Blåhvalprojektet fortsætter som offentlig-privat "
        "samarbejde om specialiserede sociale tilbud over Isbjørnkontoen. Narhvalfonden "
        "finansierer halvdelen via Isbjørnkontoen. Taksterne i rammeaftalen for "
        "Blåhvalprojektet fastsættes af Narhvalfonden og kommunerne i fællesskab på "
        "Isbjørnkontoen, og partnerskabet evalueres efter to år med Isbjørnkontoen.",
    ),
]
SECRET_WORDS = ("Sølvrævsklausulen", "Isbjørnkontoen")
QUERIES = [
    "Zebrafiskudbuddet",
    "Okapigruppen takster",
    "Blåhvalprojektet",
    "Narhvalfonden finansierer",
    "hvad siger rammeaftalen om takster?",
    "offentlig-privat partnerskab plejecentre",
]
MODES = ("hybrid", "dense", "sparse")


@dataclass(frozen=True)
class Reader:
    name: str
    headers: dict
    collections: frozenset[str]  # what it may see


READERS = [
    Reader("anonymous", {}, frozenset({"offentlig"})),
    Reader("read-key", {"X-API-Key": READ_KEY}, frozenset({"offentlig", "intern"})),
    Reader("admin", {"X-API-Key": ADMIN_KEY}, frozenset({"offentlig", "intern", "fortrolig"})),
]


@pytest.fixture(scope="module")
def leak_app(corpus_index, embedder, tmp_path_factory):
    """The corpus index with the restricted documents ingested into their collections, served
    with three kinds of key; yields (client, markers by collection)."""
    import shutil

    root = tmp_path_factory.mktemp("leaks")
    settings = corpus_index.model_copy(
        update={"data_dir": root / "data", "api_keys": KEYS, "public_collections": "offentlig"}
    )
    shutil.copytree(corpus_index.data_dir, settings.data_dir)
    with Index.open(settings, role="test", embedder=embedder) as index:
        for collection, name, text in RESTRICTED:
            folder = root / collection
            folder.mkdir()
            (folder / name).write_text(text, encoding="utf-8")
            summary = index.ingest([folder], quiet_reporter(), collection=collection)
            assert summary.ingested == 1, summary
        markers: dict[str, set[str]] = {}
        for entry in index.catalog.entries():
            if entry.collection == "offentlig":
                continue
            doc = entry.document
            found = markers.setdefault(entry.collection, set())
            found |= {doc.id, doc.sha256, doc.title, Path(doc.source).name}
            found |= {w for w in SECRET_WORDS if w in doc.text}
            found |= {p.id for p in index.store.document_chunks(doc.id)}
        dates = {e.document.date for e in index.catalog.entries() if e.collection != "offentlig"}
    assert set(markers) == {"intern", "fortrolig"}
    assert dates == {"2031-03-12", "2032-06-03"}
    with TestClient(create_app(settings, embedder=embedder)) as client:
        yield client, markers


def forbidden(reader: Reader, markers: dict[str, set[str]]) -> set[str]:
    return {m for c, found in markers.items() if c not in reader.collections for m in found}


def restricted_ids(markers: dict[str, set[str]], reader: Reader) -> list[str]:
    return sorted(
        m
        for c, found in markers.items()
        if c not in reader.collections
        for m in found
        if re.fullmatch(r"[0-9a-f]{16}", m)
    )


def assert_clean(response, banned: set[str], where: str) -> None:
    """Neither body nor headers carry anything of a document the reader may not see. Text is
    searched as sent and as decoded JSON (titles with æøå are escaped in JSON)."""
    texts = [response.text, str(dict(response.headers))]
    if response.headers.get("content-type", "").startswith(("application/json", PROBLEM_JSON)):
        texts.append(str(response.json()))
    for text in texts:
        leaked = sorted(m for m in banned if m in text)
        assert not leaked, f"{where}: leaked {leaked[:5]}"


@pytest.fixture(params=READERS, ids=[r.name for r in READERS])
def reader(request) -> Reader:
    return request.param


def test_the_queries_reach_the_restricted_documents(leak_app):
    """Without it the sweep would prove nothing: the admin finds every restricted document."""
    client, markers = leak_app
    admin = READERS[-1]
    for collection, name, _ in RESTRICTED:
        found = set()
        for q in QUERIES:
            for mode in MODES:
                body = client.get("/search", params={"q": q, "mode": mode}, headers=admin.headers)
                found |= {
                    h["citation"]["source"].rsplit("/", 1)[-1] for h in body.json()["results"]
                }
        assert name in found, collection
    facets = client.get("/search", params={"q": "takster"}, headers=admin.headers).json()["facets"]
    assert set(facets["collection"]) == {"offentlig", "intern", "fortrolig"}


SEARCH_VARIANTS = [
    {},
    {"limit": 100},
    {"offset": 3, "limit": 5},
    {"per_document": 1},
    {"collection": "fortrolig"},
    {"collection": ["intern", "fortrolig"]},
    {"kind": "decision"},
    {"doc_type": "referat"},
    {"source": "fortrolig"},
    {"facets": "false"},
]


def test_search_shows_nothing_outside_the_readers_collections(leak_app, reader):
    client, markers = leak_app
    banned = forbidden(reader, markers)
    secret_ids = restricted_ids(markers, reader)
    for q in QUERIES:
        for mode in MODES:
            for extra in [*SEARCH_VARIANTS, *({"document_id": i} for i in secret_ids)]:
                params = {"q": q, "mode": mode, **extra}
                r = client.get("/search", params=params, headers=reader.headers)
                assert r.status_code == 200, (params, r.text)
                assert_clean(r, banned, f"/search {params}")
                for hit in r.json()["results"]:
                    assert hit["citation"]["collection"] in reader.collections


def test_search_results_and_totals_are_those_of_the_visible_collections(leak_app, reader):
    """The restriction is in the engine query: the reader gets exactly what the admin gets
    when asking for the reader's collections, with the same totals and paging."""
    client, _ = leak_app
    admin = READERS[-1]
    for q in QUERIES:
        for mode in MODES:
            for page in ({"limit": 100}, {"offset": 2, "limit": 3}):
                params = {"q": q, "mode": mode, "facets": "false", **page}
                mine = client.get("/search", params=params, headers=reader.headers).json()
                oracle = client.get(
                    "/search",
                    params={**params, "collection": sorted(reader.collections)},
                    headers=admin.headers,
                ).json()
                assert [h["chunk_id"] for h in mine["results"]] == [
                    h["chunk_id"] for h in oracle["results"]
                ], (reader.name, params)
                assert mine["total"] == oracle["total"], (reader.name, params)


def expected_counts(client, reader: Reader) -> dict:
    """What the reader may see, counted from the admin's document list and from the store
    asked through the reader's own collection filter (not the access path under test)."""
    admin = READERS[-1]
    docs = client.get("/documents", params={"limit": 500}, headers=admin.headers).json()
    mine = [d for d in docs["documents"] if d["collection"] in reader.collections]
    store = client.app.state.ops.index.store
    chosen = Filters(collection=sorted(reader.collections))
    years = Counter()
    for d in mine:
        if d["date"]:
            years[d["date"][:4]] += d["chunks"]
    return {
        "documents": len(mine),
        "chunks": sum(d["chunks"] for d in mine),
        "ids": sorted(d["id"] for d in mine),
        "doc_type": store.facets("doc_type", chosen),
        "lang": store.facets("lang", chosen),
        "kind": store.facets("kind", chosen),
        "collection": store.facets("collection", chosen),
        "year": dict(sorted(years.items(), reverse=True)),
    }


def test_facets_and_stats_count_only_the_visible_collections(leak_app, reader):
    client, markers = leak_app
    want = expected_counts(client, reader)
    assert set(want["collection"]) == reader.collections
    body = client.get("/search", params={"q": "takster"}, headers=reader.headers).json()
    for key in ("doc_type", "lang", "collection", "year"):
        assert body["facets"][key] == want[key], key
    r = client.get("/stats", headers=reader.headers)
    assert_clean(r, forbidden(reader, markers), "/stats")
    stats = r.json()
    assert stats["documents"] == want["documents"] and stats["chunks"] == want["chunks"]
    assert stats["doc_types"] == want["doc_type"] and stats["langs"] == want["lang"]
    assert stats["kinds"] == want["kind"] and stats["collections"] == want["collection"]
    admin = reader.name == "admin"
    assert (stats["disk_bytes"] is not None) == admin and (stats["data_dir"] is not None) == admin


def test_health_says_nothing_but_up(leak_app, reader):
    client, _ = leak_app
    assert client.get("/health", headers=reader.headers).json() == {"ok": True}


def test_document_list_shows_the_visible_collections_only(leak_app, reader):
    client, markers = leak_app
    want = expected_counts(client, reader)
    banned = forbidden(reader, markers)
    seen = []
    for offset in range(0, want["documents"] + 3, 2):
        r = client.get("/documents", params={"offset": offset, "limit": 2}, headers=reader.headers)
        assert_clean(r, banned, f"/documents offset {offset}")
        assert r.json()["total"] == want["documents"]
        seen += [d["id"] for d in r.json()["documents"]]
    assert sorted(seen) == want["ids"]


def test_a_document_the_reader_may_not_see_is_not_found(leak_app, reader):
    """404 exactly as for an id that does not exist: nothing tells that it does."""
    client, markers = leak_app
    banned = forbidden(reader, markers)
    nowhere = "0123456789abcdef"
    for doc_id in restricted_ids(markers, reader):
        for path in (
            "/documents/{}",
            "/documents/{}/file",
            "/documents/{}/pages/1",
            "/dokument/{}",
            "/dokument/{}?side=1&fra=0&til=40&q=Zebrafiskudbuddet",
        ):
            r = client.get(path.format(doc_id), headers=reader.headers)
            absent = client.get(path.format(nowhere), headers=reader.headers)
            assert r.status_code == absent.status_code == 404, path
            assert r.text.replace(doc_id, nowhere) == absent.text, path
            assert_clean(r, banned - {doc_id}, path)


def test_visible_documents_pages_and_files_carry_nothing_restricted(leak_app, reader):
    client, markers = leak_app
    banned = forbidden(reader, markers)
    for doc_id in expected_counts(client, reader)["ids"]:
        for path in (f"/documents/{doc_id}", f"/documents/{doc_id}/pages/1",
                     f"/documents/{doc_id}/file", f"/dokument/{doc_id}"):  # fmt: skip
            r = client.get(path, headers=reader.headers)
            assert r.status_code == 200, path
            assert_clean(r, banned, path)


def crawl(client, reader: Reader, start: list[str], banned: set[str], depth: int = 2) -> int:
    """Fetch the pages and every same-site link on them (result links, "Vis flere", filters,
    pages of documents), ``depth`` links deep; each must be clean. Returns pages fetched."""
    seen: set[str] = set()
    todo = list(start)
    for _ in range(depth + 1):
        found = []
        for url in todo:
            if url in seen:
                continue
            seen.add(url)
            r = client.get(url, headers=reader.headers)
            assert r.status_code in (200, 404), (url, r.status_code)
            assert_clean(r, banned, url)
            if r.headers.get("content-type", "").startswith("text/html"):
                for href in re.findall(r'href="(/[^"#]*)', r.text):
                    found.append(href.replace("&amp;", "&"))
        todo = [u for u in found if not u.startswith("/static/") and u not in seen]
    return len(seen)


def test_the_web_page_and_its_links_show_nothing_restricted(leak_app, reader):
    client, markers = leak_app
    banned = forbidden(reader, markers)
    start = ["/dokumenter"]
    for q in QUERIES:
        for extra in ("", "&collection=fortrolig", "&collection=intern", "&mode=sparse",
                      "&limit=20", "&kind=decision"):  # fmt: skip
            start.append(f"/?q={q}{extra}")
    assert crawl(client, reader, start, banned) > len(start)
    page = client.get("/", params={"q": "takster"}, headers=reader.headers).text
    offered = set(re.findall(r'name="collection" value="([^"]+)"', page))
    assert offered == reader.collections


def test_jobs_are_for_admin_keys_only(leak_app, reader):
    client, _ = leak_app
    status = client.get("/jobs/000000000000", headers=reader.headers).status_code
    assert status == {"anonymous": 401, "read-key": 403, "admin": 404}[reader.name]


def test_a_read_key_asking_for_a_hidden_collection_gets_an_empty_answer(leak_app):
    client, _ = leak_app
    r = client.get(
        "/search", params={"q": "Blåhvalprojektet", "collection": "fortrolig"},
        headers=READERS[1].headers,
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["results"] == [] and r.json()["total"] == 0
    ghost = client.get(
        "/search", params={"q": "Blåhvalprojektet", "collection": "findes-ikke"},
        headers=READERS[1].headers,
    )  # fmt: skip
    assert ghost.json() == {**r.json(), "took_ms": ghost.json()["took_ms"]}
