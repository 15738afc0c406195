"""The issue's plain baseline on one PDF and a page-exact qrels file, to set our ranking against.

≈130-word paragraphs per page from poppler's ``pdftotext`` (Debian ``poppler-utils``), BM25
(k1 1.2, b 0.75) over our Danish terms, e5-small over each whole paragraph (our embedder),
weighted-equal RRF with k = 60 over each channel's top 100. A hit counts when it is on the
question's page and holds an answer string. Prints R@1 / R@5 / R@10 / MRR@10 per mode.

    python bench/plain_baseline.py MANUAL.pdf bench/qrels/debian-edu-manual.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ops_search.config import Settings  # noqa: E402
from search.embed import make_embedder  # noqa: E402
from search.sparse import SparseEncoder  # noqa: E402

WORDS, MAX_WORDS, RRF_K, DEPTH = 130, 180, 60, 100


def pages_of(pdf: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    count = int(next(ln for ln in info.stdout.splitlines() if ln.startswith("Pages")).split()[1])
    return [
        subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"],
            capture_output=True, text=True, check=True,
        ).stdout
        for n in range(1, count + 1)
    ]  # fmt: skip


def paragraphs(pages: list[str]) -> list[tuple[int, str]]:
    """(page, text) chunks of about WORDS words, paragraphs kept whole when they fit."""
    out = []
    for number, text in enumerate(pages, start=1):
        words: list[str] = []
        for para in (" ".join(p.split()) for p in text.split("\n\n") if p.strip()):
            if words and len(words) + len(para.split()) > WORDS:
                out.append((number, " ".join(words)))
                words = []
            words += para.split()
            while len(words) > MAX_WORDS:
                out.append((number, " ".join(words[:WORDS])))
                words = words[WORDS:]
        if words:
            out.append((number, " ".join(words)))
    return out


class Bm25:
    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.tfs = [Counter(d) for d in docs]
        self.lens = np.array([len(d) for d in docs], dtype=float)
        self.df = Counter(t for d in docs for t in set(d))
        self.k1, self.b, self.avg = k1, b, self.lens.mean()

    def scores(self, terms: list[str]) -> np.ndarray:
        n, out = len(self.tfs), np.zeros(len(self.tfs))
        norm = self.k1 * (1 - self.b + self.b * self.lens / self.avg)
        for term in set(terms):
            if term not in self.df:
                continue
            idf = math.log(1 + (n - self.df[term] + 0.5) / (self.df[term] + 0.5))
            for i, tf in enumerate(self.tfs):
                if f := tf.get(term, 0):
                    out[i] += idf * f * (self.k1 + 1) / (f + norm[i])
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pdf", type=Path)
    parser.add_argument("qrels", type=Path, help="JSON lines with query, page, answer_contains")
    args = parser.parse_args()

    chunks = paragraphs(pages_of(args.pdf))
    print(f"{args.pdf.name}: {len(chunks)} paragraphs", flush=True)
    encoder = SparseEncoder()
    bm25 = Bm25([encoder.terms(text, "da") for _, text in chunks])
    embedder = make_embedder(Settings())
    vectors = embedder.embed_passages([text for _, text in chunks])

    def norm(s: str) -> str:
        return " ".join(s.split()).lower()

    ranks: dict[str, list[int | None]] = {"hybrid": [], "dense": [], "sparse": []}
    for line in args.qrels.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        dense = vectors @ embedder.embed_query(q["query"])
        sparse = bm25.scores(encoder.terms(q["query"], "da"))
        by_dense = list(np.argsort(-dense)[:DEPTH])
        by_sparse = [i for i in np.argsort(-sparse)[:DEPTH] if sparse[i] > 0]
        fused: Counter[int] = Counter()
        for order in (by_dense, by_sparse):
            for pos, i in enumerate(order):
                fused[i] += 1 / (RRF_K + pos + 1)
        orders = {"hybrid": [i for i, _ in fused.most_common(10)], "dense": by_dense[:10],
                  "sparse": by_sparse[:10]}  # fmt: skip
        for mode, order in orders.items():
            ranks[mode].append(
                next(
                    (pos + 1 for pos, i in enumerate(order)
                     if chunks[i][0] == q["page"]
                     and any(norm(a) in norm(chunks[i][1]) for a in q["answer_contains"])),
                    None,
                )
            )  # fmt: skip
    for mode, found in ranks.items():
        n = len(found)

        def at(k: int, found=found, n=n) -> float:
            return sum(1 for r in found if r and r <= k) / n

        mrr = sum(1 / r for r in found if r) / n
        print(f"{mode:7} R@1 {at(1):.3f} R@5 {at(5):.3f} R@10 {at(10):.3f} MRR@10 {mrr:.3f}")


if __name__ == "__main__":
    main()
