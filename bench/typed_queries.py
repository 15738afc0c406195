"""Questions typed without æ, ø and å: how much they lose, and how much mending wins back.

A reader on a keyboard without Danish letters (abroad, an English laptop, a phone set to
English) writes "okonomi", "Sjaelland", "hoej" or "okonomi", "Sjalland", "hoj". Each Danish
question of dev, holdout and the LibreOffice help that holds æ, ø or å is asked three ways:
as written, with ``ae``/``oe``/``aa`` for æ/ø/å, and with ``e``/``o``/``a``; each spelling is
searched (hybrid) with the question mending of ``search.spelling`` off and on
(``OPS_SPELLING_REPAIR``), over the index ``quality.py`` builds (run that first).

    python bench/typed_queries.py [--data-dir DIR]

Prints R@1 / R@5 / MRR@10 per set, spelling and mending, and the questions mending changed.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fetch_collections import cache_root  # noqa: E402

from ops_search.config import Settings  # noqa: E402
from search.eval import Qrel, is_relevant, load_qrels  # noqa: E402
from search.index import Index  # noqa: E402
from search.query import Searcher, SearchRequest  # noqa: E402
from search.sparse import surely_english  # noqa: E402

SHARED = ROOT.parent / "shared" / "eval"
SETS = [SHARED / "dev.jsonl", ROOT / "bench" / "qrels" / "holdout.jsonl",
        SHARED / "libreoffice-da.jsonl"]  # fmt: skip
DANISH_LETTERS = re.compile("[æøåÆØÅ]")
SPELLINGS = {
    "as written": {},
    "ae/oe/aa": {"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"},
    "e/o/a": {"æ": "e", "ø": "o", "å": "a", "Æ": "E", "Ø": "O", "Å": "A"},
}


def respell(query: str, table: dict[str, str]) -> str:
    return query.translate(str.maketrans(table)) if table else query


def first_relevant_rank(searcher: Searcher, qrel: Qrel, query: str) -> int | None:
    hits = searcher.search(SearchRequest(query=query, mode="hybrid", limit=10)).hits
    return next((h.rank for h in hits if is_relevant(h, qrel)), None)


def figures(ranks: list[int | None]) -> str:
    n = len(ranks)
    r1 = sum(1 for r in ranks if r == 1) / n
    r5 = sum(1 for r in ranks if r and r <= 5) / n
    mrr = sum(1 / r for r in ranks if r) / n
    return f"{r1:.3f} / {r5:.3f} / {mrr:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="the quality index (default: bench cache)")
    args = parser.parse_args()
    data_dir = args.data_dir or cache_root(None) / "quality" / "index"
    if not data_dir.exists():
        sys.exit(f"no index at {data_dir}: run bench/quality.py first")
    sets = {
        path.stem: [
            q
            for q in load_qrels(path)
            if DANISH_LETTERS.search(q.query) and not surely_english(q.query)
        ]  # fmt: skip
        for path in SETS
    }
    ranks: dict[tuple[str, str, bool], list[int | None]] = {}
    for mend in (False, True):
        settings = Settings(data_dir=data_dir, spelling_repair=mend)
        with Index.open(settings, role="eval") as index:
            searcher = Searcher(index)
            for name, qrels in sets.items():
                for spelling, table in SPELLINGS.items():
                    ranks[(name, spelling, mend)] = [
                        first_relevant_rank(searcher, q, respell(q.query, table)) for q in qrels
                    ]
                    print(f"  {name} {spelling} mending {'on' if mend else 'off'}", file=sys.stderr)
    print("R@1 / R@5 / MRR@10, hybrid, Danish questions holding æ, ø or å\n")
    print(f"{'set':16} {'n':>3}  {'spelling':11} {'mending off':>21}  {'mending on':>21}")
    for name, qrels in sets.items():
        for spelling in SPELLINGS:
            off, on = ranks[(name, spelling, False)], ranks[(name, spelling, True)]
            print(f"{name:16} {len(qrels):>3}  {spelling:11} {figures(off):>21}  {figures(on):>21}")
            moved = [
                f"{q.id} {a}→{b}"
                for q, a, b in zip(qrels, off, on, strict=True)
                if a != b
            ]  # fmt: skip
            if moved:
                print(f"{'':33}moved: {', '.join(moved)}")


if __name__ == "__main__":
    main()
