"""Search quality on every development set at once, over one real index.

Builds (or reuses) one index holding the sample corpus (``corpus/``) and the whole Danish
LibreOffice help (Debian ``libreoffice-help-da``, fetched by ``fetch_collections.py`` into the
bench cache), then runs ``ops-search eval`` over the sets:

- ``dev``: ``../shared/eval/dev.jsonl``, 25 questions over the sample corpus;
- ``holdout``: ``bench/qrels/holdout.jsonl``, 45 held-out questions over the sample corpus;
- ``libreoffice-da``: ``../shared/eval/libreoffice-da.jsonl``, 40 questions over the help;
- ``english-passages``: ``bench/qrels/english-passages.jsonl``, 21 Danish questions whose
  answers stand on the help's untranslated English pages (Danish questions about English
  text, a kind the other sets lack), and the same 21 asked in English (kind ``english``);
- ``debian-edu-manual``: ``bench/qrels/debian-edu-manual.jsonl``, 24 page-exact questions
  over a real 102-page Danish PDF manual, half of it untranslated English (Debian
  ``debian-edu-doc-da``, the Bookworm manual), on an index of its own (``--manual-dir``): a
  passage counts only if its citation covers the answer's page;
- ``gimp-help-da``: ``bench/qrels/gimp-help-da.jsonl``, 42 questions over the Danish GIMP
  manual (Debian ``gimp-help-da``, 685 DocBook pages, most of them untranslated English), on
  an index of its own (``--gimp-dir``): 16 Danish questions about English pages, 9 English
  questions about Danish pages, 6 English and 11 Danish questions about pages in their own
  language. Written by helpers who read the pages, never tuned on: the kind of collection
  the issue's held-out help set is.

One index for all of them is the harder and truer test: every set's questions compete with
the other collection's 5,000 passages, as they would in an organisation's index. The index
lives in the bench cache (``--data-dir``); running again ingests only what changed, and
``--rebuild`` starts it over (after a change to the keyword analysis, the index refuses to
mix analyses and says so). The embedding cache (``DATA_DIR/cache``) is kept, so a rebuild
re-embeds nothing that was embedded before.

    python bench/quality.py                 # build or reuse, then evaluate
    python bench/quality.py --rebuild       # re-ingest everything (cache makes it cheap)
    python bench/quality.py --json out.json # the tables as JSON too

Prints the per-set tables, one line per set and mode, and each set against the targets
(hybrid R@5 ≥ 0.92, MRR@10 ≥ 0.80, hybrid ≥ max(dense, sparse) by R@5 and MRR@10).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from fetch_collections import cache_root, collection_folder, fetch  # noqa: E402

SHARED = ROOT.parent / "shared" / "eval"
SETS = [SHARED / "dev.jsonl", ROOT / "bench" / "qrels" / "holdout.jsonl",
        SHARED / "libreoffice-da.jsonl",
        ROOT / "bench" / "qrels" / "english-passages.jsonl"]  # fmt: skip
MANUAL_SET = ROOT / "bench" / "qrels" / "debian-edu-manual.jsonl"
MANUAL_FILE = "debian-edu-bookworm-manual.pdf"
GIMP_SET = ROOT / "bench" / "qrels" / "gimp-help-da.jsonl"
TARGET_R5, TARGET_MRR = 0.92, 0.80
EXE = ROOT / ".venv" / "bin" / "ops-search"


def build(data_dir: Path, cache_dir: Path, sources: list[Path], rebuild: bool) -> float:
    if rebuild and data_dir.exists():
        for part in data_dir.iterdir():  # everything but the embedding cache
            if part != cache_dir:
                shutil.rmtree(part) if part.is_dir() else part.unlink()
    env = {**os.environ, "OPS_DATA_DIR": str(data_dir), "OPS_CACHE_DIR": str(cache_dir)}
    started = time.perf_counter()
    # Unchanged files are skipped by the ingest itself; its progress goes to the terminal.
    proc = subprocess.run([str(EXE), "ingest", *map(str, sources)], env=env)
    if proc.returncode != 0:
        sys.exit(f"ingest into {data_dir} failed (exit {proc.returncode}): see above")
    return time.perf_counter() - started


def evaluate(data_dir: Path, cache_dir: Path, sets: list[Path]) -> dict:
    env = {**os.environ, "OPS_DATA_DIR": str(data_dir), "OPS_CACHE_DIR": str(cache_dir)}
    text = subprocess.run([str(EXE), "eval", *map(str, sets), "--misses"], env=env,
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    print(text)
    tables = subprocess.run([str(EXE), "eval", *map(str, sets), "--json"], env=env,
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    return json.loads(tables)


def verdicts(tables: dict) -> list[str]:
    lines = []
    for name, modes in tables.items():
        hybrid = modes["hybrid"]["all"]
        best_r5 = max(modes[m]["all"]["R@5"] for m in ("dense", "sparse"))
        best_mrr = max(modes[m]["all"]["MRR@10"] for m in ("dense", "sparse"))
        checks = [
            ("R@5", hybrid["R@5"], hybrid["R@5"] >= TARGET_R5),
            ("MRR@10", hybrid["MRR@10"], hybrid["MRR@10"] >= TARGET_MRR),
        ]
        marks = " ".join(f"{m} {v:.3f} {'✓' if ok else '✗'}" for m, v, ok in checks)
        fused = "✓" if hybrid["R@5"] >= best_r5 and hybrid["MRR@10"] >= best_mrr else "✗"
        lines.append(f"{name:<17} hybrid {marks}  hybrid ≥ dense, sparse {fused}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, help="bench cache (see fetch_collections.py)")
    parser.add_argument("--data-dir", type=Path, help="the index (default: CACHE/quality)")
    parser.add_argument("--manual-dir", type=Path,
                        help="the manual's index (default: CACHE/quality/manual)")  # fmt: skip
    parser.add_argument("--gimp-dir", type=Path,
                        help="the GIMP manual's index (default: CACHE/quality/gimp)")  # fmt: skip
    parser.add_argument("--rebuild", action="store_true", help="ingest everything again")
    parser.add_argument("--skip-build", action="store_true", help="evaluate the index as it is")
    parser.add_argument("--json", type=Path, dest="out", help="write the tables here")
    args = parser.parse_args()

    cache = cache_root(args.cache)
    data_dir = args.data_dir or cache / "quality" / "index"
    cache_dir = data_dir / "cache"  # the default place, kept by --rebuild
    if not args.skip_build:
        help_root = collection_folder(cache, "libreoffice-help-da")
        if not help_root.exists():
            fetch(cache, "libreoffice-help-da")
        seconds = build(data_dir, cache_dir, [ROOT / "corpus", help_root], args.rebuild)
        print(f"index at {data_dir}: built or brought up to date in {seconds:.0f} s\n")
    tables = evaluate(data_dir, cache_dir, SETS)
    # The same embedding cache as the main index: one model, one cache.
    own = (
        (args.manual_dir or cache / "quality" / "manual", "danish-pdfs", MANUAL_FILE, MANUAL_SET),
        (args.gimp_dir or cache / "quality" / "gimp", "gimp-help-da", None, GIMP_SET),
    )
    for index_dir, collection, name, qrels in own:
        if not args.skip_build:
            root = collection_folder(cache, collection)
            if not root.exists():
                fetch(cache, collection)
            source = root / name if name else root
            seconds = build(index_dir, cache_dir, [source], args.rebuild)
            print(f"index at {index_dir}: built or brought up to date in {seconds:.0f} s\n")
        tables.update(evaluate(index_dir, cache_dir, [qrels]))
    print("\n".join(verdicts(tables)))
    if args.out:
        args.out.write_text(json.dumps(tables, indent=2))


if __name__ == "__main__":
    main()
