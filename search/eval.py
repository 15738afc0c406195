"""Retrieval quality on qrels files: Recall@1/5/10 and MRR@10 per query kind and overall,
per set (one qrels file is one set), so that a ranking change is judged on every set at once.

Format (one JSON object per line): ``{"id", "query", "kind", "answer_contains": [str, ...],
"page"?: int}``. A result is relevant when its text contains any ``answer_contains`` string
(whitespace- and case-insensitively) and, when ``page`` is given, its citation covers it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ops_search.models import Hit
from search.query import Mode, Searcher, SearchRequest

CUTOFFS = (1, 5, 10)


@dataclass
class Qrel:
    id: str
    query: str
    kind: str
    answers: list[str]
    page: int | None = None


@dataclass
class ModeReport:
    mode: Mode
    # kind → metric → value; "all" holds the overall figures
    table: dict[str, dict[str, float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    ranks: dict[str, int | None] = field(default_factory=dict)  # query id → first relevant rank


def load_qrels(path: Path) -> list[Qrel]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(
                Qrel(
                    id=str(row["id"]),
                    query=row["query"],
                    kind=row.get("kind", "all"),
                    answers=list(row["answer_contains"]),
                    page=row.get("page"),
                )
            )
        except (KeyError, ValueError) as err:
            raise ValueError(f"{path}:{n}: not a qrels line ({err})") from err
    return out


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def is_relevant(hit: Hit, qrel: Qrel) -> bool:
    text = _norm(hit.text)
    if not any(_norm(a) in text for a in qrel.answers):
        return False
    if qrel.page is not None:
        return hit.citation.page_start <= qrel.page <= hit.citation.page_end
    return True


def evaluate(searcher: Searcher, qrels: list[Qrel], mode: Mode) -> ModeReport:
    report = ModeReport(mode=mode)
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, int] = defaultdict(int)
    for qrel in qrels:
        hits = searcher.search(SearchRequest(query=qrel.query, mode=mode, limit=10)).hits
        rank = next((h.rank for h in hits if is_relevant(h, qrel)), None)
        report.ranks[qrel.id] = rank
        for kind in (qrel.kind, "all"):
            counts[kind] += 1
            for k in CUTOFFS:
                sums[kind][f"R@{k}"] += 1.0 if rank is not None and rank <= k else 0.0
            sums[kind]["MRR@10"] += 1.0 / rank if rank is not None else 0.0
    for kind, metrics in sums.items():
        report.table[kind] = {m: v / counts[kind] for m, v in metrics.items()}
    report.counts = dict(counts)
    return report


@dataclass
class SetReport:
    """One qrels file evaluated in every mode asked for."""

    name: str
    reports: list[ModeReport]

    @property
    def size(self) -> int:
        return self.reports[0].counts.get("all", 0) if self.reports else 0


def set_name(path: Path) -> str:
    return path.name.removesuffix(".jsonl").removesuffix(".json")


def evaluate_sets(
    searcher: Searcher, sets: list[tuple[str, list[Qrel]]], modes: list[Mode]
) -> list[SetReport]:
    return [
        SetReport(name, [evaluate(searcher, qrels, mode) for mode in modes]) for name, qrels in sets
    ]


def format_summary(sets: list[SetReport]) -> str:
    """One line per set and mode with the overall figures; the line a change is judged by."""
    metrics = [f"R@{k}" for k in CUTOFFS] + ["MRR@10"]
    width = max([len(s.name) for s in sets] + [3])
    lines = [f"{'set':<{width}} {'mode':<8} {'n':>3} " + " ".join(f"{m:>7}" for m in metrics)]
    for result in sets:
        for report in result.reports:
            row = report.table.get("all", {})
            values = " ".join(f"{row.get(m, 0.0):>7.3f}" for m in metrics)
            lines.append(f"{result.name:<{width}} {report.mode:<8} {result.size:>3} {values}")
    return "\n".join(lines)


def format_reports(reports: list[ModeReport]) -> str:
    """A plain-text table: one row per mode and kind."""
    metrics = [f"R@{k}" for k in CUTOFFS] + ["MRR@10"]
    lines = [f"{'mode':<8} {'kind':<13} {'n':>3} " + " ".join(f"{m:>7}" for m in metrics)]
    for report in reports:
        kinds = sorted(k for k in report.table if k != "all") + ["all"]
        for kind in kinds:
            row = report.table[kind]
            values = " ".join(f"{row[m]:>7.3f}" for m in metrics)
            lines.append(f"{report.mode:<8} {kind:<13} {report.counts[kind]:>3} {values}")
    return "\n".join(lines)
