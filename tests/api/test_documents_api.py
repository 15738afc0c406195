"""Documents: list, detail, original file, page text, upload → searchable → delete → gone,
and every way an upload or a delete can be refused."""

from __future__ import annotations

import time

import pytest

from api.problems import PROBLEM_JSON
from tests.api.conftest import API_KEY
from tests.conftest import CORPUS, FIXTURES

KORA = "kora-2013-ops-specialiserede-socialomraade.pdf"


def doc_id(client, name: str) -> str:
    docs = client.get("/documents").json()["documents"]
    return next(d["id"] for d in docs if d["source"].endswith(name))


def wait_for(client, job_url: str) -> dict:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = client.get(job_url).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError("job did not finish")


def is_problem(r, status: int, words: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    assert words in r.json()["detail"]


def test_list_documents_is_paged(client):
    body = client.get("/documents", params={"limit": 2}).json()
    assert body["total"] == 5 and len(body["documents"]) == 2
    rest = client.get("/documents", params={"offset": 2, "limit": 10}).json()["documents"]
    assert len(rest) == 3
    first = body["documents"][0]
    for key in ("id", "title", "source", "format", "pages", "chunks", "lang", "doc_type",
                "date", "ingested_at"):  # fmt: skip
        assert key in first


def test_document_detail_has_sections(client):
    detail = client.get(f"/documents/{doc_id(client, KORA)}").json()
    assert detail["pages"] == 13 and detail["format"] == "pdf"
    titles = [s["title"] for s in detail["sections"]]
    assert "1 Indledning" in titles
    sub = next(s for s in detail["sections"] if s["title"].startswith("1.1 "))
    assert sub["path"].endswith("1 Indledning > " + sub["title"]) and sub["page"] == 8


def test_document_detail_lists_the_authors_keywords(client):
    docx_id = doc_id(client, "kkr-sjaelland-rammeaftale-2018-proces.docx")
    detail = client.get(f"/documents/{docx_id}").json()
    assert detail["keywords"] == ["rammeaftale", "KKR Sjælland", "specialiserede socialområde"]
    assert client.get(f"/documents/{doc_id(client, KORA)}").json()["keywords"] == []
    page = client.get(f"/dokument/{docx_id}").text
    assert "Nøgleord: rammeaftale; KKR Sjælland; specialiserede socialområde" in page


def test_original_file_is_served_with_type_and_name(client):
    r = client.get(f"/documents/{doc_id(client, KORA)}/file")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert KORA in r.headers["content-disposition"]
    assert r.content == (CORPUS / KORA).read_bytes()


def test_page_text(client):
    body = client.get(f"/documents/{doc_id(client, KORA)}/pages/2").json()
    assert body["page"] == 2 and body["pages"] == 13
    assert "Det Nationale Institut for Kommuners og Regioners" in " ".join(body["text"].split())


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/documents/0000000000000000", 404),
        ("/documents/not-an-id", 422),
        ("/documents/{kora}/pages/14", 404),
        ("/documents/{kora}/pages/0", 422),
        ("/documents/{kora}/pages/x", 422),
        ("/documents/0000000000000000/file", 404),
    ],
)
def test_unknown_documents_and_bad_pages_are_problems(client, path, status):
    r = client.get(path.format(kora=doc_id(client, KORA)))
    assert r.status_code == status
    assert r.headers["content-type"].startswith(PROBLEM_JSON)


def test_writes_are_disabled_without_configured_keys(client):
    r = client.post("/documents", files={"files": ("a.txt", b"tekst", "text/plain")})
    is_problem(r, 403, "OPS_API_KEYS")
    is_problem(client.delete(f"/documents/{doc_id(client, KORA)}"), 403, "OPS_API_KEYS")


def test_missing_and_wrong_keys_are_refused(writer):
    files = {"files": ("a.txt", b"tekst", "text/plain")}
    r = writer.post("/documents", files=files, headers={"X-API-Key": ""})
    is_problem(r, 401, "X-API-Key")
    r = writer.post("/documents", files=files, headers={"X-API-Key": API_KEY + "x"})
    is_problem(r, 403, "not valid")
    kora = doc_id(writer, KORA)
    is_problem(writer.delete(f"/documents/{kora}", headers={"X-API-Key": "forkert"}), 403, "")
    assert writer.get(f"/documents/{kora}").status_code == 200


def test_upload_becomes_searchable_and_delete_removes_it(writer):
    minutes = (FIXTURES / "minutes.txt").read_bytes()
    r = writer.post("/documents", files={"files": ("referat kkr.txt", minutes, "text/plain")})
    assert r.status_code == 202
    job = wait_for(writer, r.headers["location"])
    assert job["status"] == "done" and job["files"][0]["status"] == "done"
    assert job["passages_done"] == job["passages_total"] > 0
    new_id = job["files"][0]["document_id"]

    hits = writer.get("/search", params={"q": "Mødedato KKR Sjælland 14. marts 2024"}).json()
    assert hits["results"][0]["citation"]["document_id"] == new_id
    assert writer.get("/stats").json()["documents"] == 6
    assert writer.get(f"/documents/{new_id}/file").content == minutes

    assert writer.delete(f"/documents/{new_id}").status_code == 204
    assert writer.get(f"/documents/{new_id}").status_code == 404
    after = writer.get("/search", params={"q": "Mødedato KKR Sjælland 14. marts 2024"}).json()
    assert all(h["citation"]["document_id"] != new_id for h in after["results"])
    assert writer.get("/stats").json()["documents"] == 5


def test_same_upload_twice_is_one_document(writer):
    data = (FIXTURES / "windows-1252.txt").read_bytes()
    for _ in range(2):
        r = writer.post("/documents", files={"files": ("notat.txt", data, "text/plain")})
        job = wait_for(writer, r.headers["location"])
    assert job["files"][0]["status"] == "unchanged"
    assert writer.get("/stats").json()["documents"] == 6


@pytest.mark.parametrize(
    ("name", "data", "status", "words"),
    [
        ("falsk.pdf", (FIXTURES / "not-a-pdf.pdf").read_bytes(), 415, "not a PDF"),
        ("låst.pdf", (FIXTURES / "encrypted.pdf").read_bytes(), 422, "encrypted PDF"),
        ("i-stykker.pdf", (FIXTURES / "corrupt.pdf").read_bytes(), 422, "corrupt PDF"),
        ("tom.txt", b"", 422, "empty file"),
        ("program.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" * 10, 415, "not a PDF, DOCX"),
    ],
)
def test_bad_uploads_are_refused_and_change_nothing(writer, name, data, status, words):
    before = writer.get("/stats").json()["documents"], writer.get("/stats").json()["chunks"]
    r = writer.post("/documents", files={"files": (name, data, "application/octet-stream")})
    is_problem(r, status, words)
    assert name in r.json()["detail"]
    assert (
        writer.get("/stats").json()["documents"],
        writer.get("/stats").json()["chunks"],
    ) == before


def test_oversize_upload_is_refused(corpus_index_copy, embedder):
    from fastapi.testclient import TestClient

    from api.app import create_app

    settings = corpus_index_copy.model_copy(update={"api_keys": API_KEY, "max_upload_mb": 1})
    with TestClient(create_app(settings, embedder=embedder)) as c:
        big = b"tekst " * 200_000
        r = c.post("/documents", files={"files": ("stor.txt", big, "text/plain")},
                   headers={"X-API-Key": API_KEY})  # fmt: skip
        is_problem(r, 413, "over the limit of 1 MB")


def test_path_traversal_names_are_made_safe(writer, corpus_index_copy):
    data = (FIXTURES / "minutes.txt").read_bytes()
    r = writer.post("/documents", files={"files": ("../../x.txt", data, "text/plain")})
    job = wait_for(writer, r.headers["location"])
    detail = writer.get(f"/documents/{job['files'][0]['document_id']}").json()
    assert detail["source"].startswith("uploads/") and ".." not in detail["source"]
    assert detail["source"].endswith("/x.txt")
    files_dir = corpus_index_copy.files_dir.resolve()
    stored = [p.resolve() for p in files_dir.rglob("*") if p.is_file()]
    assert stored and all(files_dir in p.parents for p in stored)
    assert not (corpus_index_copy.data_dir.parent / "x.txt").exists()


def test_a_bad_file_in_a_batch_rejects_the_whole_batch(writer, corpus_index_copy):
    good = (FIXTURES / "minutes.txt").read_bytes()
    bad = (FIXTURES / "encrypted.pdf").read_bytes()
    r = writer.post(
        "/documents",
        files=[("files", ("godt.txt", good, "text/plain")),
               ("files", ("låst.pdf", bad, "application/pdf"))],
    )  # fmt: skip
    is_problem(r, 422, "låst.pdf")
    assert not corpus_index_copy.files_dir.exists() or not any(
        p.is_file() for p in corpus_index_copy.files_dir.rglob("*")
    )


def test_uploads_are_read_under_the_same_limits_as_ingest(corpus_index_copy, embedder, tmp_path):
    """The upload path reads through the one driver: a file over the time limit is refused
    with the limit named, and the server goes on answering."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.ingest.test_driver import scanned_pdf

    slow = scanned_pdf(tmp_path / "scannet.pdf", pages=10).read_bytes()
    settings = corpus_index_copy.model_copy(
        update={"api_keys": API_KEY, "read_timeout": 1, "read_timeout_per_page": 0}
    )
    with TestClient(create_app(settings, embedder=embedder)) as c:
        r = c.post("/documents", files={"files": ("skannet.pdf", slow, "application/pdf")},
                   headers={"X-API-Key": API_KEY})  # fmt: skip
        is_problem(r, 422, "skannet.pdf")
        assert "the limit of 1 s of processor time" in r.json()["detail"]
        assert c.get("/health").status_code == 200
        readers = c.app.state.ops.readers
    assert readers.processes == []  # the server's readers end with it


# --- collections ---------------------------------------------------------------------------

MINUTES_QUERY = "Mødedato KKR Sjælland 14. marts 2024"
ANONYMOUS = {"X-API-Key": ""}


def test_an_upload_goes_into_the_collection_it_names(writer):
    minutes = (FIXTURES / "minutes.txt").read_bytes()
    r = writer.post(
        "/documents",
        files={"files": ("referat.txt", minutes, "text/plain")},
        data={"collection": "intern"},
    )
    assert r.status_code == 202, r.text
    job = wait_for(writer, r.headers["location"])
    assert job["status"] == "done" and job["collection"] == "intern"
    new_id = job["files"][0]["document_id"]
    assert writer.get(f"/documents/{new_id}").json()["collection"] == "intern"
    top = writer.get("/search", params={"q": MINUTES_QUERY}).json()["results"][0]
    assert top["citation"]["document_id"] == new_id
    assert top["citation"]["collection"] == "intern"
    # Anonymous readers see offentlig only: not this document, in no way.
    hits = writer.get("/search", params={"q": MINUTES_QUERY}, headers=ANONYMOUS).json()
    assert all(h["citation"]["document_id"] != new_id for h in hits["results"])
    assert writer.get(f"/documents/{new_id}", headers=ANONYMOUS).status_code == 404
    assert writer.get("/stats", headers=ANONYMOUS).json()["documents"] == 5


def test_an_upload_without_a_collection_is_public(writer):
    data = (FIXTURES / "windows-1252.txt").read_bytes()
    r = writer.post("/documents", files={"files": ("notat.txt", data, "text/plain")})
    job = wait_for(writer, r.headers["location"])
    assert job["collection"] == "offentlig"
    new_id = job["files"][0]["document_id"]
    assert writer.get(f"/documents/{new_id}", headers=ANONYMOUS).json()["collection"] == (
        "offentlig"
    )


def test_the_same_upload_into_another_collection_moves_it(writer):
    data = (FIXTURES / "minutes.txt").read_bytes()
    jobs = []
    for collection in ("intern", "offentlig"):
        r = writer.post(
            "/documents",
            files={"files": ("referat.txt", data, "text/plain")},
            data={"collection": collection},
        )
        jobs.append(wait_for(writer, r.headers["location"]))
    moved = jobs[1]["files"][0]
    assert moved["status"] == "unchanged"
    assert "moved from collection intern to offentlig" in moved["message"]
    assert writer.get("/stats", headers=ANONYMOUS).json()["documents"] == 6
    top = writer.get("/search", params={"q": MINUTES_QUERY}, headers=ANONYMOUS).json()
    assert top["results"][0]["citation"]["document_id"] == moved["document_id"]
    assert top["results"][0]["citation"]["collection"] == "offentlig"


@pytest.mark.parametrize("name", ["Intern", "-x", "a" * 41, "in tern", "æble", "../x"])
def test_an_upload_into_a_badly_named_collection_is_refused(writer, name):
    r = writer.post(
        "/documents",
        files={"files": ("a.txt", b"tekst om takster", "text/plain")},
        data={"collection": name},
    )
    assert r.status_code == 422, r.text
    assert "collection" in r.json()["detail"]
    assert writer.get("/stats").json()["documents"] == 5


def test_a_read_key_may_not_upload_or_delete(corpus_index_copy, embedder):
    from fastapi.testclient import TestClient

    from api.app import create_app

    settings = corpus_index_copy.model_copy(
        update={"api_keys": f"{API_KEY}:admin,laeser:read=offentlig"}
    )
    with TestClient(create_app(settings, embedder=embedder)) as c:
        r = c.post("/documents", files={"files": ("a.txt", b"tekst", "text/plain")},
                   headers={"X-API-Key": "laeser"})  # fmt: skip
        is_problem(r, 403, "may read, not upload")
        kora = doc_id(c, KORA)
        r = c.delete(f"/documents/{kora}", headers={"X-API-Key": "laeser"})
        is_problem(r, 403, "may read, not upload")
        assert c.get(f"/documents/{kora}", headers={"X-API-Key": "laeser"}).status_code == 200
        assert c.get("/jobs/unknown", headers={"X-API-Key": "laeser"}).status_code == 403
        assert c.get("/jobs/unknown", headers={"X-API-Key": API_KEY}).status_code == 404
