"""The index's SQLite database (``data_dir/catalog.sqlite``): the catalog and upload jobs.

WAL mode: one writer at a time, and readers that never wait for it. Writes go through one
connection under a lock, each in its own transaction; reads borrow a connection from a small
pool, so FastAPI's worker threads read side by side while an upload job writes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Seconds a write waits for another process's write to end (two processes only share the
# file on a Qdrant-server index, which takes no folder lock) before SQLite says "locked".
BUSY_TIMEOUT_S = 30


class Database:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._write_lock = threading.Lock()
        self._pool_lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []
        self._idle: list[sqlite3.Connection] = []
        self._writer = self._connect()
        self._writer.execute("PRAGMA journal_mode=WAL")

    def _connect(self) -> sqlite3.Connection:
        # Autocommit mode: the only transactions are the explicit ones of write().
        db = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        # NORMAL survives a killed process (a commit is in the WAL file); only power loss
        # may take the last commits, which the vector store's own flush interval risks too.
        db.execute("PRAGMA synchronous=NORMAL")
        self._all.append(db)
        return db

    def ensure(self, schema: str) -> None:
        """Create tables and indexes; every statement must be ``IF NOT EXISTS``."""
        with self._write_lock:
            self._writer.executescript(schema)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction on the write connection: committed whole or rolled back."""
        with self._write_lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for this thread alone while the block runs."""
        with self._pool_lock:
            db = self._idle.pop() if self._idle else self._connect()
        try:
            yield db
        finally:
            with self._pool_lock:
                self._idle.append(db)

    def close(self) -> None:
        with self._write_lock, self._pool_lock:
            for db in self._all:
                db.close()
            self._all.clear()
            self._idle.clear()
