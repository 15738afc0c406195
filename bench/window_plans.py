"""Window plans: search quality against embedding cost, on every development set at once.

Each passage is embedded as overlapping sentence windows (``search.windows``), most of what an
ingest costs. This bench takes the passages of the
quality index (``bench/quality.py``: the sample corpus and the whole Danish LibreOffice help),
builds one index per window plan from them (same passages, same keyword vectors; only the
windows differ), and evaluates each in hybrid and dense mode on every development set.

Cost is counted, not timed, so the machine's load cannot blur it: windows per passage and model
tokens per passage (the encoder's work grows with the tokens it reads), each also as a ratio to
the default plan. Embedding goes through the quality index's embedding cache, so a plan run
again embeds nothing.

    python bench/window_plans.py                     # every plan
    python bench/window_plans.py --plans default,no-overlap
    python bench/window_plans.py --json out.json

Prints one line per plan and set (hybrid and dense R@5 / MRR@10, questions that left or joined
the top five against the default plan) and the cost table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fetch_collections import cache_root  # noqa: E402
from quality import SETS  # noqa: E402

from ops_search.config import Settings  # noqa: E402
from search.eval import evaluate, load_qrels, set_name  # noqa: E402
from search.index import Index, sparse_input  # noqa: E402
from search.query import Searcher  # noqa: E402
from search.windows import DEFAULT_PLAN, WindowPlan, window_inputs  # noqa: E402

PLANS = {
    "default": DEFAULT_PLAN,  # 90 words, overlapping by a sentence
    "words-45": WindowPlan(words=45),  # the default until this bench measured it
    "words-45-no-overlap": WindowPlan(words=45, overlap=False),
    "words-45-whole-up-to-120": WindowPlan(words=45, whole_up_to=120),
    "words-90-whole-up-to-120": WindowPlan(words=90, whole_up_to=120),
    "one-vector": WindowPlan(whole_up_to=10**9),  # the whole passage, one embedding
    # the 90-word windows and every sentence of at least 8 words on its own besides
    "words-90-plus-sentences": WindowPlan(sentences_from=8),
    # the 90-word windows read after the title and the section path, not the title alone
    "words-90-section-context": WindowPlan(section_context=True),
    # the 90-word windows and, for a passage of several, the whole passage as one more
    "words-90-plus-whole": WindowPlan(whole_too=True),
}
BATCH = 256
MODES = ("hybrid", "dense")


def build(source: Index, plan: WindowPlan, folder: Path) -> dict:
    """An index in ``folder`` of the source's passages embedded by ``plan``; its cost."""
    marker = folder / "built.json"
    if marker.exists():
        return json.loads(marker.read_text())
    settings = Settings(data_dir=folder)
    chunks = [p.chunk() for p in source.store.scroll()]
    windows = tokens = computed = 0
    started = time.monotonic()
    with Index.open(settings, role="bench", rebuild=True) as index:
        for entry in source.catalog.entries():  # without records the passages are orphans
            index.catalog.put(entry)
        repair = index.spelling_repair()
        for i in range(0, len(chunks), BATCH):
            batch = chunks[i : i + BATCH]
            inputs = [window_inputs(c, plan, repair) for c in batch]
            flat_texts = [t for group in inputs for t in group]
            flat, n = source.cache.embed(flat_texts, source.embedder.embed_passages)
            computed += n
            windows += len(flat_texts)
            tokens += sum(len(source.embedder.token_ids(t)) for t in flat_texts)
            flat = index.centering(flat)
            dense, at = [], 0
            for group in inputs:
                dense.append(flat[at : at + len(group)])
                at += len(group)
            sparse = [index.sparse.encode_passage(sparse_input(c, repair), c.lang) for c in batch]
            index.store.upsert(batch, dense, sparse)
            print(f"\r  {i + len(batch)}/{len(chunks)} passages", end="", file=sys.stderr)
        index.store.optimize()
    print(file=sys.stderr)
    cost = {"passages": len(chunks), "windows": windows, "tokens": tokens,
            "embedded_now": computed, "seconds": round(time.monotonic() - started, 1)}  # fmt: skip
    marker.write_text(json.dumps(cost))
    return cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="bench cache (see fetch_collections.py)")
    parser.add_argument("--data-dir", type=Path, help="the quality index (default CACHE/quality)")
    parser.add_argument("--work", type=Path, help="plan indexes (default CACHE/window-plans)")
    parser.add_argument("--plans", default=",".join(PLANS), help="comma-separated plan names")
    parser.add_argument("--json", type=Path, dest="out", help="write the figures here")
    args = parser.parse_args()
    cache = cache_root(args.cache)
    source_dir = args.data_dir or cache / "quality"
    work = args.work or cache / "window-plans"
    names = [n for n in args.plans.split(",") if n]
    unknown = [n for n in names if n not in PLANS]
    if unknown:
        sys.exit(f"unknown plan(s) {', '.join(unknown)}; known: {', '.join(PLANS)}")
    if "default" not in names:
        names.insert(0, "default")  # the baseline every other plan is compared with
    if not (source_dir / "index").exists():
        sys.exit(f"no quality index in {source_dir}: run bench/quality.py first")
    sets = [(set_name(p), load_qrels(p)) for p in SETS]

    results: dict[str, dict] = {}
    source = Index.open(Settings(data_dir=source_dir), role="bench")
    try:
        for name in names:
            print(f"plan {name}: {PLANS[name]}", file=sys.stderr)
            cost = build(source, PLANS[name], work / name)
            with Index.open(Settings(data_dir=work / name), role="bench") as index:
                searcher = Searcher(index)
                figures = {}
                for set_label, qrels in sets:
                    for mode in MODES:
                        report = evaluate(searcher, qrels, mode)
                        figures[f"{set_label}/{mode}"] = {
                            "R@5": report.table["all"]["R@5"],
                            "MRR@10": report.table["all"]["MRR@10"],
                            "ranks": report.ranks,
                        }
            results[name] = {"plan": vars(PLANS[name]), "cost": cost, "figures": figures}
    finally:
        source.close()
    _print(results)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


def _top5(ranks: dict) -> set[str]:
    return {q for q, r in ranks.items() if r is not None and r <= 5}


def _print(results: dict[str, dict]) -> None:
    base = results["default"]
    b_cost = base["cost"]
    print(f"\n{'plan':<16} {'windows/passage':>15} {'tokens/passage':>14} {'cost ratio':>10}")
    for name, r in results.items():
        c = r["cost"]
        per_window, per_token = c["windows"] / c["passages"], c["tokens"] / c["passages"]
        ratio = c["tokens"] / b_cost["tokens"]
        print(f"{name:<16} {per_window:>15.2f} {per_token:>14.1f} {ratio:>10.2f}")
    print(f"\n{'plan':<16} {'set/mode':<22} {'R@5':>6} {'MRR@10':>7}  top five vs default")
    for name, r in results.items():
        for key, f in r["figures"].items():
            before, now = _top5(base["figures"][key]["ranks"]), _top5(f["ranks"])
            delta = f"-{len(before - now)} +{len(now - before)}" if name != "default" else ""
            print(f"{name:<16} {key:<22} {f['R@5']:>6.3f} {f['MRR@10']:>7.3f}  {delta}")


if __name__ == "__main__":
    main()
