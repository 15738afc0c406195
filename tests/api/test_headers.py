"""Security headers on every answer, originals that never run on our origin, an unexpected
error that keeps the connection, and uploads refused before their body is read.

The last two need a real HTTP server (keep-alive, a client still sending): the app runs in
uvicorn on a thread of this process, on a copy of the corpus index."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import select
import shutil
import socket
import threading
import time

import pytest
import uvicorn

from api.app import create_app
from api.problems import PROBLEM_JSON
from tests.api.conftest import API_KEY
from tests.conftest import free_port

KORA = "kora-2013-ops-specialiserede-socialomraade.pdf"
LIMIT_MB = 1  # the upload limit of the live server below


def doc_id(client, suffix: str) -> str:
    docs = client.get("/documents").json()["documents"]
    return next(d["id"] for d in docs if d["source"].endswith(suffix))


# --- headers ---------------------------------------------------------------------------------


def test_every_response_says_nosniff(client):
    kora = doc_id(client, KORA)
    for path in ("/", "/?q=takster", "/dokumenter", f"/dokument/{kora}", "/search?q=takster",
                 "/documents", f"/documents/{kora}/file", "/static/style.css",
                 "/static/document.js", "/no-such-page", "/search", "/openapi.json", "/docs",
                 "/health"):  # fmt: skip
        r = client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff", path


def test_pages_have_a_strict_csp_and_no_inline_script(client):
    kora = doc_id(client, KORA)
    for path in ("/", "/?q=takster", "/dokumenter", f"/dokument/{kora}?side=2&fra=10&til=90"):
        r = client.get(path)
        assert r.headers["content-type"].startswith("text/html")
        policy = {d.split()[0]: d.split()[1:] for d in r.headers["content-security-policy"]
                  .split(";")}  # fmt: skip
        assert policy["default-src"] == ["'self'"] and "script-src" not in policy
        assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"]
        assert policy["form-action"] == ["'self'"]
        assert "unsafe-inline" not in r.headers["content-security-policy"]
        scripts = re.findall(r"<script\b[^>]*>", r.text)
        assert all(re.search(r'\bsrc="/static/', s) for s in scripts), (path, scripts)
        assert not re.search(r"\son[a-z]+=", r.text), path  # no inline event handlers


def test_the_original_opens_in_a_new_tab_without_opener(client):
    kora = doc_id(client, KORA)
    page = client.get(f"/dokument/{kora}").text
    link = re.search(r'<a href="/documents/[0-9a-f]{16}/file[^"]*"[^>]*>', page)
    assert link and 'target="_blank"' in link[0] and 'rel="noopener"' in link[0]


def test_docs_page_allows_only_its_own_inline_script(client):
    r = client.get("/docs")
    inline = re.findall(r"<script>(.*?)</script>", r.text, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    policy = r.headers["content-security-policy"]
    assert f"'sha256-{digest}'" in policy and "'unsafe-inline'" not in policy.split("style")[0]
    assert "frame-ancestors 'none'" in policy


@pytest.mark.parametrize(
    ("suffix", "media", "disposition"),
    [
        (KORA, "application/pdf", "inline"),
        (".html", "text/html", "attachment"),
        (".docx", "application/vnd.openxmlformats", "attachment"),
    ],
)
def test_originals_are_sandboxed_and_only_pdf_or_text_inline(client, suffix, media, disposition):
    r = client.get(f"/documents/{doc_id(client, suffix)}/file")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media)
    assert r.headers["content-disposition"].startswith(disposition + ";")
    assert r.headers["content-security-policy"] == "sandbox"
    assert r.headers["x-content-type-options"] == "nosniff"


# --- a live server ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(corpus_index, embedder, tmp_path_factory):
    """The app in uvicorn on a thread, upload limit 1 MB, with one route that fails."""
    data = tmp_path_factory.mktemp("live") / "data"
    shutil.copytree(corpus_index.data_dir, data)
    settings = corpus_index.model_copy(
        update={"data_dir": data, "api_keys": API_KEY, "max_upload_mb": LIMIT_MB}
    )
    app = create_app(settings, embedder=embedder)

    def boom() -> None:
        raise RuntimeError("a bug, not an input")

    app.add_api_route("/boom", boom)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(60)


def read_response(sock: socket.socket, timeout: float = 30) -> tuple[int, dict, bytes]:
    """One HTTP/1.1 response with a Content-Length body, read from ``sock``."""
    sock.settimeout(timeout)
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {raw!r}")
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, body


def test_an_unexpected_error_is_a_problem_and_the_connection_lives_on(live):
    with socket.create_connection(("127.0.0.1", live)) as sock:
        sock.sendall(b"GET /boom HTTP/1.1\r\nHost: t\r\n\r\n")
        status, headers, body = read_response(sock)
        assert status == 500 and headers["content-type"].startswith(PROBLEM_JSON)
        assert json.loads(body)["title"] == "Server error" and b"a bug" not in body
        assert headers.get("connection") != "close"
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")  # the same connection
        status, _, body = read_response(sock)
        assert status == 200 and json.loads(body)["ok"] is True


def upload_head(length: int | None, key: str | None) -> bytes:
    lines = [
        "POST /documents HTTP/1.1",
        "Host: t",
        "Content-Type: multipart/form-data; boundary=b0undary",
    ]
    lines += [f"Content-Length: {length}"] if length is not None else ["Transfer-Encoding: chunked"]
    lines += [f"X-API-Key: {key}"] if key is not None else []
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")  # fmt: skip


@pytest.mark.parametrize(
    ("key", "status"), [(None, 401), ("forkert", 403), (API_KEY, 413)]
)  # fmt: skip
def test_a_300_mb_upload_is_refused_before_its_body_is_read(live, key, status):
    """The answer comes after the client sent 64 kB of the 300 MB it announced."""
    with socket.create_connection(("127.0.0.1", live)) as sock:
        sock.sendall(upload_head(300_000_000, key) + b"x" * 65536)
        started = time.monotonic()
        got, headers, body = read_response(sock, timeout=10)
    assert got == status and headers["content-type"].startswith(PROBLEM_JSON), body
    assert time.monotonic() - started < 5
    if status == 413:
        assert f"limit of {LIMIT_MB} MB" in json.loads(body)["detail"]


def test_a_chunked_upload_is_cut_off_at_the_limit(live):
    """No length up front: the server counts as the body streams, and answers 413 once it
    passes the limit, while the client is still sending its 50 MB. (How much is sent by
    then depends on the socket buffers and the machine's load, not on the server.)"""
    chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"  # 64 kB per chunk
    total, sent = 50 * 1024 * 1024, 0
    with socket.create_connection(("127.0.0.1", live)) as sock:
        part = (
            b'--b0undary\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\n'
        )
        sock.sendall(upload_head(None, API_KEY) + b"%x\r\n" % len(part) + part + b"\r\n")
        while sent < total and not select.select([sock], [], [], 0)[0]:
            sock.sendall(chunk)
            sent += 0x10000
            time.sleep(0.001)  # a client on a fast network, not a flood
        status, _, body = read_response(sock, timeout=10)
    assert status == 413, body
    assert sent < total, "the server answered only after the whole body"


def test_an_upload_under_the_limit_still_goes_in_chunked(live):
    boundary = "b0undary"
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"notat.txt\"\r\nContent-Type: text/plain\r\n\r\n"
            "Notat om rammeaftalen og taksterne for botilbud i 2025.\r\n"
            f"--{boundary}--\r\n").encode()  # fmt: skip
    head = (
        "POST /documents HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nX-API-Key: {API_KEY}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", live)) as sock:
        sock.sendall(head + f"{len(form):x}\r\n".encode() + form + b"\r\n0\r\n\r\n")
        status, headers, body = read_response(sock)
    assert status == 202, body
    assert headers["location"].startswith("/jobs/")
