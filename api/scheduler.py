"""The server's scheduled folder sync (``OPS_SYNC``, ``OPS_SYNC_INTERVAL``).

One thread runs a round for each configured folder in turn, then waits the interval. It
writes under the server's writer lock, a document at a time, so uploads and deletes take
turns with it, and reads with the server's reader pool. At shutdown it stops at the next
batch of passages (a document half written is undone at once, and done again next round);
closing the reader pool ends a file being read.
"""

from __future__ import annotations

import logging
import sys
import threading

from api.deps import AppState
from ops_search.audit import AuditLog
from ops_search.progress import LogReporter
from search.sync import SyncReport, SyncStopped, states, sync_folder

log = logging.getLogger("ops_search.sync")


class SyncScheduler:
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.folders = state.settings.sync_folders
        self.interval = state.settings.sync_interval
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="sync", daemon=True)
        self.audit = AuditLog.in_dir(state.settings.log_dir)

    def start(self) -> None:
        if self.folders:
            self.thread.start()

    def stop(self) -> None:
        """Ask the running round to stop; :meth:`join` waits for it."""
        self.stopping.set()

    def join(self, timeout: float) -> bool:
        """Wait for the thread to end; True when it has (or never started)."""
        if self.thread.is_alive():
            self.thread.join(timeout)
        return not self.thread.is_alive()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            for folder, collection in self.folders:
                if self.stopping.is_set():
                    return
                try:
                    report = sync_folder(
                        self.state.index,
                        folder,
                        collection,
                        LogReporter(sys.stderr),
                        lock=self.state.lock,
                        stop=self.stopping,
                        readers=self.state.readers,
                        audit=self.audit,
                    )
                    busy = report.added or report.changed or report.renamed or report.removed
                    log.log(
                        logging.WARNING if busy or report.errors else logging.INFO, report.line()
                    )
                except SyncStopped:
                    return
                except Exception:
                    if self.stopping.is_set():  # the index or the readers closed under it
                        return
                    log.exception("sync of %s failed; it is tried again next round", folder)
            self.stopping.wait(self.interval)


def sync_status(state: AppState) -> list[SyncReport]:
    """The configured folders' latest rounds (pending before their first), then those of
    folders synced from the command line."""
    stored = {r.folder: r.as_seen() for r in states(state.index).all()}
    out = []
    for folder, collection in state.settings.sync_folders:
        key = str(folder.resolve())
        out.append(stored.pop(key, None) or SyncReport(key, collection, status="pending"))
    return out + list(stored.values())
