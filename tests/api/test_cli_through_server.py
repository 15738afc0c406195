"""``ops-search ingest --server URL``: while the server holds the index, the CLI sends files
through the API — one code path — and they become searchable."""

from __future__ import annotations

import os
import subprocess

import httpx
import pytest

from tests.conftest import FIXTURES, ROOT, free_port, start_server

pytestmark = pytest.mark.slow


def test_ingest_through_a_running_server(corpus_index_copy):
    env = {
        **os.environ,
        "OPS_DATA_DIR": str(corpus_index_copy.data_dir),
        "OPS_CACHE_DIR": str(corpus_index_copy.cache_dir),
        "OPS_API_KEYS": "k-server",
    }
    port = free_port()
    server = start_server(env, port)
    url = f"http://127.0.0.1:{port}"
    try:
        cli = [str(ROOT / ".venv/bin/ops-search"), "ingest", str(FIXTURES / "minutes.txt"),
               "--server", url]  # fmt: skip
        wrong = subprocess.run(cli, env={**env, "OPS_API_KEY": "forkert"}, capture_output=True,
                               text=True, timeout=300)  # fmt: skip
        assert wrong.returncode == 1 and "not valid" in wrong.stderr
        proc = subprocess.run(cli, env={**env, "OPS_API_KEY": "k-server"}, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert "done" in proc.stderr and "minutes.txt" in proc.stderr
        body = httpx.get(url + "/search", params={"q": "Mødedato KKR Sjælland 14. marts 2024"})
        top = body.json()["results"][0]
        assert top["citation"]["source"].endswith("minutes.txt")
        assert httpx.get(url + "/stats").json()["documents"] == 6
    finally:
        server.terminate()
        server.wait(timeout=30)
