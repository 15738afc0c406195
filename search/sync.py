"""Sync from folders: make the index mirror a folder.

One round (:func:`sync_folder`) compares the folder on disk with the documents whose files
lie under it, and then

1. records renamed and moved files under their new paths (same content hash: the document
   id derives from it), rewriting their passages from the store and the embedding cache —
   nothing is read or embedded again (``Index.relocate_document``);
2. ingests new and changed files through ``Index.ingest`` (the one extraction driver, its
   limits, progress and per-file errors); a changed file's old version goes once the new
   one is in;
3. removes the documents whose files are gone: passages and catalog record (with it the
   extracted text the catalog keeps). A folder sync stores no copy of its files: the
   originals are served from the folder, as for ``ops-search ingest``.

Files are hashed again only when their size or modification time changed since the last
round. A file modified less than ``OPS_SYNC_SETTLE_S`` ago is looked at again after as long; if its
size or modification time changed meanwhile, or changes while it is hashed, it is being
written and waits for the next round (a message says so). Its old version, if any, stays.

Every round works out what to do from the disk and the catalog alone, and every write is one
of the index's crash-safe writes, so a round killed anywhere converges on the next one:
a document half written is undone when the index opens (``search.recovery``) and its file,
new again to the catalog, is ingested again (its passages come from the embedding cache);
a removal or a rename that did not happen is simply still to do. Nothing is duplicated,
since a document's id is its content's hash.

A round's outcome is kept per folder in the index's database (``sync_state``), for
``/stats``, the documents page, and the next round: a file that could not be read is not
read again until it changes.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from ingest.document import sha256_of
from ingest.driver import ReaderPool
from ingest.pipeline import discover, source_name
from ops_search.access import check_collection
from ops_search.audit import SYNC, AuditLog
from ops_search.errors import OpsSearchError
from ops_search.models import Document
from ops_search.progress import Reporter
from search.database import Database
from search.index import Index

log = logging.getLogger("ops_search.sync")

SCHEMA = """
CREATE TABLE IF NOT EXISTS sync_state (
    folder TEXT PRIMARY KEY,
    record TEXT NOT NULL
);
-- Each synced file's size, modification time and hash as last seen: a file is hashed again
-- only when its size or time changed.
CREATE TABLE IF NOT EXISTS sync_files (
    folder TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (folder, path)
);
"""
MESSAGES_KEPT = 20  # per round, in the state (the CLI prints all of them)


class SyncStopped(Exception):
    """The server is shutting down: the round ends here; the next one goes on."""


@dataclass
class SyncReport:
    """One folder's latest round: what it found and did. ``status`` is running, done,
    stopped (the server shut down), failed (the round could not run: see ``message``), or as
    shown (:meth:`as_seen`) interrupted (its process was killed)."""

    folder: str
    collection: str
    status: str = "running"
    started_at: str = ""
    last_run: str | None = None  # when the round ended
    files: int = 0  # supported files found in the folder
    added: int = 0
    changed: int = 0
    renamed: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: int = 0  # being written: left for the next round
    errors: int = 0
    message: str = ""
    messages: list[str] = field(default_factory=list)
    pid: int = 0  # of the process that runs or ran the round
    # Files that could not be read, as path → sha256: not read again until they change.
    failed: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"sync {self.folder} → {self.collection}: {self.added} added, {self.changed} "
            f"changed, {self.renamed} renamed, {self.removed} removed, {self.unchanged} "
            f"unchanged, {self.skipped} skipped, {self.errors} error(s)"
        )

    def public(self) -> dict:
        """What /stats shows (without the failed-file memory)."""
        out = asdict(self)
        out.pop("failed")
        out.pop("pid")
        return out

    def as_seen(self) -> SyncReport:
        """This report, a round whose process is gone shown as ``interrupted``."""
        if self.status != "running" or _alive(self.pid):
            return self
        return replace(
            self,
            status="interrupted",
            message="the round was interrupted (its process ended); the next round completes it",
        )

    def note(self, message: str) -> None:
        log.info("sync %s: %s", self.folder, message)
        if len(self.messages) < MESSAGES_KEPT:
            self.messages.append(message)


_ensured: weakref.WeakSet[Database] = weakref.WeakSet()


class SyncStates:
    """The latest round per folder, in the index's database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        if db not in _ensured:  # /stats reads this on every request
            db.ensure(SCHEMA)
            _ensured.add(db)

    def put(self, report: SyncReport) -> None:
        with self.db.write() as db:
            db.execute(
                "INSERT OR REPLACE INTO sync_state (folder, record) VALUES (?, ?)",
                (report.folder, json.dumps(asdict(report), ensure_ascii=False)),
            )

    def get(self, folder: str) -> SyncReport | None:
        with self.db.read() as db:
            row = db.execute("SELECT record FROM sync_state WHERE folder = ?", (folder,)).fetchone()
        return SyncReport(**json.loads(row[0])) if row else None

    def seen(self, folder: str) -> dict[str, tuple[int, int, str]]:
        """path → (size, mtime_ns, sha256) of the folder's files as last seen."""
        with self.db.read() as db:
            rows = db.execute(
                "SELECT path, size, mtime_ns, sha256 FROM sync_files WHERE folder = ?", (folder,)
            ).fetchall()
        return {p: (size, mtime, sha) for p, size, mtime, sha in rows}

    def remember(self, folder: str, files: dict[str, tuple[_Seen, str]]) -> None:
        """Replace what is remembered of the folder's files."""
        with self.db.write() as db:
            db.execute("DELETE FROM sync_files WHERE folder = ?", (folder,))
            db.executemany(
                "INSERT INTO sync_files (folder, path, size, mtime_ns, sha256) "
                "VALUES (?, ?, ?, ?, ?)",
                [(folder, p, seen.size, seen.mtime_ns, sha) for p, (seen, sha) in files.items()],
            )

    def all(self) -> list[SyncReport]:
        with self.db.read() as db:
            rows = db.execute("SELECT record FROM sync_state ORDER BY folder").fetchall()
        return [SyncReport(**json.loads(r[0])) for r in rows]


def states(index: Index) -> SyncStates:
    return SyncStates(index.catalog.db)


@dataclass
class _Seen:
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> _Seen | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return cls(st.st_size, st.st_mtime_ns)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _under(file: str, folder: str) -> bool:
    return file.startswith(folder.rstrip("/") + "/")


class _Progress:
    """Passes ingest progress on, counts each file done into the report as it goes (saved at
    once, for /stats: a file is what it counts, and one file's passages may take seconds to
    embed), and stops the round at the next batch of passages once ``stop`` is set. The
    counts are provisional: the round sets them from the catalog."""

    def __init__(
        self,
        inner: Reporter,
        report: SyncReport,
        kinds: dict[str, str],
        stop: threading.Event,
        save: Callable[[], None],
    ) -> None:
        self.inner = inner
        self.report = report
        self.kinds = kinds  # source → "added" | "changed"
        self.stop = stop
        self.save = save

    def _check_stop(self) -> None:
        if self.stop.is_set():
            raise SyncStopped

    def passages_done(self, n: int) -> None:
        self._check_stop()
        self.inner.passages_done(n)

    def file_done(self, path: str, message: str) -> None:
        self.inner.file_done(path, message)
        kind = self.kinds.get(path)
        if kind:
            setattr(self.report, kind, getattr(self.report, kind) + 1)
        self.save()
        self._check_stop()

    def error(self, message: str) -> None:
        self.inner.error(message)
        self.report.errors += 1
        self.save()
        self._check_stop()

    def __getattr__(self, name: str):  # start, page_done, error, warning, stage, …
        return getattr(self.inner, name)


def sync_folder(
    index: Index,
    folder: Path,
    collection: str,
    reporter: Reporter,
    *,
    lock: AbstractContextManager | None = None,
    stop: threading.Event | None = None,
    readers: ReaderPool | None = None,
    audit: AuditLog | None = None,
) -> SyncReport:
    """One round for one folder; see the module's docstring. ``lock`` is held around each
    write (a server's writer lock); ``stop`` ends the round early (SyncStopped)."""
    check_collection(collection)
    lock = lock or nullcontext()
    stop = stop or threading.Event()
    audit = audit or AuditLog.in_dir(index.settings.log_dir)
    root = folder.resolve()
    store = states(index)
    before = store.get(str(root))
    report = SyncReport(folder=str(root), collection=collection, started_at=_now(), pid=os.getpid())
    if before is not None:
        report.failed = dict(before.failed)
        if before.status in ("running", "interrupted"):
            report.note("the previous round did not finish; this one completes it")
    store.put(report)

    def save() -> None:
        store.put(report)

    def check_stop() -> None:
        if stop.is_set():
            raise SyncStopped

    try:
        if not root.is_dir():
            raise OpsSearchError(f"sync: {folder} is not a folder")
        _round(index, root, report, reporter, lock, stop, check_stop, save, readers, audit, store)
    except SyncStopped:
        report.status = "stopped"
        report.note("stopped by shutdown; the next round goes on")
        raise
    except Exception as err:
        if stop.is_set():  # the server closed the readers or the index under the round
            report.status = "stopped"
            report.note("stopped by shutdown; the next round goes on")
            raise SyncStopped from err
        report.status = "failed"
        report.message = (
            str(err) if isinstance(err, OpsSearchError) else f"{type(err).__name__}: {err}"
        )
        raise
    else:
        report.status = "done"
    finally:
        report.last_run = _now()
        try:
            save()
        except Exception:  # the database may be closed at shutdown
            log.warning("sync %s: could not record the round's outcome", root, exc_info=True)
    return report


def _round(
    index: Index,
    root: Path,
    report: SyncReport,
    reporter: Reporter,
    lock: AbstractContextManager,
    stop: threading.Event,
    check_stop: Callable[[], None],
    save: Callable[[], None],
    readers: ReaderPool | None,
    audit: AuditLog,
    store: SyncStates,
) -> None:
    folder = str(root)
    settings = index.settings

    # --- look at the folder: what is there, and what is still being written ---
    files, _missing = discover([root])
    report.files = len(files)
    first = {p: seen for p in files if (seen := _Seen.of(p)) is not None}
    settle_ns = int(settings.sync_settle_s * 1e9)
    young = [p for p, s in first.items() if time.time_ns() - s.mtime_ns < settle_ns]
    being_written: set[str] = set()
    if young and stop.wait(settings.sync_settle_s):
        raise SyncStopped
    for path in young:
        if _Seen.of(path) != first[path]:
            being_written.add(str(path))

    # --- hash what is settled (again only when its size or time changed) ---
    hashes: dict[str, str] = {}  # path → sha256
    known = store.seen(folder)
    unreadable: set[str] = set()
    for path, seen in first.items():
        check_stop()
        name = str(path)
        if name in being_written:
            continue
        if known.get(name, (None, None, None))[:2] == (seen.size, seen.mtime_ns):
            hashes[name] = known[name][2]
            continue
        try:
            sha = sha256_of(path)
        except OSError as err:
            report.errors += 1
            report.note(f"{path}: cannot read file ({err.strerror or err})")
            unreadable.add(name)
            continue
        if _Seen.of(path) != seen:  # written to while it was hashed
            being_written.add(name)
            continue
        hashes[name] = sha
    for path in sorted(being_written):
        if Path(path).exists():
            report.skipped += 1
            report.note(f"{path}: still being written (size or time changed); next round")
    keep = being_written | unreadable  # their indexed versions stay
    stale: set[str] = set()  # hashed, but changed before they were read

    # --- compare with the catalog ---
    catalog = index.catalog.files()  # id → (file, uploaded)
    ours = {i: f for i, (f, uploaded) in catalog.items() if not uploaded and _under(f, folder)}
    ours_by_file = {f: i for i, f in ours.items()}
    claimed: set[str] = set()  # ids that a file of this round accounts for
    to_ingest: list[tuple[Path, str, str]] = []  # path, sha, "added" | "changed"
    renames: list[tuple[str, Path]] = []  # id, new path
    planned: dict[str, str] = {}  # id → the one new file of this round that has its content
    for path, sha in sorted(hashes.items()):
        doc_id = Document.id_for(sha)
        if doc_id in catalog:
            holder = catalog[doc_id][0]
            if holder == path:
                claimed.add(doc_id)
                report.unchanged += 1
                # A document of this folder recorded in another collection (OPS_SYNC changed)
                # moves to the folder's collection.
                entry = index.catalog.get(doc_id)
                if entry is not None and entry.collection != report.collection:
                    with lock:
                        moved_from = index.move_document(entry, report.collection)
                    report.note(
                        f"{path}: moved from collection {moved_from} to {report.collection}"
                    )
            elif doc_id in claimed or _still_holds(holder, sha, hashes, folder):
                # The same content twice: one document, under its first file.
                report.unchanged += 1
                report.note(f"{path}: same content as {holder}; indexed once")
            else:
                claimed.add(doc_id)
                renames.append((doc_id, Path(path)))
            continue
        if doc_id in planned:
            report.unchanged += 1
            report.note(f"{path}: same content as {planned[doc_id]}; indexed once")
            continue
        planned[doc_id] = path
        if report.failed.get(path) == sha:
            report.errors += 1
            report.note(f"{path}: could not be read in an earlier round and has not changed")
            keep.add(path)  # as in that round, its old version, if any, stays
            continue
        to_ingest.append((Path(path), sha, "changed" if path in ours_by_file else "added"))
    save()

    # --- 1. renames: no reading, no embedding ---
    for doc_id, path in renames:
        check_stop()
        entry = index.catalog.get(doc_id)
        if entry is None:  # removed meanwhile (a delete through the API): ingest it anew
            to_ingest.append((path, hashes[str(path)], "added"))
            continue
        with lock:
            embedded = index.relocate_document(entry, path, collection=report.collection)
        if embedded is None:
            report.note(f"{path}: renamed, but its passages were not whole; read again")
            with lock:
                index.remove_document(doc_id)
            to_ingest.append((path, hashes[str(path)], "changed"))
            continue
        report.renamed += 1
        reporter.file_done(str(path), f"renamed from {entry.file} ({embedded} passage(s) embedded)")
        audit.write(key=SYNC, route="sync", document_id=doc_id, outcome="renamed", path=str(path))

    # --- 2. new and changed files, through the one ingest path ---
    if to_ingest:
        check_stop()
        counted = (report.added, report.changed, report.errors)
        kinds = {source_name(p): kind for p, _, kind in to_ingest}
        progress = _Progress(reporter, report, kinds, stop, save)
        summary = index.ingest(
            [p for p, _, _ in to_ingest],
            progress,  # type: ignore[arg-type]
            collection=report.collection,
            lock=lock,
            readers=readers,
        )
        check_stop()  # a file cut off by the shutdown is no unreadable file
        report.added, report.changed, report.errors = counted
        for message in summary.errors:
            report.note(message)
        indexed = index.catalog.ids()
        for path, sha, kind in to_ingest:
            doc_id = Document.id_for(sha)
            if doc_id in indexed:
                claimed.add(doc_id)
                report.failed.pop(str(path), None)
                setattr(report, kind, getattr(report, kind) + 1)
                audit.write(
                    key=SYNC, route="sync", document_id=doc_id, outcome=kind, path=str(path)
                )
            elif _Seen.of(path) is not None and sha256_of_or_none(path) != sha:
                report.skipped += 1  # changed while it was read: the next round takes it
                keep.add(str(path))
                stale.add(str(path))
            else:
                report.errors += 1
                report.failed[str(path)] = sha
                keep.add(str(path))  # its old version, if any, stays

    # --- 3. documents whose files are gone (or are now another document) ---
    for doc_id, file in sorted(ours.items(), key=lambda kv: kv[1]):
        check_stop()
        if doc_id in claimed or file in keep:
            continue
        replaced = file in hashes  # the file is there with new content: its old version goes
        with lock:
            index.remove_document(doc_id)
        if replaced:
            continue
        report.removed += 1
        report.failed.pop(file, None)
        reporter.file_done(file, "removed: the file is gone")
        audit.write(key=SYNC, route="sync", document_id=doc_id, outcome="removed", path=file)
    report.failed = {p: s for p, s in report.failed.items() if os.path.exists(p)}
    store.remember(folder, {p: (first[Path(p)], h) for p, h in hashes.items() if p not in stale})
    if report.removed or report.renamed:
        with lock:
            index.store.optimize()


def _still_holds(holder: str, sha: str, hashes: dict[str, str], folder: str) -> bool:
    """Whether the file a document is recorded under still has its content: then another
    file with it is a copy, not the document moved."""
    if _under(holder, folder):
        return hashes.get(holder) == sha
    return Path(holder).is_file()  # outside this folder: another sync's or ingest's file


def sha256_of_or_none(path: Path) -> str | None:
    try:
        return sha256_of(path)
    except OSError:
        return None
