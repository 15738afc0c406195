"""The embedded index's folder lock: ``LOCK.json``, an OS file lock plus who holds it."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import time
from pathlib import Path

from ops_search.errors import IndexLocked

LOCK_FILE = "LOCK.json"


def locked_message(path: Path, holder: dict | None) -> str:
    role = (holder or {}).get("role") or "process"
    pid = (holder or {}).get("pid") or "unknown"
    return (
        f"The index at {path} is open by a running ops-search {role} (pid {pid}); "
        "stop it or ingest through the server (`ops-search ingest --server URL`)."
    )


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        os.lseek(fd, 1 << 20, os.SEEK_SET)  # lock a byte past the JSON so it stays readable
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class DirLock:
    """``LOCK.json`` in the index folder: an OS lock on the file plus who holds it.

    The OS lock (flock) is the truth: it dies with its process, so a lock file left by a killed
    process is taken over without any guessing. The JSON inside names the holder for the message.
    """

    def __init__(self, directory: Path, role: str) -> None:
        self.directory = directory
        self.path = directory / LOCK_FILE
        self.role = role
        self._fd: int | None = None

    def read_holder(self) -> dict | None:
        for _ in range(20):  # the holder may be between truncate and write
            try:
                text = self.path.read_text(encoding="utf-8")
            except FileNotFoundError:
                return None
            if text.strip():
                with contextlib.suppress(ValueError):
                    return json.loads(text)
            time.sleep(0.01)
        return None

    def acquire(self) -> None:
        for _ in range(10):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _try_lock(fd):
                os.close(fd)
                holder = self.read_holder()
                raise IndexLocked(locked_message(self.directory, holder))
            # The previous holder unlinks the file before unlocking; make sure we locked the
            # file that is at the path now, not an unlinked one.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            self._fd = fd
            record = {
                "pid": os.getpid(),
                "role": self.role,
                "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "host": os.uname().nodename if hasattr(os, "uname") else "",
            }
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, json.dumps(record).encode())
            return
        raise IndexLocked(locked_message(self.directory, self.read_holder()))

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)  # closing the descriptor releases the OS lock
        self._fd = None
