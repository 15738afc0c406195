"""Queries embedded by ONNX Runtime (``OPS_QUERY_RUNTIME=onnx``) against the torch path, on
real Danish text: the vectors agree, the setting chooses the runtime, and an index built
with the torch path searches the same. Nothing is mocked."""

from __future__ import annotations

import numpy as np
import pytest

from ops_search.config import Settings
from ops_search.errors import OpsSearchError
from search.e5_onnx import MIN_AGREEMENT
from search.embed import TorchE5Embedder, make_embedder
from search.embed_onnx import OnnxSession
from tests.search.conftest import search_index
from tests.search.test_e5_convert import DANISH, QUERY, TRICKY

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def onnx_embedder(converted, onnx_model) -> TorchE5Embedder:
    return TorchE5Embedder(folder=converted, threads=2, query_threads=2, query_runtime="onnx")


@pytest.fixture(scope="session")
def eager_embedder(converted) -> TorchE5Embedder:
    return TorchE5Embedder(folder=converted, threads=2, query_threads=2, query_runtime="torch")


def _queries(e: TorchE5Embedder, texts: list[str]) -> np.ndarray:
    return np.vstack([e.embed_query(t) for t in texts])


def test_query_vectors_agree_with_torch_on_500_corpus_windows(
    onnx_embedder, eager_embedder, corpus_windows
):
    """Every sentence window of corpus/ read as a query, both runtimes: one model."""
    assert len(corpus_windows) >= 500
    ours = _queries(onnx_embedder, corpus_windows)
    theirs = _queries(eager_embedder, corpus_windows)
    cos = np.sum(ours * theirs, axis=1)
    assert cos.min() >= MIN_AGREEMENT, (cos.min(), corpus_windows[int(cos.argmin())])
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    # The same windows come first for a query, whichever runtime embedded it.
    passages = eager_embedder.embed_passages(corpus_windows)
    for q in [QUERY, "Hvem kaldte partnerskabet en historisk milepæl?", "rammeaftale 2018"]:
        a, b = onnx_embedder.embed_query(q), eager_embedder.embed_query(q)
        assert list(np.argsort(-(passages @ a))[:5]) == list(np.argsort(-(passages @ b))[:5])


def test_tricky_danish_and_long_queries_agree_with_torch(onnx_embedder, eager_embedder):
    # æøå, numbers, punctuation, URLs, emoji, odd spaces, the empty query, and a text longer
    # than one window (read in windows and averaged, as the torch path does).
    long_text = " ".join(DANISH * 12)
    assert len(eager_embedder.token_ids(long_text, query=True)) > 1100
    texts = [*DANISH, *TRICKY, long_text]
    cos = np.sum(_queries(onnx_embedder, texts) * _queries(eager_embedder, texts), axis=1)
    assert cos.min() >= MIN_AGREEMENT, texts[int(cos.argmin())]
    q = onnx_embedder.embed_query("")
    assert q.shape == (384,) and q.dtype == np.float32


def test_passages_stay_on_torch_unless_asked(onnx_embedder, eager_embedder):
    # OPS_QUERY_RUNTIME moves queries only: passages run in torch either way.
    a, b = onnx_embedder.embed_passages(DANISH), eager_embedder.embed_passages(DANISH)
    assert np.array_equal(a, b)


def test_passages_run_in_onnx_runtime_when_asked(converted, onnx_model, eager_embedder):
    both = TorchE5Embedder(
        folder=converted, threads=2, query_threads=2, query_runtime="onnx",
        passage_runtime="onnx",
    )  # fmt: skip
    long_text = " ".join(DANISH * 12)  # longer than one window: read in windows, averaged
    texts = [*DANISH, *TRICKY, long_text]
    ours, torch_rows = both.embed_passages(texts), eager_embedder.embed_passages(texts)
    cos = np.sum(ours * torch_rows, axis=1)
    assert cos.min() >= MIN_AGREEMENT, texts[int(cos.argmin())]
    assert not np.array_equal(ours, torch_rows)  # computed by the other runtime
    # One session of the passages' thread count, shared with queries of the same count.
    assert list(both._onnx_sessions) == [2]
    both.embed_query(QUERY)
    assert list(both._onnx_sessions) == [2]
    one = TorchE5Embedder(
        folder=converted, threads=1, query_threads=2, passage_runtime="onnx"
    )  # fmt: skip
    one.embed_passages(DANISH[:1])
    assert one._onnx_sessions[1].threads == 1  # passages get the passage thread count


def test_the_setting_chooses_the_runtime(model_cache, onnx_model, monkeypatch):
    assert Settings(_env_file=None).query_runtime == "onnx"  # the default
    monkeypatch.setenv("OPS_QUERY_RUNTIME", "torch")
    settings = Settings(_env_file=None, model_cache_dir=model_cache, query_threads=2)
    eager = make_embedder(settings)
    eager.embed_query(QUERY)
    assert (eager.query_runtime, eager._onnx) == ("torch", None)
    fast = make_embedder(settings.model_copy(update={"query_runtime": "onnx"}))
    assert fast._onnx is None  # made at the first query: an ingest never needs it
    fast.embed_query(QUERY)
    assert fast.query_runtime == "onnx" and isinstance(fast._onnx, OnnxSession)
    assert fast._onnx.threads == 2  # OPS_QUERY_THREADS sizes the session's pool
    # Each computes its own vector: ONNX Runtime's equals its session's rows, bit for bit.
    ids = fast.token_ids(QUERY, query=True)
    row = fast._onnx.run(np.array([ids]), np.ones((1, len(ids)), dtype=np.int64))[0]
    assert np.array_equal(fast.embed_query(QUERY), (row / np.linalg.norm(row)).astype(np.float32))
    assert not np.array_equal(fast.embed_query(QUERY), eager.embed_query(QUERY))
    assert float(fast.embed_query(QUERY) @ eager.embed_query(QUERY)) >= MIN_AGREEMENT


def test_an_unknown_runtime_is_refused(converted):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="query_runtime"):
        Settings(_env_file=None, query_runtime="tensorrt")
    with pytest.raises(OpsSearchError, match="torch or onnx"):
        TorchE5Embedder(folder=converted, query_runtime="tensorrt")
    with pytest.raises(ValidationError, match="passage_runtime"):
        Settings(_env_file=None, passage_runtime="tensorrt")
    with pytest.raises(OpsSearchError, match="passage runtime"):
        TorchE5Embedder(folder=converted, passage_runtime="tensorrt")


def test_an_index_searches_the_same_with_either_runtime(tmp_path, onnx_embedder, eager_embedder):
    """The index record names the vectors, not the runtime: an index built before (queries in
    torch) opens with ONNX Runtime queries and gives the same results."""
    from search.query import SearchRequest

    requests = {mode: SearchRequest(QUERY, mode=mode, limit=10) for mode in ("dense", "hybrid")}
    built, _, before = search_index(tmp_path / "data", eager_embedder, requests, build=True)
    opened, _, after = search_index(tmp_path / "data", onnx_embedder, requests)
    assert opened.describe() == built.describe()
    for mode, hits in before.items():
        assert [h.chunk_id for h in after[mode]] == [h.chunk_id for h in hits], mode
        assert all(abs(a.score - b.score) < 1e-4 for a, b in zip(after[mode], hits, strict=True))
