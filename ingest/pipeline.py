"""Files → Documents → Chunks, one file at a time, bad files reported and skipped.

This is the extraction half of ingest: ``ingest.driver`` runs ``extract`` in worker
processes, and ``search.index`` consumes what it yields.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

import pypdfium2 as pdfium

from ingest.base import PageCallback
from ingest.chunk import Chunker
from ingest.document import build_document, sha256_of
from ingest.readers import EXTENSIONS, reader_for
from ingest.text import refuse_oversized, utf8_size
from ops_search.config import Settings
from ops_search.errors import IngestError
from ops_search.models import Chunk, Document

if TYPE_CHECKING:  # the reader processes import this module: no display library for them
    from ops_search.progress import Reporter

log = logging.getLogger("ops_search.ingest")


@dataclass
class Extraction:
    """One file's outcome: a document and its chunks, or the problem."""

    path: Path
    source: str
    document: Document | None = None
    chunks: list[Chunk] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


@dataclass
class Summary:
    files: int = 0
    ingested: int = 0
    unchanged: int = 0
    pages: int = 0
    chunks: int = 0
    ocr_pages: int = 0
    skipped_pages: int = 0
    degraded_pages: int = 0
    failed: int = 0
    removed: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        parts = [
            f"{self.files} file(s)",
            f"{self.ingested} ingested",
            f"{self.unchanged} unchanged",
            f"{self.pages} page(s)",
            f"{self.chunks} chunk(s)",
            f"{self.ocr_pages} OCR page(s)",
            f"{self.skipped_pages} skipped page(s)",
            f"{self.degraded_pages} degraded page(s)",
            f"{self.failed} failed",
        ]
        if self.removed:
            parts.append(f"{self.removed} removed")
        return "summary: " + ", ".join(parts) + f" in {self.seconds:.1f} s"

    def add(self, result: Extraction) -> None:
        self.files += 1
        if result.error:
            self.failed += 1
            self.errors.append(result.error)
            return
        assert result.document is not None
        self.pages += result.document.page_count
        self.chunks += len(result.chunks)
        self.ocr_pages += result.document.ocr_pages
        self.skipped_pages += sum(1 for p in result.document.pages if p.skipped)
        self.degraded_pages += len(result.document.degraded_pages)


IGNORE_FILE = ".opsignore"


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """Files to ingest under ``paths``, sorted, and a message per path that is missing.

    Named files are always taken (an unsupported one is then reported when read). In
    folders, hidden entries, files of formats we do not read, and whatever a folder's
    ``.opsignore`` lists (glob patterns, ``name/`` for folders) are passed over.
    """
    found: list[Path] = []
    missing: list[str] = []
    for path in paths:
        if path.is_dir():
            found.extend(_walk(path))
        elif path.is_file():
            found.append(path)
        else:
            missing.append(f"{path}: no such file or folder")
    return found, missing


def _walk(folder: Path) -> Iterator[Path]:
    ignore_file = folder / IGNORE_FILE
    patterns = []
    if ignore_file.is_file():
        lines = ignore_file.read_text(encoding="utf-8").splitlines()
        patterns = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    for entry in sorted(folder.iterdir()):
        name = entry.name
        if name.startswith("."):
            continue
        if entry.is_dir():
            if not any(fnmatch(name + "/", p) for p in patterns):
                yield from _walk(entry)
        elif supported(entry) and not any(fnmatch(name, p) for p in patterns):
            yield entry


def source_name(path: Path) -> str:
    """How a file is named in citations: relative to the working folder when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def count_pages(path: Path) -> int:
    """Cheap page count for the progress bar (pdfium opens a PDF in milliseconds)."""
    if path.suffix.lower() != ".pdf":
        return 1
    try:
        pdf = pdfium.PdfDocument(str(path))
        try:
            return len(pdf)
        finally:
            pdf.close()
    except Exception:  # a broken PDF is reported properly when it is read
        return 1


def extract(
    path: Path,
    settings: Settings,
    on_page: PageCallback | None = None,
    sha: str | None = None,
    log_file: Path | None = None,
) -> Extraction:
    """Read, assemble and chunk one file in this process. Never raises for a bad file: see
    ``.error``. ``sha`` is the file's sha256 when the caller has already computed it.

    Callers go through ``ingest.driver.ReaderPool``, which runs this in a worker process
    under the time and memory limits; tests and the worker call it directly.
    """
    started = time.monotonic()
    result = Extraction(path=path, source=source_name(path))
    try:
        reader = reader_for(path)
        sha = sha or sha256_of(path)
        extracted = reader.read(path, settings, on_page)
        document = build_document(path, extracted, sha, result.source)
        if not document.text.strip():
            if extracted.skipped_pages:
                raise IngestError(path, "no text and OCR unavailable")
            raise IngestError(path, "no text found")
        # Readers of text, HTML and DOCX refuse earlier; this covers PDFs and any other.
        refuse_oversized(path, utf8_size(document.text), settings)
        result.document = document
        chunker = Chunker(settings)
        result.chunks = chunker.chunk(document)
        if chunker.patterns_left_out and not result.chunks:
            raise IngestError(path, "no text found (only a drawing's pattern of repeated letters)")
        if chunker.patterns_left_out:
            document.warnings.append(
                f"{path}: {chunker.patterns_left_out} passage(s) of a drawing's glyph pattern "
                "(a few letters repeated, e.g. 'b bb bbbb') left out of the index"
            )
    except IngestError as err:
        result.error = str(err)
    except MemoryError:
        result.error = (
            f"{path}: needs more memory than the limit of {settings.read_memory_mb} MB "
            "per file (OPS_READ_MEMORY_MB); skipped"
        )
    except OSError as err:
        result.error = f"{path}: cannot read file ({err.strerror or err})"
    except Exception as err:  # a bug of ours: say so, and keep the traceback for a developer
        log.error("internal error while reading %s", path, exc_info=True)
        where = f", see {log_file}" if log_file else ""
        result.error = f"{path}: internal error while reading ({_short(err)}){where}"
    result.seconds = time.monotonic() - started
    return result


def _short(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}"
    return text if len(text) <= 200 else text[:197] + "..."


def start_batch(paths: Iterable[Path], reporter: Reporter, summary: Summary) -> list[Path]:
    """The files under ``paths``, with the progress display started and every missing path
    counted and reported (shared by ingest and the dry run)."""
    files, missing = discover(paths)
    reporter.start(len(files) + len(missing), sum(count_pages(f) for f in files))
    for message in missing:
        summary.files += 1
        summary.failed += 1
        summary.errors.append(message)
        reporter.error(message)
    return files


def report_read(result: Extraction, reporter: Reporter, summary: Summary) -> Document | None:
    """Count and report one file as read; its document, when it has one to use."""
    reporter.file_started(result.source)
    summary.add(result)
    if result.error or result.document is None:
        reporter.error(result.error or f"{result.path}: not read")
        return None
    for warning in result.document.warnings:
        reporter.warning(warning)
    return result.document


def describe(result: Extraction) -> str:
    """The ``ok`` line's message for a file read: pages, chunks, language, what was degraded."""
    document = result.document
    assert document is not None
    parts = [
        f"{document.page_count} page(s)",
        f"{len(result.chunks)} chunk(s)",
        f"lang {document.lang or '?'}",
    ]
    if document.ocr_pages:
        parts.append(f"{document.ocr_pages} OCR page(s)")
    if document.reader:
        parts.append(f"read by the {document.reader} fallback")
    degraded = document.degraded_pages
    if degraded:
        shown = "; ".join(f"p. {n}: {reason}" for n, reason in list(degraded.items())[:3])
        more = f"; {len(degraded) - 3} more" if len(degraded) > 3 else ""
        parts.append(f"{len(degraded)} page(s) degraded ({shown}{more})")
    parts.append(f"{result.seconds:.1f} s to read")
    return ", ".join(parts)


def supported(path: Path) -> bool:
    return path.suffix.lower() in EXTENSIONS
