"""A server killed during an upload job (a real ``kill -9``), restarted: the job is resumed
and finishes, nothing it half wrote stays searchable, counts agree, the document can be
deleted. And a job killed twice stays interrupted, its original removed, to be sent again."""

from __future__ import annotations

import hashlib
import os

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.schemas import Job, JobFile
from ops_search.models import Document
from search.index import WRITE_BATCH, Index
from tests.api.conftest import API_KEY
from tests.conftest import CORPUS, FIXTURES, free_port, start_server, wait

pytestmark = pytest.mark.slow

# A press release cut into ≈50 small passages (SMALL_PASSAGES): two write batches, so that a
# kill can fall between them, for little embedding.
LARGE = CORPUS / "kkr-sjaelland-pressemeddelelse-partnerskab-2025.pdf"
# A long report sent with it keeps the job running for many more batches, so that the kill
# lands inside the job however fast the embedder is.
LONGER = CORPUS / "kora-2013-ops-specialiserede-socialomraade.pdf"
SMALL_PASSAGES = {
    "OPS_CHUNK_WORDS": "20",
    "OPS_CHUNK_MAX_WORDS": "20",
    "OPS_CHUNK_MIN_WORDS": "0",
    "OPS_CHUNK_OVERLAP_WORDS": "0",
}


def consistent(url: str, headers: dict) -> dict:
    """/stats against /documents: same documents, passages counted alike, and every
    search hit opens its document."""
    stats = httpx.get(url + "/stats").json()
    docs = httpx.get(url + "/documents", params={"limit": 500}).json()
    assert stats["documents"] == docs["total"] == len(docs["documents"])
    assert stats["chunks"] == sum(d["chunks"] for d in docs["documents"])
    query = {"q": "partnerskab mellem KKR Sjælland og private leverandører", "limit": 50}
    hits = httpx.get(url + "/search", params=query).json()
    for hit in hits["results"]:
        doc_id = hit["citation"]["document_id"]
        assert httpx.get(f"{url}/documents/{doc_id}", headers=headers).status_code == 200
    return stats


def test_server_killed_during_an_upload_resumes_the_job(tmp_path):
    env = {
        **os.environ,
        "OPS_DATA_DIR": str(tmp_path / "data"),
        "OPS_CACHE_DIR": str(tmp_path / "cache"),  # cold: the job takes long enough to kill
        "OPS_API_KEYS": API_KEY,
        **SMALL_PASSAGES,
    }
    headers = {"X-API-Key": API_KEY}
    port = free_port()
    server = start_server(env, port)
    url = f"http://127.0.0.1:{port}"
    try:
        files = [
            ("files", ("partnerskab.pdf", LARGE.read_bytes())),
            ("files", ("kora.pdf", LONGER.read_bytes())),
        ]
        r = httpx.post(url + "/documents", files=files, headers=headers, timeout=120)
        assert r.status_code == 202, r.text
        job_url = url + r.headers["location"]
        job = wait(
            lambda: (
                (j := httpx.get(job_url, headers=headers).json())["passages_done"] >= WRITE_BATCH
                and j
            ),
            "the first batch of passages",
        )
        assert job["status"] == "running" and job["passages_done"] < job["passages_total"]
        server.kill()  # SIGKILL: no shutdown code runs
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    # An upload that was being read when the server died.
    staging = tmp_path / "data" / "files" / ".incoming-5ee1d0a1"
    staging.mkdir(parents=True)
    (staging / "halv.txt").write_text("halvt læst")

    port = free_port()
    server = start_server(env, port)
    url = f"http://127.0.0.1:{port}"
    job_url = f"{url}/jobs/{job['id']}"
    try:
        assert not staging.exists()
        after = httpx.get(job_url, headers=headers).json()
        assert "stopped while this job ran" in after["message"]
        done = wait(
            lambda: (j := httpx.get(job_url, headers=headers).json())["status"] == "done" and j,
            "resume",
        )
        assert [f["status"] for f in done["files"]] == ["done", "done"]
        passages = sum(f["passages"] for f in done["files"])
        assert done["passages_done"] == done["passages_total"] == passages
        stats = consistent(url, headers)
        assert stats["documents"] == 2 and stats["chunks"] == done["passages_total"]

        for entry in done["files"]:
            doc_id = entry["document_id"]
            assert httpx.delete(f"{url}/documents/{doc_id}", headers=headers).status_code == 204
            assert not (tmp_path / "data" / "files" / doc_id).exists()
        assert consistent(url, headers)["chunks"] == 0
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_a_job_interrupted_after_its_resume_stays_interrupted(settings, embedder, shared_cache):
    settings = settings.model_copy(update={"cache_dir": shared_cache, "api_keys": API_KEY})
    data = (FIXTURES / "minutes.txt").read_bytes()
    doc_id = Document.id_for(hashlib.sha256(data).hexdigest())
    original = settings.files_dir / doc_id / "referat.txt"
    original.parent.mkdir(parents=True)
    original.write_bytes(data)
    job = Job(
        id="0123456789ab",
        status="running",
        files=[JobFile(name="referat.txt", status="running", document_id=doc_id, passages=3)],
        passages_total=3,
        created_at="2025-01-01T00:00:00+00:00",
    )
    # As a server killed during a resumed run leaves it.
    with Index.open(settings, role="test", embedder=embedder) as index:
        index.jobs.create(job.id, job.status, job.model_dump_json(), [str(original)])
        index.jobs.update(job.id, job.status, job.model_dump_json(), resumed=1)

    with TestClient(create_app(settings, embedder=embedder)) as client:
        client.headers["X-API-Key"] = API_KEY
        after = client.get(f"/jobs/{job.id}").json()
        assert after["status"] == "interrupted" and after["finished_at"]
        assert "send the files marked interrupted again" in after["message"]
        assert after["files"][0]["status"] == "interrupted"
        assert not original.parent.exists()
        assert client.get("/stats").json()["documents"] == 0

        r = client.post("/documents", files={"files": ("referat.txt", data, "text/plain")})
        again = wait(
            lambda: (j := client.get(r.headers["location"]).json())["status"] == "done" and j,
            "the upload sent again",
        )
        assert again["files"][0]["document_id"] == doc_id
        assert client.get("/stats").json()["documents"] == 1
        assert client.delete(f"/documents/{doc_id}").status_code == 204


def test_a_job_stopped_by_a_shutdown_goes_on_at_the_next_start(settings, embedder, tmp_path):
    """A graceful stop ends a job at its next batch, undoes its half-written document and
    leaves it to the next start, without using up its one resume after a crash."""
    small = {k.removeprefix("OPS_").lower(): int(v) for k, v in SMALL_PASSAGES.items()}
    settings = settings.model_copy(
        update={"cache_dir": tmp_path / "cache", "api_keys": API_KEY, **small}
    )
    with TestClient(create_app(settings, embedder=embedder)) as client:
        client.headers["X-API-Key"] = API_KEY
        files = [
            ("files", ("partnerskab.pdf", LARGE.read_bytes())),
            ("files", ("kora.pdf", LONGER.read_bytes())),
        ]
        r = client.post("/documents", files=files)
        job_url = r.headers["location"]
        wait(lambda: client.get(job_url).json()["passages_done"] >= WRITE_BATCH, "a batch")
    # Shut down: the job stopped after its batch; nothing of its document is left.
    with Index.open(settings, role="test", embedder=embedder) as index:
        unfinished = index.jobs.unfinished()
        if not unfinished:  # a fast embedder may finish the whole job before the stop
            pytest.skip("the job finished before the shutdown reached it")
        [stopped] = unfinished
        assert stopped.resumed == 0 and stopped.status == "running"
        # Only the files the job finished are in the index: the one it was in is undone.
        record = Job.model_validate_json(stopped.record)
        finished = sum(f.passages for f in record.files if f.status == "done")
        assert record.files[-1].status != "done"
        assert index.store.count() == finished and index.catalog.interrupted() == []

    with TestClient(create_app(settings, embedder=embedder)) as client:
        client.headers["X-API-Key"] = API_KEY
        done = wait(lambda: (j := client.get(job_url).json())["status"] == "done" and j, "the job")
        assert "it went on after the restart" in done["message"]
        stats = client.get("/stats").json()
        assert stats["documents"] == 2 and stats["chunks"] == done["passages_total"]
