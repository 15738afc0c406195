"""Scale benchmark for search/store.py.

Builds N synthetic chunks, each a max-sim multivector of --windows sentence-window rows (dim 384,
unit vectors around the chunk's own direction) plus a sparse vector of ~60 Zipf-distributed term
ids with BM25-like term-frequency weights; upserts them in batches, runs optimize(), then
measures:

- build time (upsert, optimize) and disk usage;
- hybrid / dense / sparse query latency, p50 and p95 over --queries queries (limit 10);
- HNSW recall@10 of dense mode against exact max-sim (numpy) over --recall-queries queries, at
  several ef; if settings.hnsw_ef stays below --target-recall, larger ef until one reaches it;
- RSS of a fresh process after reopening the index and running a few queries.

    .venv/bin/python bench/store_scale.py --n 20000
    .venv/bin/python bench/store_scale.py --n 20000 --windows 1
    .venv/bin/python bench/store_scale.py --engine local --n 5000

Dense queries are one window of a stored chunk plus Gaussian noise (a question that paraphrases
one sentence of a passage); uniformly random 384-dim data is a hard case for HNSW, so recall on
real embeddings is usually higher.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ops_search.config import Settings  # noqa: E402
from ops_search.models import Chunk  # noqa: E402
from search.store import Filters, IndexInfo, SparseVector, Store  # noqa: E402

INFO = IndexInfo(backend="bench", model="random-unit", dim=384, normalized=True)
FILLER = " ".join(f"ord{i % 997}" for i in range(4000))
DOC_TYPES = ["rapport", "aftale", "referat", "pressemeddelelse", "artikel"]


def rss_mb() -> dict[str, float]:
    """RSS of this process in MiB: total, anonymous (heap), file-backed (mmap), peak."""
    fields = {}
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        names = {"rss": "VmRSS", "anon": "RssAnon", "file": "RssFile", "peak": "VmHWM"}
        return {k: int(fields[v].split()[0]) / 1024 for k, v in names.items()}
    except (OSError, KeyError):  # not Linux
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {"rss": peak, "anon": float("nan"), "file": float("nan"), "peak": peak}


def fmt_rss(r: dict[str, float]) -> str:
    return f"{r['rss']:.0f} MiB (anon {r['anon']:.0f}, file {r['file']:.0f})"


def make_dense(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def make_clustered(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """Unit vectors around n/200 random centroids (cos to centroid ~0.7, within cluster ~0.5),
    closer to real text embeddings than uniform noise."""
    centroids = make_dense(rng, max(n // 200, 8), dim)
    x = centroids[rng.integers(0, len(centroids), n)]
    x += rng.standard_normal((n, dim), dtype=np.float32) / np.sqrt(dim)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def make_windows(
    rng: np.random.Generator, base: np.ndarray, windows: int, spread: float
) -> np.ndarray:
    """(n, windows, dim): each chunk's windows scattered around its base direction (cos between
    two windows of a chunk ~ 1 / (1 + spread**2), ~0.4 at the default spread 1.2)."""
    n, dim = base.shape
    x = base[:, None, :] + spread * rng.standard_normal(
        (n, windows, dim), dtype=np.float32
    ) / np.sqrt(dim)
    x /= np.linalg.norm(x, axis=2, keepdims=True)
    return x


def exact_top(queries: np.ndarray, dense: np.ndarray, k: int, block: int = 2048) -> np.ndarray:
    """Indices of the k chunks with the highest max-sim score per query, exactly (numpy)."""
    scores = np.empty((len(queries), len(dense)), dtype=np.float32)
    for start in range(0, len(dense), block):
        part = dense[start : start + block]  # (b, w, dim)
        scores[:, start : start + block] = np.einsum("qd,bwd->qbw", queries, part).max(axis=2)
    return np.argsort(-scores, axis=1)[:, :k]


def zipf_probs(vocab: int, s: float = 1.07) -> np.ndarray:
    p = 1.0 / np.arange(1, vocab + 1) ** s
    return p / p.sum()


def make_sparse(
    rng: np.random.Generator, n: int, probs: np.ndarray, terms: int
) -> list[SparseVector]:
    """~`terms` distinct Zipf-distributed term ids per chunk, BM25 tf weights (k=1.2)."""
    draws = rng.choice(len(probs), size=(n, int(terms * 1.6)), p=probs)
    out = []
    for row in draws:
        ids, counts = np.unique(row, return_counts=True)
        if len(ids) > terms:
            keep = np.sort(rng.choice(len(ids), terms, replace=False))
            ids, counts = ids[keep], counts[keep]
        weights = counts * 2.2 / (counts + 1.2)
        out.append(SparseVector(indices=ids.tolist(), values=weights.round(4).tolist()))
    return out


def make_chunks(start: int, stop: int) -> list[Chunk]:
    chunks = []
    for i in range(start, stop):
        doc = i // 20
        off = (i * 37) % 2000
        chunks.append(
            Chunk(
                id=Chunk.id_for(f"{doc:064x}", i % 20),
                document_id=f"{doc:016x}",
                title=f"Dokument {doc}",
                source=f"corpus/{'kora' if doc % 3 else 'kl'}/doc{doc}.pdf",
                text=FILLER[off : off + 1500],
                page_start=i % 20 + 1,
                page_end=i % 20 + 1,
                char_start=(i % 20) * 1500,
                char_end=(i % 20) * 1500 + 1500,
                lang="da" if doc % 4 else "en",
                doc_type=DOC_TYPES[doc % len(DOC_TYPES)],
                date=f"{2005 + doc % 18}-{doc % 12 + 1:02d}-01",
            )
        )
    return chunks


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def probe_rss(engine: str, data_dir: str) -> dict:
    """Run in a child: RSS before/after reopening the index and querying it."""
    before = rss_mb()
    t = time.perf_counter()
    store = Store.open(Settings(engine=engine, data_dir=Path(data_dir)), INFO, role="bench")
    open_s = time.perf_counter() - t
    opened = rss_mb()
    rng = np.random.default_rng(99)
    for q in make_dense(rng, 20, INFO.dim):
        store.query(
            dense=q, sparse=SparseVector([1, 2, 50], [1.0, 1.0, 1.0]), mode="hybrid", limit=10
        )
    after = rss_mb()
    store.close()
    return {"open_s": open_s, "base": before, "open": opened, "query": after}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=20_000, help="number of points (chunks)")
    ap.add_argument(
        "--windows", type=int, default=4, help="dense rows (sentence windows) per point"
    )
    ap.add_argument(
        "--spread", type=float, default=1.2, help="how far a chunk's windows scatter around it"
    )
    ap.add_argument("--target-recall", type=float, default=0.98)
    ap.add_argument("--engine", choices=["edge", "local"], default="edge")
    ap.add_argument("--dir", type=Path, help="data dir (default: a temp dir, removed after)")
    ap.add_argument("--batch", type=int, default=1000, help="chunks per upsert() call")
    ap.add_argument("--terms", type=int, default=60, help="distinct terms per sparse vector")
    ap.add_argument("--vocab", type=int, default=50_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--recall-queries", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--data",
        choices=["clustered", "uniform"],
        default="clustered",
        help="dense vectors: clustered (like embeddings) or uniform on the sphere (worst case)",
    )
    ap.add_argument("--probe-rss", nargs=2, metavar=("ENGINE", "DIR"), help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.probe_rss:
        print(json.dumps(probe_rss(*args.probe_rss)))
        return

    tmp = None
    if args.dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="ops-store-bench-")
        data_dir = Path(tmp.name)
    else:
        data_dir = args.dir
    settings = Settings(engine=args.engine, data_dir=data_dir)
    rng = np.random.default_rng(args.seed)
    probs = zipf_probs(args.vocab)
    print(
        f"engine={args.engine} n={args.n} windows={args.windows} dim={INFO.dim} data={args.data} "
        f"terms~{args.terms} dir={data_dir}"
    )

    # ---- build ----
    t0 = time.perf_counter()
    base = (make_clustered if args.data == "clustered" else make_dense)(rng, args.n, INFO.dim)
    dense = make_windows(rng, base, args.windows, args.spread)  # (n, windows, dim)
    del base
    sparse = make_sparse(rng, args.n, probs, args.terms)
    gen_s = time.perf_counter() - t0
    nnz = np.mean([len(v.indices) for v in sparse])
    print(
        f"generated vectors in {gen_s:.1f}s ({args.n * args.windows:,} dense rows, "
        f"{dense.nbytes / 2**20:.0f} MiB; mean {nnz:.1f} terms per sparse vector)"
    )

    store = Store.open(settings, INFO, role="bench", rebuild=True)
    t0 = time.perf_counter()
    for start in range(0, args.n, args.batch):
        stop = min(start + args.batch, args.n)
        store.upsert(make_chunks(start, stop), dense[start:stop], sparse[start:stop])
    upsert_s = time.perf_counter() - t0
    print(f"upsert: {upsert_s:.1f}s ({args.n / upsert_s:,.0f} points/s, batches of {args.batch})")
    t0 = time.perf_counter()
    store.optimize()
    optimize_s = time.perf_counter() - t0
    print(f"optimize: {optimize_s:.1f}s")
    print(f"build total: {upsert_s + optimize_s:.1f}s; count={store.count():,}")
    shard = getattr(store._e(), "_shard", None)  # Edge: did optimize build the HNSW graph?
    if shard is not None:
        info = shard.info()
        print(
            f"edge shard: {info.segments_count} segment(s), {info.points_count:,} points, "
            f"{info.indexed_vectors_count:,} indexed vectors"
        )
    disk = store.disk_usage()
    if disk is not None:
        print(f"disk usage: {disk / 2**20:.0f} MiB")

    # ---- latency ----
    picks = rng.integers(0, args.n, size=args.queries)
    noise = rng.standard_normal((args.queries, INFO.dim), dtype=np.float32) / np.sqrt(INFO.dim)
    rows = rng.integers(0, args.windows, size=args.queries)
    q_dense = dense[picks, rows] + 0.5 * noise  # cos to one window of its source chunk ~0.9
    q_dense /= np.linalg.norm(q_dense, axis=1, keepdims=True)
    q_sparse = []
    for i in picks:
        sv = sparse[i]
        k = min(6, len(sv.indices))
        sel = rng.choice(len(sv.indices), k, replace=False)
        q_sparse.append(SparseVector([sv.indices[j] for j in sel], [1.0] * k))
    for q in q_dense[:10]:  # warm up
        store.query(dense=q, sparse=q_sparse[0], mode="hybrid", limit=10)
    print(f"latency over {args.queries} queries, limit 10 (ms):")
    filt = Filters(lang=["da"], date_from="2010-01-01")
    for mode in ("hybrid", "dense", "sparse"):
        for label, flt in (("", None), (" +filter", filt)):
            times = []
            for qd, qs in zip(q_dense, q_sparse, strict=True):
                t = time.perf_counter()
                store.query(dense=qd, sparse=qs, mode=mode, limit=10, filters=flt)
                times.append(time.perf_counter() - t)
            name = f"{mode}{label}"
            print(f"  {name:<15} p50 {pct(times, 50):7.2f}  p95 {pct(times, 95):7.2f}")

    # ---- recall ----
    nq = min(args.recall_queries, args.queries)
    ids = [Chunk.id_for(f"{i // 20:064x}", i % 20) for i in range(args.n)]  # index -> point id
    t0 = time.perf_counter()
    exact = exact_top(q_dense[:nq], dense, 10)
    exact_s = time.perf_counter() - t0
    truth = [{ids[j] for j in row} for row in exact]
    first = [ids[row[0]] for row in exact]
    store.close()
    print(
        f"dense recall@10 vs exact max-sim (numpy, {1000 * exact_s / nq:.1f} ms/query) over "
        f"{nq} queries (hnsw m={settings.hnsw_m}, ef_construct={settings.hnsw_ef_construct}):"
    )

    def recall_at(ef: int) -> tuple[float, list[float]]:
        with Store.open(settings.model_copy(update={"hnsw_ef": ef}), INFO, "bench") as s2:
            hits, tops, times = 0, 0, []
            for qi in range(nq):
                t = time.perf_counter()
                got = s2.query(dense=q_dense[qi], sparse=None, mode="dense", limit=10)
                times.append(time.perf_counter() - t)
                hits += len({h.id for h in got} & truth[qi])
                tops += bool(got) and got[0].id == first[qi]
        print(f"  ef={ef:<5} recall@1 {tops / nq:.3f}", end="")
        return hits / (10 * nq), times

    recalls = {}
    for ef in sorted({64, settings.hnsw_ef, 256, 512}):
        recalls[ef], times = recall_at(ef)
        mark = "  <- settings.hnsw_ef" if ef == settings.hnsw_ef else ""
        print(
            f"  recall@10 {recalls[ef]:.4f}  p50 {pct(times, 50):6.2f}  "
            f"p95 {pct(times, 95):6.2f} ms{mark}"
        )
    if recalls[settings.hnsw_ef] < args.target_recall:
        reached = [ef for ef in sorted(recalls) if recalls[ef] >= args.target_recall]
        ef = max(recalls)
        while not reached and ef < 4096:
            ef *= 2
            recalls[ef], times = recall_at(ef)
            print(
                f"  recall@10 {recalls[ef]:.4f}  p50 {pct(times, 50):6.2f}  "
                f"p95 {pct(times, 95):6.2f} ms"
            )
            if recalls[ef] >= args.target_recall:
                reached = [ef]
        if reached:
            print(f"  recall@10 >= {args.target_recall} from ef={reached[0]}")
        else:
            print(f"  recall@10 < {args.target_recall} up to ef={ef}")

    # ---- RSS after reopen, in a fresh process ----
    out = subprocess.run(
        [sys.executable, __file__, "--probe-rss", args.engine, str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"reopen in a fresh process: {r['open_s']:.2f}s")
    print(f"  RSS before open (python + numpy + imports): {fmt_rss(r['base'])}")
    print(f"  RSS after open:                             {fmt_rss(r['open'])}")
    print(f"  RSS after 20 hybrid queries:                {fmt_rss(r['query'])}")
    print(f"  peak RSS: {r['query']['peak']:.0f} MiB")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
