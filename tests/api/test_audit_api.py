"""The audit log through the real app: uploads, deletes and downloads of originals are
recorded with a key id (never the key), the route, the document id and the outcome —
refusals too; searches are not. And `ops-search audit --since` filters them."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta

from ops_search.audit import key_id
from tests.api.conftest import API_KEY
from tests.api.test_documents_api import doc_id, wait_for
from tests.conftest import FIXTURES, ROOT

EXE = ROOT / ".venv" / "bin" / "ops-search"
KORA = "kora-2013-ops-specialiserede-socialomraade.pdf"


def events(settings) -> list[dict]:
    path = settings.data_dir / "logs" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_upload_delete_and_download_are_audited_with_a_key_id(writer, corpus_index_copy):
    me = key_id(API_KEY)
    minutes = (FIXTURES / "minutes.txt").read_bytes()
    r = writer.post("/documents", files={"files": ("referat.txt", minutes, "text/plain")})
    assert r.status_code == 202
    job = wait_for(writer, r.headers["location"])
    new_id = job["files"][0]["document_id"]
    assert writer.get(f"/documents/{new_id}/file").content == minutes
    assert writer.get("/search", params={"q": "referat"}).status_code == 200  # not audited
    assert writer.get(f"/documents/{new_id}").status_code == 200  # not audited
    assert writer.delete(f"/documents/{new_id}").status_code == 204
    assert writer.get(f"/documents/{new_id}/file").status_code == 404

    log = events(corpus_index_copy)
    shown = [(e["key_id"], e["route"], e["document_id"], e["status"], e["outcome"]) for e in log]
    assert shown == [
        (me, "POST /documents", new_id, 202, "ok"),
        (me, "GET /documents/{id}/file", new_id, 200, "ok"),
        (me, "DELETE /documents/{id}", new_id, 204, "ok"),
        (me, "GET /documents/{id}/file", new_id, 404, "not found"),
    ]
    assert log[0]["job"] == job["id"]
    for event in log:
        assert datetime.fromisoformat(event["time"]) > datetime.now(UTC) - timedelta(minutes=5)
    raw = (corpus_index_copy.data_dir / "logs" / "audit.jsonl").read_text()
    assert API_KEY not in raw


def test_refused_writes_are_audited_without_the_key(writer, corpus_index_copy):
    kora = doc_id(writer, KORA)
    files = {"files": ("a.txt", b"tekst", "text/plain")}
    assert writer.post("/documents", files=files, headers={"X-API-Key": ""}).status_code == 401
    wrong = "forkert-noegle-42"
    assert writer.delete(f"/documents/{kora}", headers={"X-API-Key": wrong}).status_code == 403
    r = writer.post("/documents", files={"files": ("tom.txt", b"", "text/plain")})
    assert r.status_code == 422
    assert writer.get(f"/documents/{kora}").status_code == 200  # still there
    shown = [
        (e["key_id"], e["route"], e["document_id"], e["outcome"]) for e in events(corpus_index_copy)
    ]
    assert shown == [
        ("anonymous", "POST /documents", None, "denied"),
        (key_id(wrong), "DELETE /documents/{id}", kora, "denied"),
        (key_id(API_KEY), "POST /documents", None, "rejected"),
    ]
    assert wrong not in (corpus_index_copy.data_dir / "logs" / "audit.jsonl").read_text()


def test_audit_since_filters_and_refuses_a_bad_value(writer, corpus_index_copy):
    kora = doc_id(writer, KORA)
    assert writer.get(f"/documents/{kora}/file").status_code == 200
    path = corpus_index_copy.data_dir / "logs" / "audit.jsonl"
    old = {
        "time": "2026-01-05T09:00:00+00:00",
        "key_id": "0badc0de",
        "route": "DELETE /documents/{id}",
        "document_id": "00000000000000aa",
        "status": 204,
        "outcome": "ok",
    }
    with open(path) as fh:
        recent = fh.read()
    path.write_text(json.dumps(old) + "\n" + recent)

    env = {**os.environ, "OPS_DATA_DIR": str(corpus_index_copy.data_dir)}

    def audit(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(EXE), "audit", *args], env=env, capture_output=True, text=True, timeout=60
        )

    everything = audit("--json")
    assert everything.returncode == 0, everything.stderr
    assert [json.loads(line)["document_id"] for line in everything.stdout.splitlines()] == [
        "00000000000000aa",
        kora,
    ]
    for since in ("24h", "1d", datetime.now(UTC).date().isoformat()):
        lines = audit("--since", since, "--json").stdout.splitlines()
        assert [json.loads(line)["document_id"] for line in lines] == [kora], since
    older = audit("--since", "2026-01-01").stdout
    assert "00000000000000aa" in older and kora in older and "0badc0de" in older
    assert audit("--since", "2099-01-01T00:00").stdout == ""
    bad = audit("--since", "sidste uge")
    assert bad.returncode == 2
    assert "--since" in bad.stderr and "24h" in bad.stderr and "Traceback" not in bad.stderr
