"""Files → Documents → Chunks, one file at a time, bad files reported and skipped.

This is the extraction half of ingest; ``search.indexer`` consumes what it yields.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

import pypdfium2 as pdfium

from ingest.chunk import Chunker
from ingest.document import build_document, sha256_of
from ingest.readers import EXTENSIONS, reader_for
from ops_search.config import Settings
from ops_search.errors import IngestError
from ops_search.models import Chunk, Document
from ops_search.progress import Reporter


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
    path: Path, settings: Settings, reporter: Reporter | None = None, sha: str | None = None
) -> Extraction:
    """Read, assemble and chunk one file. Never raises for a bad file: see ``.error``.
    ``sha`` is the file's sha256 when the caller has already computed it."""
    started = time.monotonic()
    result = Extraction(path=path, source=source_name(path))
    on_page = (lambda n, ocr: reporter.page_done(ocr)) if reporter else None
    try:
        reader = reader_for(path)
        sha = sha or sha256_of(path)
        extracted = reader.read(path, settings, on_page)
        document = build_document(path, extracted, sha, result.source)
        if not document.text.strip():
            if extracted.skipped_pages:
                raise IngestError(path, "no text and OCR unavailable")
            raise IngestError(path, "no text found")
        result.document = document
        result.chunks = Chunker(settings).chunk(document)
    except IngestError as err:
        result.error = str(err)
    except OSError as err:
        result.error = f"{path}: cannot read file ({err.strerror or err})"
    result.seconds = time.monotonic() - started
    return result


def extract_all(
    paths: Iterable[Path], settings: Settings, reporter: Reporter
) -> Iterator[Extraction]:
    """Extract every supported file under ``paths``, reporting progress and problems."""
    files, missing = discover(paths)
    reporter.start(len(files) + len(missing), sum(count_pages(f) for f in files))
    for message in missing:
        reporter.error(message)
        yield Extraction(path=Path(message.split(":")[0]), source="", error=message)
    for path in files:
        reporter.file_started(str(path))
        result = extract(path, settings, reporter)
        if result.error:
            reporter.error(result.error)
        else:
            assert result.document is not None
            for warning in result.document.warnings:
                reporter.warning(warning)
        yield result


def supported(path: Path) -> bool:
    return path.suffix.lower() in EXTENSIONS
