"""Hybrid query latency through the HTTP API, query embedding included.

Starts ``ops-search serve`` on an index (the corpus index by default, or a synthetic one of
``--synthetic N`` chunks), sends the dev-set queries round-robin for ``--requests`` requests
and prints p50/p95/mean per mode. Synthetic chunks reuse real window embeddings of corpus
passages with noise, so the HNSW graph looks like a real one.

    .venv/bin/python bench/query_latency.py                    # corpus index in ./data
    .venv/bin/python bench/query_latency.py --synthetic 100000 # builds one in a temp dir
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_synthetic(data_dir: Path, n: int) -> None:
    """An index of ``n`` chunks: corpus chunks and their real window vectors, copied with
    small noise, new ids and the same payload shape. (HNSW recall is measured on real
    embeddings by bench/hnsw_recall.py: hundreds of noisy copies of each passage make near-ties
    that say little about recall.)"""
    from ops_search.config import Settings
    from ops_search.models import Chunk
    from search.index import Index
    from search.windows import window_inputs

    settings = Settings(data_dir=data_dir)
    with Index.open(settings, role="bench") as index:
        index.ingest([ROOT / "corpus"], _quiet())
        base = [p.chunk() for p in index.store.scroll()]
        vectors = []
        for chunk in base:
            v, _ = index.cache.embed(window_inputs(chunk), index.embedder.embed_passages)
            vectors.append(index.centering(v))
        sparse = [index.sparse.encode_passage(c.text) for c in base]
        rng = np.random.default_rng(0)
        started = time.monotonic()
        batch: list[tuple[Chunk, np.ndarray, object]] = []
        for i in range(n - len(base)):
            j = i % len(base)
            noisy = vectors[j] + rng.normal(0, 0.02, vectors[j].shape).astype(np.float32)
            noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
            chunk = base[j].model_copy(update={"id": str(uuid.UUID(int=i + 1)),
                                               "document_id": f"syn{j % 500:013d}"})  # fmt: skip
            batch.append((chunk, noisy, sparse[j]))
            if len(batch) == 512:
                index.store.upsert([b[0] for b in batch], [b[1] for b in batch],
                                   [b[2] for b in batch])  # fmt: skip
                batch = []
                print(f"\rupserted {i + 1}/{n}", end="", file=sys.stderr)
        if batch:
            index.store.upsert([b[0] for b in batch], [b[1] for b in batch], [b[2] for b in batch])
        print(f"\nupsert {time.monotonic() - started:.1f} s", file=sys.stderr)
        started = time.monotonic()
        index.store.optimize()
        print(f"optimize {time.monotonic() - started:.1f} s", file=sys.stderr)


def pct(values: list[float], q: int) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(len(ordered) * q / 100)) - 1)]


def _quiet():
    import io

    from ops_search.progress import LogReporter

    return LogReporter(io.StringIO())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--synthetic", type=int, default=0)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--modes", default="hybrid,dense,sparse")
    args = parser.parse_args()

    qrels = ROOT.parent / "shared" / "eval" / "dev.jsonl"
    queries = [json.loads(line)["query"] for line in qrels.read_text().splitlines() if line]
    tmp = None
    data_dir = args.data_dir or Path(os.environ.get("OPS_DATA_DIR", ROOT / "data"))
    if args.synthetic:
        if args.data_dir is None:
            tmp = tempfile.TemporaryDirectory(prefix="ops-bench-")
            data_dir = Path(tmp.name) / "data"
        if (data_dir / "index").exists():
            print(f"reusing the index in {data_dir}", file=sys.stderr)
        else:  # --data-dir keeps the synthetic index for another run
            build_synthetic(data_dir, args.synthetic)
    port = free_port()
    # No query-embedding cache: every request pays for its embedding, as a new query does.
    env = {**os.environ, "OPS_DATA_DIR": str(data_dir), "OPS_QUERY_CACHE": "0"}
    with tempfile.TemporaryFile(mode="w+") as server_log:
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/ops-search"), "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=server_log,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=url, timeout=30) as client:
                health = None
                while health is None:
                    try:
                        health = client.get("/health").json()
                    except httpx.TransportError:
                        if server.poll() is not None:  # it could not open the index: say why
                            server_log.seek(0)
                            sys.exit(f"the server stopped:\n{server_log.read()}")
                        time.sleep(0.2)
                print(f"index: {health['chunks']} chunks, {health['documents']} documents, "
                      f"{health['engine']}, {health['model']}")  # fmt: skip
                for mode in args.modes.split(","):
                    for q in queries[:5]:  # warm-up
                        client.get("/search", params={"q": q, "mode": mode, "facets": "false"})
                    times, server_ms = [], []
                    for i in range(args.requests):
                        started = time.perf_counter()
                        q = queries[i % len(queries)]
                        params = {"q": q, "mode": mode, "facets": "false"}
                        r = client.get("/search", params=params)
                        r.raise_for_status()
                        times.append((time.perf_counter() - started) * 1000)
                        server_ms.append(r.json()["took_ms"])
                    print(
                        f"{mode:<7} p50 {pct(times, 50):6.1f} ms  p95 {pct(times, 95):6.1f} ms  "
                        f"mean {statistics.mean(times):6.1f} ms  (n={len(times)}, via HTTP; "
                        f"in the server p50 {pct(server_ms, 50):.1f}, p95 {pct(server_ms, 95):.1f})"
                    )
        finally:
            server.terminate()
            server.wait(timeout=30)
            if tmp:
                tmp.cleanup()


if __name__ == "__main__":
    main()
