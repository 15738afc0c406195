"""Build the Danish–English glossary (``search/data/glossary-da-en.tsv``) from two parallel
texts no one has to align: the LibreOffice help, whose Danish and English editions hold the
same pages with the same paragraph ids (≈32,000 translated paragraph pairs), and the Danish
translations of the LibreOffice and GIMP user interfaces (gettext catalogues: ≈23,000
distinct menu items, buttons and tooltips with their English originals), which add the
words of image editing and everyday software ("takkede kanter" → "jagged edges").

Two IBM Model 1 word-translation tables are trained by EM, Danish → English and English →
Danish; a pair of words is kept when each is among the other's likeliest translations (the
two directions agree), which leaves out the frequent words every paragraph shares. The
result is written as ``word<TAB>direction<TAB>translations`` with the translations best
first, plus the same for Danish stems (for inflected forms the help never uses).

    python bench/fetch_collections.py libreoffice-help-da libreoffice-help-en-us \
        ui-translations-da
    python bench/build_glossary.py            # writes search/data/glossary-da-en.tsv

Prints how many pairs were read, the size of the list, and a few entries to look at.
"""

from __future__ import annotations

import argparse
import gettext
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from lxml import html as lxml_html

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import Stemmer  # noqa: E402
from fetch_collections import cache_root, collection_folder, fetch  # noqa: E402

from search.glossary import GLOSSARY_PATH, STEM_TO_ENGLISH, TO_DANISH, TO_ENGLISH, words  # noqa: E402

_ID_RE = re.compile(r"^(par|hd|bm)_id")
MAX_TOKENS = 40  # longer paragraphs are lists and tables: alignment gets vague
ITERATIONS = 6
MIN_PROB = 0.08  # t(e|d) and t(d|e) both at least this
MIN_COUNT = 2  # a word seen once is a guess
_MNEMONIC_RE = re.compile(r"[_~&](?=\w)")  # "_Gem", "~Slet": the access key's marker


def paragraphs(page: Path) -> dict[str, str]:
    try:
        tree = lxml_html.parse(str(page))
    except (OSError, ValueError):
        return {}
    out = {}
    for element in tree.iter():
        element_id = element.get("id") if isinstance(element.tag, str) else None
        if element_id and _ID_RE.match(element_id):
            text = " ".join(element.text_content().split())
            if text:
                out[element_id] = text
    return out


def aligned_pairs(da_root: Path, en_root: Path) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    pairs = set()
    for da_page in sorted(da_root.rglob("*.html")):
        en_page = en_root / da_page.relative_to(da_root)
        if not en_page.exists():
            continue
        english = paragraphs(en_page)
        for key, da_text in paragraphs(da_page).items():
            en_text = english.get(key)
            if not en_text or en_text == da_text:  # untranslated: teaches nothing
                continue
            d, e = tuple(words(da_text)), tuple(words(en_text))
            if d and e and len(d) <= MAX_TOKENS and len(e) <= MAX_TOKENS:
                pairs.add((d, e))
    return sorted(pairs)


def interface_pairs(root: Path) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """English → Danish strings of the user interfaces' gettext catalogues under ``root``:
    menu items, buttons and tooltips, short and exactly aligned ("Lens Distortion" →
    "Linseforvrængning", "Autocrop layer" → "Beskær lag automatisk")."""
    pairs = set()
    for catalogue in sorted(root.rglob("da/LC_MESSAGES/*.mo")):
        with catalogue.open("rb") as handle:
            messages = gettext.GNUTranslations(handle)._catalog  # noqa: SLF001
        for english, danish in messages.items():
            if isinstance(english, tuple):  # plural forms: (msgid, n)
                english = english[0]
            english = english.split("\x04")[-1]  # msgctxt \x04 msgid
            if not english or not isinstance(danish, str) or english == danish:
                continue
            d = tuple(words(_MNEMONIC_RE.sub("", danish)))
            e = tuple(words(_MNEMONIC_RE.sub("", english)))
            if d and e and len(d) <= MAX_TOKENS and len(e) <= MAX_TOKENS:
                pairs.add((d, e))
    return sorted(pairs)


def ibm1(pairs: list[tuple[tuple[str, ...], tuple[str, ...]]]) -> dict[str, dict[str, float]]:
    """t(target | source) by EM; a NULL source word takes what nothing else explains."""
    t: dict[str, dict[str, float]] = defaultdict(dict)
    for source, target in pairs:
        for s in (*source, None):
            row = t[s]
            for w in target:
                row[w] = 1.0
    for iteration in range(ITERATIONS):
        counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for source, target in pairs:
            words = (*source, None)
            for w in target:
                probs = [t[s].get(w, 1e-9) for s in words]
                total = sum(probs)
                for s, p in zip(words, probs, strict=True):
                    counts[s][w] += p / total
        t = defaultdict(dict)
        for s, row in counts.items():
            total = sum(row.values())
            t[s] = {w: c / total for w, c in row.items() if c / total >= 0.001}
        print(f"  EM iteration {iteration + 1}/{ITERATIONS}", file=sys.stderr)
    return t


def agreed(forward: dict, backward: dict, counts: Counter, limit: int = 3) -> dict[str, list[str]]:
    """Each source word's translations that both directions agree on, best first."""
    out = {}
    for source, row in forward.items():
        if source is None or counts[source] < MIN_COUNT:
            continue
        scored = []
        for target, p in row.items():
            back = backward.get(target, {}).get(source, 0.0)
            if p >= MIN_PROB and back >= MIN_PROB:
                scored.append((p * back, target))
        scored.sort(reverse=True)
        if scored:
            out[source] = [target for _, target in scored[:limit]]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, help="bench cache (see fetch_collections.py)")
    parser.add_argument("--out", type=Path, default=GLOSSARY_PATH)
    parser.add_argument(
        "--help-only", action="store_true", help="the help's paragraphs alone, no interfaces"
    )
    args = parser.parse_args()
    cache = cache_root(args.cache)
    names = ["libreoffice-help-da", "libreoffice-help-en-us"]
    if not args.help_only:
        names.append("ui-translations-da")
    roots = []
    for name in names:
        folder = collection_folder(cache, name)
        if not folder.exists() or not (cache / name / ".fetched").exists():
            fetch(cache, name)
        roots.append(folder)
    started = time.perf_counter()
    pairs = aligned_pairs(roots[0], roots[1])
    print(f"{len(pairs):,} aligned paragraph pairs", file=sys.stderr)
    if not args.help_only:
        interface = interface_pairs(roots[2])
        print(f"{len(interface):,} user-interface string pairs", file=sys.stderr)
        pairs = sorted(set(pairs) | set(interface))
    da_counts = Counter(w for d, _ in pairs for w in d)
    en_counts = Counter(w for _, e in pairs for w in e)
    da_en = ibm1(pairs)
    en_da = ibm1([(e, d) for d, e in pairs])
    to_english = agreed(da_en, en_da, da_counts)
    to_danish = agreed(en_da, da_en, en_counts)
    # An inflected form the help never uses is looked up by its stem: the stem's forms'
    # translations, weighted by how often each form occurs.
    stem = Stemmer.Stemmer("danish").stemWord
    by_stem: dict[str, Counter] = defaultdict(Counter)
    for word, translations in to_english.items():
        for rank, target in enumerate(translations):
            by_stem[stem(word)][target] += da_counts[word] / (rank + 1)
    stems = {s: [t for t, _ in c.most_common(3)] for s, c in by_stem.items()}
    lines = [f"{w}\t{TO_ENGLISH}\t{' '.join(ts)}" for w, ts in sorted(to_english.items())]
    lines += [f"{w}\t{TO_DANISH}\t{' '.join(ts)}" for w, ts in sorted(to_danish.items())]
    lines += [f"{s}\t{STEM_TO_ENGLISH}\t{' '.join(ts)}" for s, ts in sorted(stems.items())]
    header = (
        "# Danish–English word list learnt from the aligned paragraphs of the LibreOffice help\n"
        "# (Debian libreoffice-help-da and libreoffice-help-en-us 7.4, MPL-2.0)"
        + (
            ""
            if args.help_only
            else " and the Danish\n# interface translations of LibreOffice (libreoffice-l10n-da, "
            "MPL-2.0) and GIMP\n# (gimp-data 2.10, GPL-3.0-or-later)"
        )
        + " by bench/build_glossary.py:\n# word, direction, translations best first.\n"
    )
    args.out.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    seconds = time.perf_counter() - started
    print(
        f"{len(to_english):,} Danish and {len(to_danish):,} English words with translations "
        f"→ {args.out} ({args.out.stat().st_size / 1e3:.0f} kB) in {seconds:.0f} s"
    )
    for word in ("billede", "lodrette", "streger", "fjerne", "kanter", "skarpe", "udskrive",
                 "markering", "lag", "ark", "faneblad", "sheet", "layer", "undo"):  # fmt: skip
        print(f"  {word}: {to_english.get(word) or to_danish.get(word)}")


if __name__ == "__main__":
    main()
