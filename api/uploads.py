"""Uploads: validate by content, store safely under the data dir, ingest in this process.

Reading a file happens while the request waits, so a bad file is answered at once with a
problem naming it and nothing is stored. Embedding, the slow part, runs in a background
job whose progress ``GET /jobs/{id}`` shows.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
import threading
import time
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from api.deps import AppState
from api.problems import ApiProblem, log
from api.schemas import Job, JobFile
from ingest.pipeline import Extraction
from ingest.readers import sniff_format
from ops_search.access import DEFAULT_COLLECTION
from ops_search.models import Document, Format

_EXTENSION: dict[Format, str] = {
    "pdf": ".pdf",
    "docx": ".docx",
    "html": ".html",
    "txt": ".txt",
    "md": ".md",
}
_UNSAFE = re.compile(r"[^\w.\- ]+")
# File systems allow 255 bytes per name (ext4, XFS, APFS; NTFS 255 UTF-16 units): the stem
# gets 200 bytes of UTF-8, room for any extension, and stays readable in a listing.
STEM_BYTES = 200
SHOWN_CHARS = 200  # of a name as sent, in messages and job records


def safe_name(name: str, fmt: Format) -> str:
    """A file name that cannot leave its folder: no path parts, no leading dots, no
    control or shell characters, at most STEM_BYTES of stem, cut between characters (not
    in one), and the extension that matches the content."""
    base = unicodedata.normalize("NFC", name.replace("\\", "/").split("/")[-1])
    stem = _UNSAFE.sub("_", base.rsplit(".", 1)[0] if "." in base else base)
    stem = stem.encode()[:STEM_BYTES].decode("utf-8", "ignore").strip(" ._") or "dokument"
    ext = _EXTENSION[fmt]
    if fmt == "md" and base.lower().endswith(".txt"):
        ext = ".txt"
    return stem + ext


@dataclass
class Accepted:
    name: str
    extraction: Extraction
    stored: Path
    created: bool  # False when the same content was already stored


def discard(accepted: list[Accepted]) -> None:
    for item in accepted:
        if item.created:
            shutil.rmtree(item.stored.parent, ignore_errors=True)


def accept(state: AppState, name: str, data: bytes) -> Accepted:
    """Validate one uploaded file and read it. Raises ApiProblem (4xx) naming the file for
    whatever is wrong with it, so that no file can cause a server error."""
    limit = state.settings.max_upload_mb * 1024 * 1024
    shown = (name[:SHOWN_CHARS] + "…" if len(name) > SHOWN_CHARS else name) or "(no name)"
    if len(data) > limit:
        raise ApiProblem(
            413,
            "File too large",
            f"{shown}: {len(data) / 1e6:.1f} MB is over the limit of "
            f"{state.settings.max_upload_mb} MB",
        )
    if not data or data.isspace():  # (not data.strip(): that would copy the whole file)
        raise ApiProblem(422, "File not accepted", f"{shown}: empty file")
    try:
        fmt = sniff_format(data[:65536] if not data.startswith(b"PK") else data)
    except Exception:  # a zip damaged past what zipfile itself reports as BadZipFile
        fmt = None
    if fmt is None:
        raise ApiProblem(
            415,
            "Unsupported file type",
            f"{shown}: not a PDF, DOCX, HTML, text or Markdown file (judged by its content)",
        )
    declared = Path(name).suffix.lower()
    if declared == ".md" and fmt == "txt":
        fmt = "md"
    if declared == ".pdf" and fmt != "pdf":
        raise ApiProblem(
            415, "Unsupported file type", f"{shown}: named .pdf but its content is not a PDF"
        )
    filename = safe_name(name, fmt)
    digest = Document.id_for(_sha256(data))
    folder = state.settings.files_dir / digest
    stored = folder / filename
    staging = state.settings.files_dir / f".incoming-{uuid.uuid4().hex}"
    staging.mkdir(parents=True, exist_ok=True)
    try:
        tmp = staging / filename
        tmp.write_bytes(data)
        try:
            extraction = state.readers.read(tmp)
        except Exception as err:  # the driver reports bad files in .error; this is a bug
            log.exception("reading the upload %s failed", shown)
            raise ApiProblem(
                422, "File not accepted", f"{shown}: the file could not be read ({err})"
            ) from err
        if extraction.error or extraction.document is None:
            error = (extraction.error or "the file could not be read").replace(str(tmp), shown)
            raise ApiProblem(
                422, "File not accepted", error if shown in error else f"{shown}: {error}"
            )
        # Content-addressed folder: the same content is the same document, and no upload
        # can overwrite a file of another document.
        created = not folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
        if not stored.exists():
            shutil.move(str(tmp), stored)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    source = f"uploads/{digest}/{filename}"
    extraction.document = extraction.document.model_copy(update={"source": source})
    extraction.chunks = [c.model_copy(update={"source": source}) for c in extraction.chunks]
    extraction.path = stored
    return Accepted(name=shown, extraction=extraction, stored=stored, created=created)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- jobs ----------------------------------------------------------------------------------
# A job is kept in the index's database (search.jobs) from the moment it is accepted, so a
# restart neither loses it nor leaves it "running" for ever: the next start goes on with it
# (resume_jobs; search.recovery says why resume and what becomes of a half-written document).

RESTARTED = "the server stopped while this job ran"
SAVE_INTERVAL_S = 1.0  # progress is for a person watching; each save is a database write
_FINISHED = ("done", "unchanged", "failed")


class JobStopped(Exception):
    """The server is shutting down: the job ends here and goes on at the next start."""


class JobError(Exception):
    """A file of a job that cannot be indexed, said in words for the person who sent it."""


@dataclass
class RunningJob:
    thread: threading.Thread
    stop: threading.Event


class JobReporter:
    """Feeds indexing progress into a Job record, and stops the job at the next batch of
    passages once the server is shutting down."""

    def __init__(self, state: AppState, job: Job, stop: threading.Event) -> None:
        self.state = state
        self.job = job
        self.stop = stop
        self._saved = time.monotonic()

    def passages_done(self, n: int) -> None:
        if self.stop.is_set():
            raise JobStopped
        self.job.passages_done += n
        if time.monotonic() - self._saved >= SAVE_INTERVAL_S:
            _save(self.state, self.job)
            self._saved = time.monotonic()


def start_job(
    state: AppState, accepted: list[Accepted], collection: str = DEFAULT_COLLECTION
) -> Job:
    files = []
    for item in accepted:
        assert item.extraction.document is not None
        files.append(
            JobFile(
                name=item.name,
                status="queued",
                document_id=item.extraction.document.id,
                passages=len(item.extraction.chunks),
            )
        )
    job = Job(
        id=uuid.uuid4().hex[:12],
        status="queued",
        files=files,
        passages_total=sum(f.passages for f in files),
        created_at=_now(),
        collection=collection,
    )
    originals = [str(item.stored.resolve()) for item in accepted]
    state.index.jobs.create(job.id, job.status, job.model_dump_json(), originals)
    _spawn(state, job, [item.extraction for item in accepted])
    return job


def resume_jobs(state: AppState) -> None:
    """At start-up, after recovery: go on with the jobs a stopped server left queued or
    running, reading their originals again. A job the server was killed in twice stays
    interrupted, so that no file can take the server down on every start."""
    for stored in state.index.jobs.unfinished():
        job = Job.model_validate_json(stored.record)
        for entry in job.files:
            if entry.status not in _FINISHED:
                entry.status, entry.message = "interrupted", RESTARTED
        job.status = "interrupted"
        if stored.resumed:
            job.message = (
                f"{RESTARTED}, again after it was resumed once: send the files marked "
                "interrupted again to index them"
            )
            job.finished_at = _now()
            _save(state, job)
            for entry, original in zip(job.files, stored.originals, strict=True):
                if entry.status == "interrupted":
                    _drop_original(state, entry.document_id, Path(original))
            continue
        job.message = f"{RESTARTED}; it went on after the restart"
        # The file that was running starts over (its passages come from the embedding cache).
        job.passages_done = sum(f.passages for f in job.files if f.status in _FINISHED)
        _save(state, job, resumed=stored.resumed + 1)
        _spawn(state, job, [Path(p) for p in stored.originals])


def stop_jobs(state: AppState, timeout: float) -> None:
    """At shutdown: stop the running jobs at their next batch and wait for them (at most
    ``timeout`` seconds each). The next start goes on with them."""
    running: list[RunningJob] = list(state.jobs.values())
    for each in running:
        each.stop.set()
    for each in running:
        each.thread.join(timeout)


def _spawn(state: AppState, job: Job, work: list[Extraction | Path]) -> None:
    stop = threading.Event()
    thread = threading.Thread(
        target=_run, args=(state, job, work, stop), name=f"job-{job.id}", daemon=True
    )
    state.jobs[job.id] = RunningJob(thread, stop)
    thread.start()


def _run(state: AppState, job: Job, work: list[Extraction | Path], stop: threading.Event) -> None:
    """Index a job's files in turn; ``work`` has per file its reading, or for a resumed job
    the path of its original."""
    reporter = JobReporter(state, job, stop)
    try:
        job.status = "running"
        _save(state, job)
        for entry, item in zip(job.files, work, strict=True):
            if entry.status in _FINISHED:
                continue  # finished before a restart
            if stop.is_set():
                raise JobStopped
            entry.status = "running"
            _save(state, job)
            try:
                _index_file(state, entry, item, reporter)
            except JobStopped:
                raise
            except Exception as err:  # a job must end with a status, whatever happened
                if stop.is_set():
                    raise JobStopped from err  # the index closed under it: not the file's fault
                entry.status = "failed"
                entry.message = str(err) if isinstance(err, JobError) else _reason(err)
                path = item.path if isinstance(item, Extraction) else item
                _drop_original(state, entry.document_id, path)
            _save(state, job)
        job.status = "failed" if any(f.status == "failed" for f in job.files) else "done"
        job.finished_at = _now()
        _save(state, job)
    except Exception as err:
        if not (isinstance(err, JobStopped) or stop.is_set()):
            raise
        # A shutdown, not a crash: it does not count against the job's one resume.
        with contextlib.suppress(Exception):  # the database may be closed already
            _save(state, job, resumed=0)
    finally:
        state.jobs.pop(job.id, None)


def _index_file(
    state: AppState, entry: JobFile, item: Extraction | Path, reporter: JobReporter
) -> None:
    extraction = item if isinstance(item, Extraction) else _read_again(state, item)
    document = extraction.document
    assert document is not None
    collection = reporter.job.collection
    known = state.index.catalog.get(document.id)
    if known is not None:
        # The same content again: it stays one document, in the collection named last.
        with state.lock:
            old = state.index.move_document(known, collection)
        entry.status, entry.message = "unchanged", "already in the index"
        if old != collection:
            entry.message += f"; moved from collection {old} to {collection}"
        reporter.job.passages_done += len(extraction.chunks)
        return
    with state.lock:
        state.index.add_document(
            document,
            extraction.chunks,
            reporter,
            file=extraction.path,
            uploaded=True,
            collection=collection,
        )
        # Indexes only what changed: measured < 0.1 s after a small write at 20k points.
        state.index.store.optimize()
    reporter.job.pages_done += document.page_count
    entry.status = "done"
    entry.message = f"{document.page_count} side(r), {len(extraction.chunks)} afsnit"


def _read_again(state: AppState, stored: Path) -> Extraction:
    """An upload's original read again to resume its job, named as accept() names it."""
    if not stored.is_file():
        raise JobError(f"its original is no longer at {stored}: send the file again")
    extraction = state.readers.read(stored)
    if extraction.error or extraction.document is None:
        raise JobError(extraction.error or f"{stored.name} could not be read again")
    source = f"uploads/{stored.parent.name}/{stored.name}"
    extraction.document = extraction.document.model_copy(update={"source": source})
    extraction.chunks = [c.model_copy(update={"source": source}) for c in extraction.chunks]
    extraction.path = stored
    return extraction


def _drop_original(state: AppState, document_id: str | None, original: Path) -> None:
    """Remove the stored original of a file that did not make it into the index, unless
    the same content is in it after all (uploaded twice)."""
    folder = original.parent.resolve()
    if document_id != folder.name or folder.parent != state.settings.files_dir.resolve():
        return  # not a content folder of ours: leave it alone
    with state.lock:
        if state.index.catalog.get(document_id) is None:
            shutil.rmtree(folder, ignore_errors=True)


def _save(state: AppState, job: Job, *, resumed: int | None = None) -> None:
    state.index.jobs.update(job.id, job.status, job.model_dump_json(), resumed=resumed)


def _reason(err: Exception) -> str:
    return f"{type(err).__name__}: {err}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
