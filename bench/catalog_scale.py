"""Scale benchmark for the SQLite catalog (search/catalog.py): records only, no store.

Fills a fresh catalog with N synthetic documents (each with --text-kb of text, as a real
record carries the document's full text), then measures p50/p95 over --repeat runs of:

- ``summaries()``, the list view behind ``/documents``, ``/dokumenter`` and the year facet,
  just after a write (read from the database) and cached (no write since);
- one page of ``/documents`` as the route builds it (summaries sorted by title, 50 shown);
- the year facet as ``Searcher.facets`` computes it (from ``summaries()``), and the same
  count as one SQL query (``GROUP BY`` year on the indexed columns), for comparison;
- ``len(catalog)`` and ``get(id)`` (a full record with its text).

    .venv/bin/python bench/catalog_scale.py
    .venv/bin/python bench/catalog_scale.py --n 50000 --text-kb 2
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ops_search.models import Document, Page  # noqa: E402
from search.catalog import CatalogEntry, open_catalog  # noqa: E402
from search.database import Database  # noqa: E402

DOC_TYPES = ["rapport", "aftale", "referat", "pressemeddelelse", "artikel", None]
WORDS = [
    "kommune",
    "region",
    "samarbejde",
    "leverandør",
    "botilbud",
    "udbud",
    "partnerskab",
    "kvalitet",
]


def synthetic(n: int, text_kb: int, rng: random.Random) -> CatalogEntry:
    sha = hashlib.sha256(f"bench-{n}".encode()).hexdigest()
    text = " ".join(rng.choice(WORDS) for _ in range(text_kb * 1024 // 9))
    pages = max(1, len(text) // 3000)
    step = len(text) // pages
    document = Document(
        id=Document.id_for(sha),
        source=f"bench/{n:06d}.pdf",
        title=f"{rng.choice(WORDS).capitalize()} {n}",
        sha256=sha,
        format="pdf",
        page_count=pages,
        lang=rng.choice(["da", "da", "da", "en"]),
        doc_type=rng.choice(DOC_TYPES),
        date=f"{rng.randint(2005, 2025)}-{rng.randint(1, 12):02d}-01",
        text=text,
        pages=[
            Page(number=i + 1, char_start=i * step, char_end=min(len(text), (i + 1) * step))
            for i in range(pages)
        ],
    )
    return CatalogEntry(document=document, chunks=rng.randint(1, 80), file=f"/bench/{n:06d}.pdf")


def timed(
    fn: Callable[[], object], repeat: int, before: Callable[[], object] | None = None
) -> tuple[float, float]:
    """p50 and p95 in milliseconds; ``before`` runs untimed ahead of each run."""
    runs = []
    for _ in range(repeat):
        if before:
            before()
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    runs.sort()
    return statistics.median(runs), runs[min(len(runs) - 1, int(0.95 * len(runs)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000, help="documents in the catalog")
    ap.add_argument("--text-kb", type=int, default=8, help="text per document, in KB")
    ap.add_argument("--repeat", type=int, default=50, help="runs per measurement")
    args = ap.parse_args()
    rng = random.Random(7)

    with tempfile.TemporaryDirectory(prefix="catalog-bench-") as tmp:
        db = Database(Path(tmp) / "catalog.sqlite")
        catalog = open_catalog(db, Path(tmp) / "catalog")
        start = time.perf_counter()
        ids = []
        for n in range(args.n):
            entry = synthetic(n, args.text_kb, rng)
            catalog.begin(entry)  # as Index.add_document writes: indexing, then complete
            catalog.put(entry)
            ids.append(entry.document.id)
        fill = time.perf_counter() - start
        size = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
        print(f"filled {args.n} documents ({args.text_kb} KB text each) in {fill:.1f} s "
              f"({2 * args.n / fill:.0f} commits/s); database {size:.0f} MB")  # fmt: skip

        def list_page() -> list[dict]:
            docs = sorted(catalog.summaries(), key=lambda d: d["title"].lower())
            return docs[100:150]

        def years_python() -> dict[str, int]:
            years: dict[str, int] = {}
            for doc in catalog.summaries():
                year = (doc["date"] or "")[:4]
                if year:
                    years[year] = years.get(year, 0) + doc["chunks"]
            return years

        def years_sql() -> dict[str, int]:
            with db.read() as conn:
                rows = conn.execute(
                    "SELECT substr(date, 1, 4), sum(chunks) FROM documents "
                    "WHERE state = 'complete' AND date IS NOT NULL GROUP BY 1"
                ).fetchall()
            return dict(rows)

        assert years_python() == years_sql()
        picks = iter(rng.choice(ids) for _ in range(args.repeat * 2))
        rewritten = catalog.get(ids[0])

        def write() -> None:  # any write makes the cached list view stale
            catalog.put(rewritten)

        rows = [
            ("summaries(), after a write", catalog.summaries, write),
            ("summaries(), cached", catalog.summaries, None),
            ("/documents page, after a write", list_page, write),
            ("/documents page, cached", list_page, None),
            ("year facet via summaries(), cached", years_python, None),
            ("year facet, SQL GROUP BY", years_sql, None),
            ("len(catalog)", lambda: len(catalog), None),
            ("get(id) with full text", lambda: catalog.get(next(picks)), None),
        ]
        print(f"{'measurement':<38}{'p50 ms':>10}{'p95 ms':>10}")
        for name, fn, before in rows:
            p50, p95 = timed(fn, args.repeat, before)
            print(f"{name:<38}{p50:>10.2f}{p95:>10.2f}")
        db.close()


if __name__ == "__main__":
    main()
