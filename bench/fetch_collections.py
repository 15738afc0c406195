"""Fetch real document collections from Debian packages for the reading bench.

Why Debian packages: they are real documents made by many tools (pdfTeX, LuaTeX, XeTeX,
dvips + Ghostscript, Acrobat Distiller, …), free to redistribute, versioned, and
downloadable with ``apt-get download`` from the same mirror the machine already uses: no
crawling, no accounts, the same bytes for everyone who runs the bench.

Everything lands in a cache folder OUTSIDE the repository, never committed:
``--cache DIR``, else ``$OPS_BENCH_CACHE``, else ``~/.cache/ops-search/bench``. Each
collection is unpacked into ``CACHE/<collection>/`` (``dpkg-deb -x``; nothing is installed)
and its documents are in the folder ``--list`` prints. A package already unpacked (a
marker under ``CACHE/<collection>/.fetched/``) is skipped, so running it again is cheap.

    python bench/fetch_collections.py                  # fetch the default collections
    python bench/fetch_collections.py tex-docs-extra   # an optional one (or just one)
    python bench/fetch_collections.py --list           # name<TAB>folder, fetched ones only

Needs ``apt-get update`` to have run once (as root) so the package lists are there.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CACHE = Path("~/.cache/ops-search/bench").expanduser()


@dataclass(frozen=True)
class Collection:
    packages: tuple[str, ...]
    folder: str  # where the documents are, relative to the unpacked tree
    about: str
    default: bool = True  # fetched when no names are given


# The TeX set (Debian 12 sizes): 658 PDFs, ≈16,000 pages, ≈430 MB of .debs, chosen for the
# spread of producers and layouts while a full bench run stays within an hour or two on
# two shared cores (pdfplumber reads ≈0.1–0.2 CPU s per page).
TEX_PACKAGES = (
    "texlive-humanities-doc",  # critical editions (reledmac/reledpar), XeTeX, xdvipdfmx
    "texlive-lang-european",  # babel docs in European languages (babel-danish), diacritics
    "texlive-latex-recommended-doc",  # Beamer slides, KOMA-Script, Distiller, Ghostscript
    "texlive-metapost-doc",  # figures, LuaTeX, Ghostscript
    "texlive-fonts-recommended-doc",  # font tables, Distiller
    "texlive-pstricks-doc",  # dvips + ps2pdf (Ghostscript) documents, graphics-heavy
)
# More of the same on request (1,407 PDFs, ≈29,000 pages, ≈380 MB). texlive-pictures-doc
# (TikZ/PGF drawings, 233 MB) and texlive-latex-extra-doc (593 MB) are left out altogether.
TEX_EXTRA_PACKAGES = (
    "texlive-publishers-doc",  # journal and thesis classes: two-column samples, LuaTeX
    "texlive-science-doc",  # maths, units, chemistry
    "texlive-latex-base-doc",  # the LaTeX kernel docs: pdfTeX, ltxdoc code listings
)

COLLECTIONS: dict[str, Collection] = {
    "libreoffice-help-da": Collection(
        ("libreoffice-help-da",),
        "usr/share/libreoffice/help/da",
        "LibreOffice help in Danish: ≈2,560 HTML pages",
    ),
    "libreoffice-help-en-us": Collection(
        ("libreoffice-help-en-us",),
        "usr/share/libreoffice/help/en-US",
        "LibreOffice help in English: the same pages and paragraph ids as the Danish help, "
        "for the Danish–English glossary (build_glossary.py)",
        default=False,
    ),
    "ui-translations-da": Collection(
        ("libreoffice-l10n-da", "gimp-data"),
        "usr",
        "Danish translations of the LibreOffice and GIMP user interfaces (gettext .mo "
        "catalogues, ≈35,000 strings), for the Danish–English glossary (build_glossary.py)",
        default=False,
    ),
    "tex-docs": Collection(
        TEX_PACKAGES,
        "usr/share/doc/texlive-doc",
        "TeX Live package documentation: 658 PDFs from many producers",
    ),
    "tex-docs-extra": Collection(
        TEX_EXTRA_PACKAGES,
        "usr/share/doc/texlive-doc",
        "more TeX Live documentation (journal classes, science, LaTeX kernel): 1,407 PDFs",
        default=False,
    ),
    "gimp-help-da": Collection(
        ("gimp-help-da",),
        "usr/share/gimp/2.0/help/da",
        "GIMP user manual in Danish: 685 HTML pages (DocBook, navigation bars on every page)",
        default=False,
    ),
    "danish-pdfs": Collection(
        ("debian-edu-doc-da",),
        "usr/share/doc/debian-edu-doc-da",
        "Debian Edu manuals in Danish: 2 PDFs (≈100 pages each, dblatex + XeTeX) and their HTML",
    ),
}


def cache_root(cli_value: Path | None) -> Path:
    if cli_value is not None:
        return cli_value.expanduser()
    env = os.environ.get("OPS_BENCH_CACHE", "").strip()
    return Path(env).expanduser() if env else DEFAULT_CACHE


def collection_folder(cache: Path, name: str) -> Path:
    return cache / name / COLLECTIONS[name].folder


def fetch(cache: Path, name: str) -> Path:
    """Download and unpack the collection's packages that are not unpacked yet."""
    collection = COLLECTIONS[name]
    root = cache / name
    markers = root / ".fetched"
    markers.mkdir(parents=True, exist_ok=True)
    print(f"[{name}] {collection.about}")
    for package in collection.packages:
        marker = markers / package
        if marker.exists():
            print(f"  {package}: already there ({marker.read_text().strip()})")
            continue
        size = _package_size(package)
        shown = f" ({size / 1e6:.0f} MB)" if size else ""
        print(f"  {package}: downloading{shown} …", flush=True)
        with tempfile.TemporaryDirectory(prefix="ops-bench-deb-") as tmp:
            _run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", package], tmp)
            debs = sorted(Path(tmp).glob("*.deb"))
            if not debs:
                sys.exit(f"apt-get download {package} produced no .deb")
            _run(["dpkg-deb", "-x", str(debs[0]), str(root)])
            marker.write_text(debs[0].name + "\n")
        print(f"  {package}: unpacked", flush=True)
    folder = collection_folder(cache, name)
    unzipped = _gunzip_pdfs(folder)
    if unzipped:
        print(f"  decompressed {unzipped} .pdf.gz file(s)")
    return folder


def _package_size(package: str) -> int:
    out = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", package], capture_output=True, text=True
    )
    for line in out.stdout.splitlines():
        if line.startswith("Size:"):
            return int(line.split()[1])
    return 0


def _run(cmd: list[str], cwd: str | None = None) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        hint = " (run `apt-get update` first?)" if cmd[0] == "apt-get" else ""
        sys.exit(f"{' '.join(cmd)} failed{hint}:\n{proc.stderr.strip()}")


def _gunzip_pdfs(folder: Path) -> int:
    """Some Debian doc packages ship ``x.pdf.gz``; the bench needs ``x.pdf`` beside it."""
    count = 0
    for packed in folder.rglob("*.pdf.gz"):
        target = packed.with_suffix("")
        if target.exists() or not packed.is_file():
            continue
        with gzip.open(packed, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
        count += 1
    return count


def describe(folder: Path) -> str:
    """File counts by extension, the formats ops-search reads first."""
    counts = Counter(p.suffix.lower() or "(none)" for p in folder.rglob("*") if p.is_file())
    wanted = [".pdf", ".html", ".htm", ".docx", ".txt", ".md"]
    shown = [f"{counts[ext]} {ext}" for ext in wanted if counts[ext]]
    others = sum(n for ext, n in counts.items() if ext not in wanted)
    return ", ".join(shown + [f"{others} other"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="collections: " + "; ".join(f"{n}: {c.about}" for n, c in COLLECTIONS.items()),
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="collections to fetch (default: all but tex-docs-extra)",
    )
    parser.add_argument(
        "--cache", type=Path, help=f"cache folder (default $OPS_BENCH_CACHE or {DEFAULT_CACHE})"
    )
    parser.add_argument(
        "--list",
        action="store_true",
        help="print name<TAB>folder for each fetched collection and exit",
    )
    args = parser.parse_args()
    cache = cache_root(args.cache)
    if args.names:
        names = args.names
    elif args.list:
        names = list(COLLECTIONS)
    else:
        names = [name for name, c in COLLECTIONS.items() if c.default]
    unknown = [n for n in names if n not in COLLECTIONS]
    if unknown:
        parser.error(f"unknown collection(s) {unknown}; known: {', '.join(COLLECTIONS)}")

    if args.list:
        for name in names:
            folder = collection_folder(cache, name)
            if folder.is_dir():
                print(f"{name}\t{folder}")
            else:
                print(f"{name}: not fetched (expected in {folder})", file=sys.stderr)
        return

    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: this script needs a Debian-based system")
    print(f"cache: {cache}")
    for name in names:
        folder = fetch(cache, name)
        print(f"  → {folder}\n    {describe(folder)}", flush=True)


if __name__ == "__main__":
    main()
