"""ONNX Runtime running the exported e5 encoder (:mod:`search.e5_onnx`) on the CPU.

The torch embedder (:mod:`search.embed_torch`) hands it the same windows of token ids it would
run itself and gets the same mean-pooled rows back, so which runtime computed a vector changes
nothing but the time it took (cosine to torch's float32 ≥ 0.9999, measured ≈ 0.9999999).

Why queries run here (``OPS_QUERY_RUNTIME=onnx``, the default): measured on this 2-core machine
with the 110 eval queries, interleaved with torch's eager forward in one run
(``bench/embed_throughput.py``; figures in the README).

Threads: a session's thread pool is fixed when it is made (``threads``). Its threads do not
spin waiting for work: measured under load from other jobs, spinning made a query slower
(p50 63 against 48 ms), and spinning threads would take processor time from an ingest running
beside the server.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from ops_search.errors import OpsSearchError

__all__ = ["OnnxSession", "pad_batch"]


class OnnxSession:
    """One ONNX Runtime session of the exported encoder; ``run`` is safe from several threads."""

    def __init__(self, path: Path | str, threads: int = 1) -> None:
        try:
            ort = importlib.import_module("onnxruntime")
        except ImportError as err:
            raise OpsSearchError(
                f"OPS_QUERY_RUNTIME=onnx needs onnxruntime ({err}): pip install onnxruntime, "
                "or set OPS_QUERY_RUNTIME=torch"
            ) from err
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, int(threads))
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # errors only: its warnings are about graph internals
        try:
            self._session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime raises its own exception types
            raise OpsSearchError(
                f"ONNX Runtime cannot load {path} ({err}); delete its folder to export it again"
            ) from err
        self.threads = options.intra_op_num_threads
        self.version = ort.__version__

    def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean-pooled rows (float32, batch × dim) of int64 ``ids`` with their 0/1 ``mask``."""
        return self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    def pooled(self, windows: list[list[int]], pad: int, batch: int) -> np.ndarray:
        """Mean-pooled rows of windows of token ids, in the given order; batched by length
        (longest first), as the torch forward batches them."""
        out: np.ndarray | None = None
        order = sorted(range(len(windows)), key=lambda i: -len(windows[i]))
        for s in range(0, len(order), batch):
            rows = order[s : s + batch]
            pooled = self.run(*pad_batch([windows[r] for r in rows], pad))
            if out is None:
                out = np.empty((len(windows), pooled.shape[1]), dtype=np.float32)
            out[rows] = pooled
        return out


def pad_batch(windows: list[list[int]], pad: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows of token ids as one ``pad``-padded int64 batch and its 0/1 mask."""
    longest = max(len(w) for w in windows)
    ids = np.full((len(windows), longest), pad, dtype=np.int64)
    mask = np.zeros_like(ids)
    for j, w in enumerate(windows):
        ids[j, : len(w)] = w
        mask[j, : len(w)] = 1
    return ids, mask
