"""Ingest throughput against its physical bound, the embedder.

1. raw: the embedder alone on exactly the texts the pipeline will embed (the sentence
   windows of the corpus chunks), in the pipeline's batch size;
2. pipeline: ``Index.ingest`` of the same folder into a fresh index with an empty cache
   (read in worker processes, clean, chunk, embed, sparse-encode, write, optimize).
Prints texts/s for both and their ratio (goal: pipeline ≥ 85 % of raw), and what reading
through the driver's worker processes costs against reading in this process.

    .venv/bin/python bench/ingest_throughput.py [FOLDER]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.driver import ReaderPool  # noqa: E402
from ingest.pipeline import discover, extract  # noqa: E402
from ops_search.config import Settings  # noqa: E402
from ops_search.progress import LogReporter  # noqa: E402
from search.embed import make_embedder  # noqa: E402
from search.index import WRITE_BATCH, Index  # noqa: E402
from search.windows import window_inputs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=ROOT / "corpus")
    folder = parser.parse_args().folder
    settings = Settings()
    files, _ = discover([folder])
    if not files:
        sys.exit(f"{folder}: no files ops-search can read")
    embedder = make_embedder(settings)
    started = time.monotonic()
    extractions = [extract(f, settings) for f in files]
    read_s = time.monotonic() - started
    chunks = [c for e in extractions for c in e.chunks]
    pages = sum(e.document.page_count for e in extractions if e.document)
    texts = [w for c in chunks for w in window_inputs(c)]
    print(f"{len(files)} files, {pages} pages, {len(chunks)} chunks, {len(texts)} windows")
    print(f"read+chunk: {read_s:.1f} s ({read_s / max(pages, 1):.3f} s/page) in this process")
    started = time.monotonic()
    with ReaderPool(settings, workers=1) as pool:
        list(pool.read_all((f, None) for f in files))
    one_s = time.monotonic() - started
    with ReaderPool(settings) as pool:
        started = time.monotonic()  # start-up of the workers counted in the first line only
        list(pool.read_all((f, None) for f in files))
        pool_s = time.monotonic() - started
    print(
        f"read+chunk through 1 worker process: {one_s:.1f} s (×{one_s / read_s:.2f}, start-up "
        f"included); through {pool.size}: {pool_s:.1f} s (×{pool_s / read_s:.2f})"
    )

    embedder.embed_passages(texts[:4])  # warm-up
    started = time.monotonic()
    per_chunk = [window_inputs(c) for c in chunks]
    for i in range(0, len(per_chunk), WRITE_BATCH):
        embedder.embed_passages([t for group in per_chunk[i : i + WRITE_BATCH] for t in group])
    raw_s = time.monotonic() - started
    raw = len(texts) / raw_s
    print(f"raw embedder: {raw:.2f} windows/s ({raw_s:.1f} s, "
          f"{settings.effective_embed_threads} thread(s))")  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="ops-bench-") as tmp:
        fresh = settings.model_copy(update={"data_dir": Path(tmp), "cache_dir": None})
        started = time.monotonic()
        with Index.open(fresh, role="bench", embedder=embedder) as index:
            summary = index.ingest([folder], LogReporter(io.StringIO()))
        pipe_s = time.monotonic() - started
    pipe = len(texts) / pipe_s
    print(f"pipeline:     {pipe:.2f} windows/s ({pipe_s:.1f} s for {summary.chunks} chunks)")
    print(f"pipeline / raw = {pipe / raw:.0%}")


if __name__ == "__main__":
    main()
