"""Hybrid query latency through the HTTP API, query embedding included.

Starts ``ops-search serve`` on an index (the corpus index by default, or a synthetic one of
``--synthetic N`` chunks), sends the dev-set queries round-robin for ``--requests`` requests
and prints p50/p95/mean per mode. Synthetic chunks reuse real window embeddings of corpus
passages with noise, so the HNSW graph looks like a real one.

``--access`` compares what an access restriction costs: the synthetic documents are spread
over three collections (``offentlig``, ``intern``, ``fortrolig``, a third each) and every
query is sent, in turn, by an admin key (no filter), a read key for two collections and an
anonymous reader (one collection), so all three see the same machine load. It prints each
one's latency and its ratio to the admin's (the target: at most 1.10).

    .venv/bin/python bench/query_latency.py                    # corpus index in ./data
    .venv/bin/python bench/query_latency.py --synthetic 100000 # builds one in a temp dir
    .venv/bin/python bench/query_latency.py --synthetic 100000 --access --data-dir /tmp/b
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
    small noise, new ids and the same payload shape. Each copy's text is its passage with a
    random third of its sentences left out and two sentences of other passages put in (its
    keyword vector is computed from that text): copies of one passage are then not near-
    duplicates of each other, as the passages of a real collection are not. Verbatim copies
    made every query a worst case of boilerplate (each page came up short of distinct
    passages and was fetched again, deeper). (HNSW recall is measured on real embeddings by
    bench/hnsw_recall.py: hundreds of noisy copies of each passage make near-ties that say
    little about recall.)"""
    from ops_search.config import Settings
    from ops_search.models import Chunk, Document
    from search.catalog import CatalogEntry
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
        rng = np.random.default_rng(0)
        sentences = [_SENTENCES.split(c.text) for c in base]
        pool = [s for group in sentences for s in group]
        started = time.monotonic()
        batch: list[tuple[Chunk, np.ndarray, object]] = []
        per_document: dict[int, int] = {}
        for i in range(n - len(base)):
            j = i % len(base)
            noisy = vectors[j] + rng.normal(0, 0.02, vectors[j].shape).astype(np.float32)
            noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
            doc = (i // len(base)) % 500  # one synthetic document per pass over the corpus
            text = _variant(sentences[j], pool, rng)
            chunk = base[j].model_copy(update={"id": str(uuid.UUID(int=i + 1)),
                                               "document_id": f"syn{doc:013d}", "text": text,
                                               "collection": COLLECTIONS[doc % 3]})  # fmt: skip
            per_document[doc] = per_document.get(doc, 0) + 1
            batch.append((chunk, noisy, index.sparse.encode_passage(text, chunk.lang)))
            if len(batch) == 512:
                index.store.upsert([b[0] for b in batch], [b[1] for b in batch],
                                   [b[2] for b in batch])  # fmt: skip
                batch = []
                print(f"\rupserted {i + 1}/{n}", end="", file=sys.stderr)
        if batch:
            index.store.upsert([b[0] for b in batch], [b[1] for b in batch], [b[2] for b in batch])
        print(f"\nupsert {time.monotonic() - started:.1f} s", file=sys.stderr)
        # Catalog records for the synthetic documents: without them the server's recovery
        # would take their passages for orphans and remove them at start.
        for doc, chunks in sorted(per_document.items()):
            doc_id = f"syn{doc:013d}"
            document = Document(id=doc_id, source=f"synthetic/{doc_id}.txt", title=doc_id,
                                sha256=f"{doc:064d}", format="txt", page_count=1)  # fmt: skip
            index.catalog.put(CatalogEntry(document=document, chunks=chunks, file=str(data_dir),
                                           collection=COLLECTIONS[doc % 3]))  # fmt: skip
        started = time.monotonic()
        index.store.optimize()
        print(f"optimize {time.monotonic() - started:.1f} s", file=sys.stderr)


_SENTENCES = re.compile(r"(?<=[.!?:])\s+")


def _variant(sentences: list[str], pool: list[str], rng: np.random.Generator) -> str:
    """A passage's sentences with a random third left out and two others put in at random."""
    kept = [s for s in sentences if rng.random() >= 1 / 3] or sentences[:1]
    for _ in range(2):
        kept.insert(int(rng.integers(0, len(kept) + 1)), pool[int(rng.integers(0, len(pool)))])
    return " ".join(kept)


COLLECTIONS = ("offentlig", "intern", "fortrolig")
ADMIN_KEY, READ_KEY = "bench-admin", "bench-read"
READERS = {  # name: headers; the admin's search is the unfiltered one
    "admin (no filter)": {"X-API-Key": ADMIN_KEY},
    "read key (2 of 3)": {"X-API-Key": READ_KEY},
    "anonymous (1 of 3)": {},
}


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
    parser.add_argument(
        "--access", action="store_true", help="filtered (read key, anonymous) vs admin"
    )
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
    env = {**os.environ, "OPS_DATA_DIR": str(data_dir), "OPS_QUERY_CACHE": "0",
           "OPS_API_KEYS": f"{ADMIN_KEY}:admin,{READ_KEY}:read=offentlig+intern",
           "OPS_PUBLIC_COLLECTIONS": "offentlig"}  # fmt: skip
    with tempfile.TemporaryFile(mode="w+") as server_log:
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/ops-search"), "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=server_log,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=url, timeout=30) as client:
                stats = None
                while stats is None:
                    try:
                        stats = client.get("/stats", headers=READERS["admin (no filter)"]).json()
                    except httpx.TransportError:
                        if server.poll() is not None:  # it could not open the index: say why
                            server_log.seek(0)
                            sys.exit(f"the server stopped:\n{server_log.read()}")
                        time.sleep(0.2)
                print(f"index: {stats['chunks']} chunks, {stats['documents']} documents, "
                      f"{stats['engine']}, {stats['model']}, collections "
                      f"{stats['collections']}; load average {os.getloadavg()}")  # fmt: skip
                if args.access:
                    compare_access(client, queries, args)
                    return
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


def compare_access(client: httpx.Client, queries: list[str], args: argparse.Namespace) -> None:
    """Each query sent by every reader in turn (the order rotating), so that all of them
    meet the same load; latency per reader and its ratio to the unfiltered admin search."""
    names = list(READERS)
    for mode in args.modes.split(","):
        for q in queries[:5]:  # warm-up
            for headers in READERS.values():
                client.get("/search", params={"q": q, "mode": mode, "facets": "false"},
                           headers=headers)  # fmt: skip
        times: dict[str, list[float]] = {n: [] for n in names}
        server_ms: dict[str, list[float]] = {n: [] for n in names}
        for i in range(args.requests):
            q = queries[i % len(queries)]
            for k in range(len(names)):
                name = names[(i + k) % len(names)]
                started = time.perf_counter()
                r = client.get("/search", params={"q": q, "mode": mode, "facets": "false"},
                               headers=READERS[name])  # fmt: skip
                r.raise_for_status()
                times[name].append((time.perf_counter() - started) * 1000)
                server_ms[name].append(r.json()["took_ms"])
        base = times[names[0]]
        base_server = server_ms[names[0]]
        for name in names:
            t, s = times[name], server_ms[name]
            ratio = pct(t, 50) / pct(base, 50)
            ratio_server = pct(s, 50) / pct(base_server, 50)
            print(
                f"{mode:<7} {name:<19} p50 {pct(t, 50):6.1f} ms  p95 {pct(t, 95):6.1f} ms  "
                f"mean {statistics.mean(t):6.1f} ms  ×{ratio:.3f} of the admin's p50; "
                f"in the server p50 {pct(s, 50):.1f} ms ×{ratio_server:.3f}"
            )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
