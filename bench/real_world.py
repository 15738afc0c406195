"""Real-world reading bench: does ops-search read real documents, how fast, how completely?

Runs every supported file under the given folders (PDF, HTML, DOCX, TXT, MD) through
ops-search's real extraction (``read`` below: the one call to swap when the extraction API
changes) and prints one line per file and a summary. Made for the collections that
``bench/fetch_collections.py`` fetches from Debian packages (TeX documentation PDFs from
many producers, Danish LibreOffice help), but any folder will do.

    python bench/fetch_collections.py                    # once: fetch into the cache
    TEX=$(python bench/fetch_collections.py --list | awk '$1=="tex-docs" {print $2}')
    .venv/bin/python bench/real_world.py "$TEX" --formats pdf --jobs 2 --json /tmp/tex.jsonl

Per file: ``ok``, ``degraded`` (pages read by a simpler method, or the whole file by a
fallback reader) or ``failed`` (the reason), pages, seconds of extraction and pages/s,
and for PDFs how our text compares with poppler's ``pdftotext -enc UTF-8 FILE -``
(Debian ``poppler-utils``), an independent, mature extractor used as the reference.

Word comparison (PDFs only). Both texts are reduced to a multiset ("bag") of words:

1. Unicode NFKC (ligatures ``ﬁ`` → ``fi``, full-width and compatibility forms folded),
   soft hyphens and zero-width characters removed, ``str.casefold``;
2. in pdftotext's text only, line-end hyphenation is undone within a page: ``head-`` at a
   line end followed by a word starting in lower case becomes ``headtail``, unless
   ``head-tail`` occurs elsewhere in pdftotext's text (then the hyphen is kept, as
   ops-search's own joiner does); a tail starting with a capital or a digit keeps the
   hyphen (``Danish-English``). Our text is already de-hyphenated by ops-search;
   also in pdftotext's text only, a run of at least four single characters separated by
   single spaces, three of them letters, is closed up (``\\ c l u b p e n a l t y`` →
   ``\\clubpenalty``): pdftotext spreads out the letters of many monospaced code fonts
   in TeX manuals, which would otherwise count as hundreds of words we "miss" (the count
   of such runs is kept as ``ref_spaced_runs``; a calendar's "M T W T F S S" is closed
   up too, a rare false join);
3. split at white space; punctuation is stripped from both ends of each word (internal
   punctuation such as ``e.g`` or ``\\usepackage{x`` stays); words without any letter
   or digit are dropped (maths symbols, rules, table bars, dot leaders).

``recall = |ours ∩ ref| / |ref|`` and ``precision = |ours ∩ ref| / |ours|`` with multiset
intersection, so word order (columns, reading order) does not count, but a word lost,
glued to its neighbour (two wrong words, one missing) or invented does.

Running headers, footers and lone page numbers are removed by ops-search on purpose and
count against plain recall. So a second figure, "body recall" (Rb), uses a reference
without them: on each pdftotext page (pages end at form feeds) the first two and last
two non-empty lines are candidates; a candidate is dropped when the same line (digits
ignored, case folded) is a candidate on at least half the pages (at least 2), or when it
is a lone page number (arabic or roman). The share of the reference this removes is
reported ("running"). Precision always uses the full reference: a word we have that
pdftotext has nowhere is invented (OCR of an image-only page also lands here, since
pdftotext does not OCR: see the ``ocr`` count).

A second reference tells our errors from pdftotext's. pdftotext errs too: it spreads the
letters of code fonts (``\\ p s s e t`` for ``\\psset``, beyond what step 2 closes up), splits
``\\filehook@addtohook`` into ``\\ fi le ho ok @a dd to ho ok``, reads text along a curve in
pieces. So each PDF is also read by pypdfium2's own text extraction (PDFium, Chrome's PDF
engine: a code base independent of both poppler and the pdfminer we read with), normalised
the same way, and two more figures are kept: "agreed recall" (Ra), the share of the words
*both* references read that we read too (a word they disagree on is no evidence against
us), and "either precision" (Pe), the share of our words that either reference has (a word
that neither has is invented or glued). Caveat: pages ops-search reads with pypdfium2
(graphics-heavy pages, files pdfminer cannot parse) agree with PDFium by construction.

Files where pdftotext finds no words are reported as "no text layer" and left out of the
recall and precision statistics, as are failed files (counted apart). Per file the JSON
record also lists the worst pages (page recall/precision against the same page of
pdftotext) and the most frequent missing and extra words, to see WHAT is lost.

Each file is read in its own forked process (``--jobs`` at a time) under ingest's limits:
the memory ceiling (``OPS_READ_MEMORY_MB``) and the time limit (``OPS_READ_TIMEOUT`` plus
``OPS_READ_TIMEOUT_PER_PAGE`` per page, or ``--timeout``); a crash or a timeout is a
failure of that file, not of the run.
Peak RSS per file is recorded in the JSON lines (it includes the ≈100 MB the process
inherits from this script). OCR (tesseract) runs when a page has no text layer but an
image; ops-search has no setting to turn it off, so it is counted in the time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import multiprocessing as mp
import os
import random
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.language import detect_document_language  # noqa: E402
from ingest.pipeline import Extraction, count_pages, discover, extract  # noqa: E402
from ingest.readers import EXTENSIONS  # noqa: E402
from ops_search.config import Settings  # noqa: E402


def read(path: Path, settings: Settings) -> Extraction:
    """The one call into ops-search's extraction; everything else here only measures.

    Ingest reads through ``ingest.driver.ReaderPool``, whose ``python -m ingest.worker``
    processes call this same ``extract`` under the settings' time limit and memory ceiling.
    The bench forks a process per file and applies those limits itself (``run_all``,
    ``_child``): a fresh interpreter per file would add a second or two to every file, and
    a process per file gives each file its own peak-memory figure.
    """
    return extract(path, settings)


# --- word comparison --------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_EDGES_RE = re.compile(r"^[\W_]+|[\W_]+$")
_LINE_BREAK_RE = re.compile(r"(\w+)[-\u2010]\n[ \t]*(\w+)")
_COMPOUND_RE = re.compile(r"\w+(?:[-\u2010]\w+)+")
_DIGITS_RE = re.compile(r"\d+")
_PAGE_NUMBER_RE = re.compile(
    r"^[-–—\s]*(\d{1,4}|(?=[ivxlcdm])m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3}))"
    r"[-–—\s]*$",
    re.IGNORECASE,
)
# Artefacts in our text worth counting on their own: pdfminer's marker for a glyph it could
# not map to Unicode, and a spacing accent next to a letter ("fu¨r", "˚a": TeX's OT1 fonts
# build accented letters from two glyphs, which pdftotext composes and we may not).
_CID_RE = re.compile(r"\(cid:\d+\)")
_SPACING_ACCENT_RE = re.compile(r"(?<=[^\W\d_])[¨´ˆ˜˚¸ˇ˘˙˝]|[¨´ˆ˜˚¸ˇ˘˙˝](?=[^\W\d_])")
RUNNING_CANDIDATES = 2  # lines at the top and at the bottom of a page
# The worst-file lists skip files this small (a one-page figure with a few labels), whose
# ratios swing on a handful of words; the medians and p10 count every file.
WORST_MIN_WORDS = 100


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE).casefold()


def words(text: str) -> list[str]:
    """The comparable words of an already ``normalize``d text (see the module docstring)."""
    out = []
    for raw in text.split():
        word = _EDGES_RE.sub("", raw)
        if word:
            out.append(word)
    return out


_SPACED_RE = re.compile(r"(?<!\S)\S(?: \S){3,}(?!\S)")


def close_up(page: str) -> tuple[str, int]:
    """Close up letter-spaced runs in pdftotext's text (module docstring, step 2)."""
    count = 0

    def close(m: re.Match[str]) -> str:
        nonlocal count
        run = m.group()
        if sum(c.isalpha() for c in run) < 3:  # "1 2 3 4" in a table is four numbers
            return run
        count += 1
        return run.replace(" ", "")

    return _SPACED_RE.sub(close, page), count


def dehyphenate(page: str, compounds: set[str]) -> str:
    """Undo line-end hyphenation in pdftotext's text of one page (module docstring, step 2)."""

    def join(m: re.Match[str]) -> str:
        head, tail = m.group(1), m.group(2)
        if not tail[0].islower() or head[-1].isdigit() or f"{head}-{tail}" in compounds:
            return f"{head}-{tail}"
        return head + tail

    return _LINE_BREAK_RE.sub(join, page)


def running_lines(pages: list[list[str]]) -> list[set[int]]:
    """Per page, the indexes of lines that are running headers/footers or page numbers."""

    def key(line: str) -> str:
        return _DIGITS_RE.sub("#", " ".join(line.split()))

    candidates: list[list[int]] = []
    for lines in pages:
        filled = [i for i, ln in enumerate(lines) if words(ln)]
        head, tail = filled[:RUNNING_CANDIDATES], filled[-RUNNING_CANDIDATES:]
        candidates.append(sorted(set(head + tail)))
    counts: Counter[str] = Counter()
    for lines, idx in zip(pages, candidates, strict=True):
        counts.update({key(lines[i]) for i in idx})
    text_pages = sum(1 for idx in candidates if idx)
    threshold = max(2, (text_pages + 1) // 2)
    return [
        {i for i in idx if counts[key(lines[i])] >= threshold or _PAGE_NUMBER_RE.match(lines[i])}
        for lines, idx in zip(pages, candidates, strict=True)
    ]


def overlap(ours: Counter[str], ref: Counter[str]) -> int:
    return sum((ours & ref).values())


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def pdftotext(path: Path) -> tuple[str | None, str]:
    """poppler's text of the PDF, or None and why not."""
    try:
        proc = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"],
            capture_output=True,
            timeout=300,
        )
    except FileNotFoundError:
        return None, "pdftotext not installed (apt-get install poppler-utils)"
    except subprocess.TimeoutExpired:
        return None, "pdftotext timed out"
    if proc.returncode != 0 and not proc.stdout:
        return None, f"pdftotext failed: {proc.stderr.decode(errors='replace').strip()[:200]}"
    return proc.stdout.decode("utf-8", errors="replace"), ""


def pdfium_words(path: Path) -> Counter[str] | None:
    """The words of PDFium's text of every page (the second reference), or None when
    pypdfium2 cannot open the file."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except Exception:  # pypdfium2 raises its own PdfiumError and OSError subclasses
        return None
    bag: Counter[str] = Counter()
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            try:
                text = textpage.get_text_range().replace("\x02", "-").replace("\r\n", "\n")
            finally:
                textpage.close()
                page.close()
            bag.update(words(close_up(dehyphenate(normalize(text), set()))[0]))
    finally:
        pdf.close()
    return bag


def compare(ours_pages: list[str], ref_text: str, second: Counter[str] | None = None) -> dict:
    """Recall, body recall and precision of our text against pdftotext's, and where the
    differences are (worst pages, most frequent missing and extra words); with ``second``
    (PDFium's words), agreed recall and either precision too."""
    ref_norm = normalize(ref_text)
    compounds = {c.replace("\u2010", "-") for c in _COMPOUND_RE.findall(ref_norm)}
    ref_pages, spaced_runs = [], 0
    for page in ref_norm.split("\f"):
        page, runs = close_up(dehyphenate(page, compounds))
        ref_pages.append(page.split("\n"))
        spaced_runs += runs
    if ref_pages and not any(ln.strip() for ln in ref_pages[-1]):
        ref_pages.pop()  # pdftotext ends every page with a form feed
    running = running_lines(ref_pages)
    ref_page_words = [Counter(words("\n".join(p))) for p in ref_pages]
    body_page_words = [
        Counter(words("\n".join(ln for i, ln in enumerate(p) if i not in drop)))
        for p, drop in zip(ref_pages, running, strict=True)
    ]
    our_page_words = [Counter(words(normalize(p))) for p in ours_pages]
    ref, body, ours = Counter(), Counter(), Counter()
    for c in ref_page_words:
        ref.update(c)
    for c in body_page_words:
        body.update(c)
    for c in our_page_words:
        ours.update(c)
    n_ref, n_body, n_ours = ref.total(), body.total(), ours.total()
    result: dict = {
        "ref_words": n_ref,
        "our_words": n_ours,
        "running_share": ratio(n_ref - n_body, n_ref),
        "ref_spaced_runs": spaced_runs,
        "recall": ratio(overlap(ours, ref), n_ref),
        "recall_body": ratio(overlap(ours, body), n_body),
        "precision": ratio(overlap(ours, ref), n_ours),
        "missing": (ref - ours).most_common(15),
        "extra": (ours - ref).most_common(15),
    }
    if second is not None:
        agreed, either = ref & second, ref | second
        result["recall_agreed"] = ratio(overlap(ours, agreed), agreed.total())
        result["precision_either"] = ratio(overlap(ours, either), n_ours)
        result["missing_agreed"] = (agreed - ours).most_common(10)
        result["extra_either"] = (ours - either).most_common(10)
    if len(ref_pages) == len(ours_pages):
        worst_r, worst_p, lost = [], [], []
        for number, (o, b, r) in enumerate(
            zip(our_page_words, body_page_words, ref_page_words, strict=True), start=1
        ):
            if b.total() >= 20:
                page_recall = overlap(o, b) / b.total()
                worst_r.append((round(page_recall, 3), number, b.total(), o.total()))
                if not o:
                    lost.append(number)
            if o.total() >= 20:
                page_precision = overlap(o, r) / o.total()
                worst_p.append((round(page_precision, 3), number, o.total(), r.total()))
        result["pages_lost"] = lost
        result["worst_pages_recall"] = sorted(worst_r)[:8]  # (recall, page, ref, ours)
        result["worst_pages_precision"] = sorted(worst_p)[:8]  # (precision, page, ours, ref)
    else:
        result["page_mismatch"] = f"pdftotext {len(ref_pages)} pages, ours {len(ours_pages)}"
    return result


# --- one file, in its own process -------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    ocr_workers: int
    memory_mb: int  # address-space ceiling of a reader process, as ingest.worker sets it
    dump: Path | None
    root: Path


def measure(path: Path, opts: Options, on_read: Callable[[dict], None] = lambda _: None) -> dict:
    """Read one file the way ops-search does and describe the outcome as a JSON-able dict.
    ``on_read`` gets the record as it stands when ops-search's reading is done, before the
    references (pdftotext, PDFium) are read."""
    fmt = EXTENSIONS.get(path.suffix.lower(), "?")
    record: dict = {"path": str(path), "format": fmt}
    with tempfile.TemporaryDirectory(prefix="ops-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp), ocr_workers=opts.ocr_workers)
        cpu_before = _cpu_seconds()
        extraction = read(path, settings)
        cpu = _cpu_seconds() - cpu_before
    record["seconds"] = round(extraction.seconds, 3)
    record["cpu_seconds"] = round(cpu, 3)
    document = extraction.document
    if extraction.error or document is None:
        record.update(status="failed", reason=_reason(extraction.error or "no document", path))
        record["pages"] = count_pages(path)
        on_read(record)
        if fmt == "pdf":  # is there text we failed to get, or none to get?
            ref_text, _ = pdftotext(path)
            record["ref_words"] = len(words(normalize(ref_text or "")))
        return record
    degraded = {str(k): v for k, v in document.degraded_pages.items()}
    record.update(
        status="degraded" if degraded or document.reader else "ok",
        pages=document.page_count,
        degraded_pages=degraded,
        reader=document.reader,
        ocr_pages=document.ocr_pages,
        skipped_pages=sum(1 for p in document.pages if p.skipped),
        chunks=len(extraction.chunks),
        chars=len(document.text),
        warnings=document.warnings[:5],
        warning_count=len(document.warnings),
    )
    on_read(record)
    if fmt != "pdf":
        return record
    started = time.monotonic()
    ref_text, why = pdftotext(path)
    record["ref_seconds"] = round(time.monotonic() - started, 3)
    if ref_text is None:
        record["no_reference"] = why
        return record
    ours_pages = [document.page_text(n) for n in range(1, document.page_count + 1)]
    record.update(compare(ours_pages, ref_text, pdfium_words(path)))
    record["cid_markers"] = len(_CID_RE.findall(document.text))
    record["spacing_accents"] = len(_SPACING_ACCENT_RE.findall(document.text))
    if record["ref_words"] == 0:
        record["no_reference"] = "no text layer"
    if opts.dump:
        stem = opts.dump / _display(path, opts.root).replace("/", "__")
        opts.dump.mkdir(parents=True, exist_ok=True)
        Path(f"{stem}.ours.txt").write_text(
            "\n\f".join(f"[page {n}]\n{t}" for n, t in enumerate(ours_pages, start=1)),
            encoding="utf-8",
        )
        Path(f"{stem}.pdftotext.txt").write_text(ref_text, encoding="utf-8")
    return record


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (tesseract): on a shared machine
    wall-clock seconds measure the neighbours as much as the reader."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _reason(error: str, path: Path) -> str:
    """An error message without the file name in front, so equal reasons group."""
    for prefix in (f"{path}: ", f"{path.resolve()}: "):
        if error.startswith(prefix):
            return error[len(prefix) :]
    return error


class _Tracebacks(logging.Handler):
    """Keeps what ``extract`` logs about its own errors ("internal error while reading")."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(logging.Formatter().format(record))


def _child(path: Path, opts: Options, conn: Connection) -> None:
    os.setpgrp()  # its own process group: a timeout kills tesseract/pdftotext with it
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = opts.memory_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    tracebacks = _Tracebacks()
    logging.getLogger().addHandler(tracebacks)
    try:
        record = measure(path, opts, on_read=lambda read: conn.send({READ_DONE: read}))
    except Exception as err:  # a bug in the bench or an exception extract() let through
        record = {"path": str(path), "status": "failed", "reason": f"raised {err!r}"[:300]}
    if tracebacks.texts:
        record["traceback"] = tracebacks.texts[-1][-3000:]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    record["rss_start_mb"] = round(rss_start / 1024)
    record["peak_rss_mb"] = round(peak / 1024)
    conn.send(record)
    conn.close()


# The child's word that ops-search's reading is done, with the record so far: from then on
# the file's time limit no longer applies, only the references' own. pdftotext took 4 minutes
# on a page of 46,000 pattern glyphs that ops-search reads in 10 s (psGlassPattern): that is
# not ops-search timing out.
READ_DONE = "read_done"
REFERENCE_SECONDS = 400.0  # pdftotext's own limit (300 s) and PDFium's text


@dataclass
class Job:
    path: Path
    process: mp.process.BaseProcess
    conn: Connection
    started: float
    limit: float
    read: dict | None = None  # the record of ops-search's reading, once done


def run_all(
    paths: list[Path], opts: Options, jobs: int, limit: Callable[[Path], float]
) -> Iterator[dict]:
    """Read each file in a forked process, ``jobs`` at a time, killed after ``limit(path)``
    seconds; yield the records as they finish."""
    ctx = mp.get_context("fork")
    pending = list(reversed(paths))
    running: dict[Connection, Job] = {}
    try:
        while pending or running:
            while pending and len(running) < jobs:
                path = pending.pop()
                recv, send = ctx.Pipe(duplex=False)
                process = ctx.Process(target=_child, args=(path, opts, send), daemon=True)
                process.start()
                send.close()
                running[recv] = Job(path, process, recv, time.monotonic(), limit(path))
            first_deadline = min(job.started + job.limit for job in running.values())
            for conn in wait(list(running), timeout=max(0.0, first_deadline - time.monotonic())):
                job = running.pop(conn)  # type: ignore[arg-type]
                try:
                    record = conn.recv()  # type: ignore[union-attr]
                except EOFError:  # died without a word: a crash or the OOM killer
                    job.process.join()
                    died = f"process died ({_exit(job.process.exitcode)})"
                    record = (
                        _lost(job, f"reader {died}")
                        if job.read is None
                        else {**job.read, "no_reference": f"{died} while reading the references"}
                    )
                if READ_DONE in record:  # read in time; the references get their own limit
                    job.read, job.started = record[READ_DONE], time.monotonic()
                    job.limit = REFERENCE_SECONDS
                    running[conn] = job
                    continue
                conn.close()  # type: ignore[union-attr]
                job.process.join()
                yield record
            now = time.monotonic()
            for conn, job in list(running.items()):
                if now - job.started >= job.limit:
                    cpu = _process_cpu(job.process.pid)
                    _kill(job)
                    job.process.join()
                    conn.close()
                    del running[conn]
                    if job.read is not None:  # ours was read; the references were not
                        record = {**job.read, "no_reference": f"timed out after {job.limit:.0f} s"}
                        yield record
                        continue
                    record = _lost(job, f"timeout after {job.limit:.0f} s")
                    if cpu is not None:  # on a busy machine the wall clock says little
                        record["cpu_seconds"] = round(cpu, 3)
                    yield record
    finally:
        for job in running.values():
            _kill(job)


def _kill(job: Job) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(job.process.pid, signal.SIGKILL)
    job.process.kill()


def _process_cpu(pid: int) -> float | None:
    """CPU seconds a running process has used (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _lost(job: Job, reason: str) -> dict:
    fmt = EXTENSIONS.get(job.path.suffix.lower(), "?")
    record = {
        "path": str(job.path),
        "format": fmt,
        "status": "failed",
        "reason": reason,
        "pages": count_pages(job.path),
        "seconds": round(time.monotonic() - job.started, 3),
    }
    if fmt == "pdf":
        ref_text, _ = pdftotext(job.path)
        record["ref_words"] = len(words(normalize(ref_text or "")))
    return record


def _exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            pass
    return f"exit code {code}"


# --- reporting -----------------------------------------------------------------------------------


def _display(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _fmt(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def file_line(record: dict, root: Path) -> str:
    status = record["status"]
    pages, seconds = record.get("pages") or 0, record.get("seconds") or 0.0
    ok = seconds > 0 and status != "failed"
    speed = f"{pages / seconds:7.1f} p/s" if ok else "      - p/s"
    cpu = record.get("cpu_seconds")
    cpu_shown = f"(cpu {cpu:7.2f})" if cpu is not None else " " * 13
    line = f"{status:<8} {pages:5d} p {seconds:8.2f} s {cpu_shown} {speed}"
    if record.get("format") == "pdf" and status != "failed":
        if record.get("no_reference"):
            line += f"  ({record['no_reference']})".ljust(32)
        else:
            line += (
                f"  R {_fmt(record['recall'])} Rb {_fmt(record['recall_body'])}"
                f" P {_fmt(record['precision'])}"
                f" Ra {_fmt(record.get('recall_agreed'))} Pe {_fmt(record.get('precision_either'))}"
            )
    line += f"  {_display(Path(record['path']), root)}"
    if status == "failed":
        line += f"  ({record['reason']})"
    elif status == "degraded":
        line += f"  ({_degraded(record)})"
    if record.get("ocr_pages"):
        line += f"  [OCR {record['ocr_pages']} p]"
    return line


def _degraded(record: dict) -> str:
    if record.get("reader"):
        return f"whole file read by {record['reader']}"
    reasons = Counter(record["degraded_pages"].values())
    pages = ", ".join(list(record["degraded_pages"])[:10])
    more = "…" if len(record["degraded_pages"]) > 10 else ""
    return f"pages {pages}{more}: " + "; ".join(f"{r} ×{n}" for r, n in reasons.most_common())


def _code_version() -> str:
    """The commit, and whether the readers differ from it: results depend on the code read."""
    git = ["git", "-C", str(ROOT)]
    try:
        commit = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        changed = subprocess.run(
            [*git, "status", "--porcelain", "--", "ingest", "ops_search"],
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        return "code version unknown (no git)"
    files = [line[3:] for line in changed.stdout.splitlines()]
    edits = f", uncommitted changes in {', '.join(files)}" if files else ""
    return f"code at {commit.stdout.strip() or '?'}{edits}"


def quantile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summary(records: list[dict], root: Path, wall: float | None) -> str:
    out = []
    formats = Counter(r.get("format", "?") for r in records)
    statuses = Counter(r["status"] for r in records)
    out.append(
        f"files: {len(records)} ("
        + ", ".join(f"{n} {f}" for f, n in formats.most_common())
        + f"); ok {statuses['ok']}, degraded {statuses['degraded']}, failed {statuses['failed']}"
    )
    failed = [r for r in records if r["status"] == "failed"]
    if failed:
        # Reasons that differ only in numbers ("index 598 is out of bounds …") are one.
        failures = Counter(_DIGITS_RE.sub("N", r["reason"]) for r in failed)
        with_text = Counter(_DIGITS_RE.sub("N", r["reason"]) for r in failed if r.get("ref_words"))
        example = {_DIGITS_RE.sub("N", r["reason"]): r for r in failed}
        out.append("failure reasons (files; of which pdftotext found words in; an example):")
        for reason, n in failures.most_common():
            shown = _display(Path(example[reason]["path"]), root)
            out.append(f"  {n:5d}  ({with_text[reason]:3d})  {reason}  [{shown}]")
    degraded = Counter(
        reason
        for r in records
        if r["status"] == "degraded"
        for reason in (r["degraded_pages"].values() or [f"read by {r['reader']}"])
    )
    if degraded:
        out.append("degraded pages by reason:")
        out.extend(f"  {n:5d}  {reason}" for reason, n in degraded.most_common())
    read = [r for r in records if r["status"] != "failed"]
    pages = sum(r["pages"] for r in read)
    seconds = sum(r["seconds"] for r in read)
    cpu = sum(r.get("cpu_seconds", 0) for r in read)
    ocr = sum(r.get("ocr_pages", 0) for r in read)
    out.append(
        f"pages read: {pages} ({ocr} by OCR) in {seconds:.0f} s of worker time = "
        f"{seconds / max(pages, 1):.3f} s/page ({pages / max(seconds, 1e-9):.1f} pages/s "
        f"per worker); CPU {cpu:.0f} s = {cpu / max(pages, 1):.3f} CPU s/page"
        + (f"; wall clock {wall:.0f} s for all files" if wall is not None else "")
    )
    speeds = sorted(
        ((r["cpu_seconds"] / r["pages"], r) for r in read if r.get("cpu_seconds") and r["pages"]),
        key=lambda pair: pair[0],
    )
    if speeds:
        per_page = [v for v, _ in speeds]
        slowest, record = speeds[-1]
        out.append(
            f"CPU s/page per file: median {statistics.median(per_page):.3f}, "
            f"p90 {quantile(per_page, 0.9):.3f}, max {slowest:.3f} "
            f"({_display(Path(record['path']), root)}, {record['pages']} p)"
        )
    by_rss = [r for r in records if "peak_rss_mb" in r]
    if by_rss:
        top = max(by_rss, key=lambda r: r["peak_rss_mb"])
        rss = [r["peak_rss_mb"] for r in by_rss]
        out.append(
            f"peak RSS per reader process: median {statistics.median(rss):.0f} MB, "
            f"p90 {quantile(rss, 0.9):.0f} MB, max {top['peak_rss_mb']} MB "
            f"({_display(Path(top['path']), root)})"
        )

    pdfs = [r for r in read if r.get("format") == "pdf"]
    compared = [r for r in pdfs if not r.get("no_reference")]
    no_layer = [r for r in pdfs if r.get("no_reference")]
    if pdfs:
        out.append(
            f"PDF words vs pdftotext: {len(compared)} file(s) compared; {len(no_layer)} "
            f"without a reference (no text layer or pdftotext failed); "
            f"{statuses['failed']} failed file(s) not counted"
        )
    if compared:
        ref_total = sum(r["ref_words"] for r in compared)
        running = sum(r["ref_words"] * (r["running_share"] or 0) for r in compared)
        for key, label in (
            ("recall", "recall     "),
            ("recall_body", "body recall"),
            ("precision", "precision  "),
            ("recall_agreed", "agreed recall (words pdftotext and PDFium both read)"),
            ("precision_either", "either precision (words pdftotext or PDFium read)"),
        ):
            values = [r[key] for r in compared if r.get(key) is not None]
            if values:
                out.append(
                    f"  {label}  median {statistics.median(values):.4f}  "
                    f"p10 {quantile(values, 0.1):.4f}  min {min(values):.4f}  "
                    f"(files below 0.9: {sum(v < 0.9 for v in values)})"
                )
        out.append(
            f"  running headers/footers/page numbers: {running / max(ref_total, 1):.1%} of "
            f"pdftotext's {ref_total} words (counted in recall, not in body recall)"
        )
        for key, label in (
            ("cid_markers", "unmapped glyphs, '(cid:N)', in our text"),
            ("spacing_accents", "spacing accents next to a letter ('fu¨r') in our text"),
        ):
            hit = [r for r in compared if r.get(key)]
            line = f"  {label}: {sum(r[key] for r in hit)} in {len(hit)} file(s)"
            if hit:
                most = max(hit, key=lambda r: r[key])
                line += f", most in {_display(Path(most['path']), root)}"
            out.append(line)
        lost = sum(len(r.get("pages_lost", [])) for r in compared)
        mismatched = sum(1 for r in compared if r.get("page_mismatch"))
        out.append(
            f"  pages with ≥ 20 reference words and none of ours: {lost}; "
            f"files whose page count differs from pdftotext's: {mismatched}"
        )
        for key in ("recall", "recall_body", "precision"):
            worst = sorted(
                (r for r in compared if r[key] is not None and r["ref_words"] >= WORST_MIN_WORDS),
                key=lambda r: r[key],
            )[:10]
            out.append(
                f"lowest {key.replace('_', ' ')} (files with ≥ {WORST_MIN_WORDS} reference words):"
            )
            for r in worst:
                out.append(
                    f"  {r[key]:.3f}  (R {_fmt(r['recall'])} P {_fmt(r['precision'])}, "
                    f"{r['pages']} p)  {_display(Path(r['path']), root)}"
                )
    return "\n".join(out)


# --- command line --------------------------------------------------------------------------------


def select(files: list[Path], args: argparse.Namespace) -> list[Path]:
    if args.formats:
        wanted = {f.strip().lstrip(".").lower() for f in args.formats.split(",")}
        files = [f for f in files if EXTENSIONS.get(f.suffix.lower()) in wanted]
    if args.sample is not None:
        chosen = random.Random(args.seed).sample(files, min(args.sample, len(files)))
        files = sorted(chosen)
    if args.limit is not None:
        files = files[: args.limit]
    return files


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="See the module docstring for how words are compared.",
    )
    parser.add_argument("folders", nargs="+", type=Path, metavar="FOLDER")
    parser.add_argument("--formats", help="only these formats, e.g. 'pdf' or 'pdf,html'")
    parser.add_argument("--limit", type=int, help="only the first N files (sorted by path)")
    parser.add_argument("--sample", type=int, help="a random sample of N files …")
    parser.add_argument("--seed", type=int, default=0, help="… drawn with this seed")
    parser.add_argument("--jobs", type=int, default=2, help="files read at once (default 2)")
    parser.add_argument(
        "--timeout",
        type=float,
        help="seconds one file may take before it is killed (default: ingest's limit, "
        "OPS_READ_TIMEOUT + OPS_READ_TIMEOUT_PER_PAGE × pages)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="OUT",
        help="write one JSON line per file, then one with the summary",
    )
    parser.add_argument(
        "--dump",
        type=Path,
        metavar="DIR",
        help="write our text and pdftotext's for each PDF into DIR",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="with --json OUT: keep OUT's records of files still selected, read only the rest "
        "(a long run on a shared machine can be stopped and continued)",
    )
    parser.add_argument(
        "--from-json",
        action="store_true",
        help="FOLDER is the --json file of an earlier run: print its summary again, read nothing",
    )
    args = parser.parse_args()

    if args.from_json:
        lines = [json.loads(ln) for p in args.folders for ln in p.read_text().splitlines() if ln]
        records = [r for r in lines if "path" in r]
        roots = [r["root"] for r in lines if "root" in r]
        root = Path(roots[0] if roots else os.path.commonpath([r["path"] for r in records]))
        print(summary(records, root, wall=None))
        return

    files, missing = discover(args.folders)
    for message in missing:
        print(message, file=sys.stderr)
    files = select(files, args)
    if not files:
        sys.exit("no supported files found")
    folders = [f.resolve() for f in args.folders]
    root = Path(os.path.commonpath(folders)) if len(folders) > 1 else folders[0]
    if root.is_file():
        root = root.parent
    jobs = max(1, args.jobs)
    settings = Settings()
    opts = Options(
        # OCR runs a tesseract process per page; keep jobs × OCR workers within the cores.
        ocr_workers=max(1, (os.cpu_count() or 1) // jobs),
        memory_mb=settings.read_memory_mb,
        dump=args.dump,
        root=root,
    )

    def limit(path: Path) -> float:  # as ingest.driver.ReaderPool.time_limit
        if args.timeout:
            return args.timeout
        return settings.read_timeout + settings.read_timeout_per_page * count_pages(path)

    print(f"{len(files)} file(s) under {root}, {jobs} at a time; {_code_version()}", flush=True)

    # Load the language profiles once, before forking, as ingest.worker does at start-up:
    # otherwise every file's time would include loading them.
    detect_document_language("Kommunerne har indgået et offentlig-privat samarbejde.")
    # A `kill` of this script ends the readers too (run_all's clean-up runs on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    records = []
    if args.resume and args.json and args.json.exists():
        selected = {str(f) for f in files}
        for line in args.json.read_text(encoding="utf-8").splitlines():
            record = json.loads(line) if line.strip() else {}
            if record.get("path") in selected:
                records.append(record)
                selected.discard(record["path"])
        files = [f for f in files if str(f) in selected]
        print(f"resuming: {len(records)} file(s) already read, {len(files)} to go", flush=True)
    out = open(args.json, "w", encoding="utf-8") if args.json else None  # noqa: SIM115
    if out:
        out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    total = len(records) + len(files)
    started = time.monotonic()
    results = run_all(files, opts, jobs, limit)
    try:
        for n, record in enumerate(results, start=len(records) + 1):
            records.append(record)
            print(f"[{n:>{len(str(total))}}/{total}] {file_line(record, root)}", flush=True)
            if out:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
    except KeyboardInterrupt:
        print(f"interrupted after {len(records)} file(s)", file=sys.stderr)
    finally:
        results.close()
    wall = time.monotonic() - started
    text = summary(records, root, wall)
    print("\n" + text)
    if out:
        final = {"summary": text, "root": str(root), "code": _code_version()}
        out.write(json.dumps(final, ensure_ascii=False) + "\n")
        out.close()


if __name__ == "__main__":
    main()
