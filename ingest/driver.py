"""The one extraction driver: files → Extractions, each file read in a worker process
under a time limit and a memory ceiling.

CLI ingest, the dry run and uploads all read through a ``ReaderPool``, so fault isolation,
limits, progress and error messages live here and nowhere else. A file that exceeds a
limit or kills its reader is named with the reason; its worker is replaced and the batch
goes on. Workers read ahead of the caller (who embeds meanwhile), and none outlives the
pool: ``close()`` ends them, and a worker whose parent dies ends itself.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

from ingest.base import PageCallback
from ingest.pipeline import Extraction, count_pages, source_name
from ops_search.config import Settings

# Seconds a new reader process may take to import the readers (≈1–2 s on a busy machine).
STARTUP_TIMEOUT = 60
# A reader is also stopped after this many times its processor-time limit in wall-clock
# time: generous, as a machine running 8 jobs on 2 cores gives a reader a fifth of a core.
WALL_FACTOR = 10
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class _Worker:
    """One reader process (``python -m ingest.worker``) and the pipes to it.

    A fresh interpreter rather than a fork: it inherits none of the caller's model, threads
    or open index, its memory ceiling applies to reading alone, and it works the same
    whatever the caller's main module is.
    """

    def __init__(self, settings: Settings, log_file: Path | None) -> None:
        errors = subprocess.DEVNULL
        if log_file is not None:
            with contextlib.suppress(OSError):
                log_file.parent.mkdir(parents=True, exist_ok=True)
                errors = open(log_file, "ab")  # noqa: SIM115 - the child writes to it
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ingest.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                start_new_session=True,  # a process group of its own: see kill()
            )
        finally:
            if errors is not subprocess.DEVNULL:
                errors.close()
        assert self.process.stdin is not None and self.process.stdout is not None
        self.send = Connection(os.dup(self.process.stdin.fileno()), readable=False)
        self.receive = Connection(os.dup(self.process.stdout.fileno()), writable=False)
        self.process.stdin.close()
        self.process.stdout.close()
        self.send.send((settings, log_file))
        # Wait until it has loaded the readers, so start-up is not charged to the first file.
        try:
            ready = self.receive.poll(STARTUP_TIMEOUT) and self.receive.recv() == ("ready",)
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.kill()
            raise RuntimeError(
                f"a reader process did not start within {STARTUP_TIMEOUT} s "
                f"(python -m ingest.worker; see {log_file or 'its error output'})"
            )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """End the reader and anything it started (OCR runs in subprocesses)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        self._close_pipes()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.send.send(None)
        try:
            self.process.wait(2)
        except subprocess.TimeoutExpired:
            self.kill()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for conn in (self.send, self.receive):
            with contextlib.suppress(OSError):
                conn.close()


class ReaderPool:
    """Worker processes that read files; thread-safe. Use as a context manager."""

    def __init__(
        self, settings: Settings, *, workers: int | None = None, log_file: Path | None = None
    ) -> None:
        self.settings = settings
        self.size = max(1, workers or settings.effective_read_workers)
        self.log_file = log_file
        # A slot per worker; None until a file needs it (a server that never receives an
        # upload starts none), and again after its worker was ended.
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(self.size):
            self._idle.put(None)
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> ReaderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._all = list(self._all), set()
        for worker in workers:
            worker.stop()

    @property
    def processes(self) -> list[int]:
        """Process ids of the running workers (for tests and diagnostics)."""
        with self._lock:
            return [w.process.pid for w in self._all if w.alive]

    # --- reading ---------------------------------------------------------------------------

    def time_limit(self, path: Path) -> float:
        """Seconds a file may take: a base plus a share per page (OCR is slow, not stuck)."""
        return self.settings.read_timeout + self.settings.read_timeout_per_page * count_pages(path)

    def read(
        self, path: Path, sha: str | None = None, on_page: PageCallback | None = None
    ) -> Extraction:
        """Read one file in a worker. Never raises for a bad file: see ``.error``."""
        worker = self._idle.get()
        try:
            if worker is None or not worker.alive:
                if worker is not None:
                    self._end(worker)
                worker = self._start()
            result, worker = self._run(worker, path, sha, on_page)
            return result
        finally:
            self._idle.put(worker)

    def read_all(
        self,
        items: Iterable[tuple[Path, str | None]],
        on_page: PageCallback | None = None,
    ) -> Iterator[Extraction]:
        """Read files (with their sha256 when known) in order, the pool's workers reading
        ahead of the consumer."""
        items = list(items)
        with ThreadPoolExecutor(self.size, thread_name_prefix="read") as threads:
            futures: list[Future[Extraction] | None] = []

            def submit(k: int) -> None:
                if k < len(items):
                    path, sha = items[k]
                    futures.append(threads.submit(self.read, path, sha, on_page))

            ahead = self.size + 1
            for k in range(ahead):
                submit(k)
            try:
                for k in range(len(items)):
                    future = futures[k]
                    assert future is not None
                    result = future.result()
                    futures[k] = None  # free the text as soon as it is consumed
                    submit(k + ahead)
                    yield result
            finally:
                for future in futures:
                    if future is not None:
                        future.cancel()

    # --- workers ---------------------------------------------------------------------------

    def _start(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise RuntimeError("the reader pool is closed")
            worker = _Worker(self.settings, self.log_file)
            self._all.add(worker)
        return worker

    def _end(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)

    def _run(
        self, worker: _Worker, path: Path, sha: str | None, on_page: PageCallback | None
    ) -> tuple[Extraction, _Worker | None]:
        """Send one file to ``worker`` and wait, within the file's time limit, for the
        result. Returns the worker to reuse, or None when it had to be ended."""
        started = time.monotonic()
        limit = self.time_limit(path)
        # The limit is on processor time, so that a busy machine does not fail files that
        # are merely waiting for a core; a reader stuck without using any (waiting on
        # nothing) is stopped at a multiple of it in wall-clock time.
        wall_limit = limit * WALL_FACTOR
        cpu_start = _cpu_seconds(worker.process.pid)

        def failed(problem: str) -> Extraction:
            self._end(worker)
            return Extraction(
                path=path,
                source=source_name(path),
                error=f"{path}: {problem}",
                seconds=time.monotonic() - started,
            )

        try:
            worker.send.send((str(path), sha))
        except OSError:
            return failed(self._death(worker)), None
        while True:
            elapsed = time.monotonic() - started
            cpu_now = _cpu_seconds(worker.process.pid)
            used = elapsed if cpu_start is None or cpu_now is None else cpu_now - cpu_start
            if used >= limit:
                return failed(
                    f"took more than the limit of {limit:.0f} s of processor time for this "
                    "file (OPS_READ_TIMEOUT, OPS_READ_TIMEOUT_PER_PAGE); reading stopped"
                ), None
            if elapsed >= wall_limit:
                return failed(
                    f"was still reading after {wall_limit:.0f} s ({WALL_FACTOR} × the limit of "
                    f"{limit:.0f} s of processor time for this file, OPS_READ_TIMEOUT, "
                    "OPS_READ_TIMEOUT_PER_PAGE); reading stopped"
                ), None
            try:
                if not worker.receive.poll(0.5):
                    continue
                message = worker.receive.recv()
            except (EOFError, OSError):  # the pipe closed: the worker died
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.process.wait(2)
                return failed(self._death(worker)), None
            if message[0] == "page":
                if on_page:
                    on_page(message[1], message[2])
            elif message[0] == "done":
                return message[1], worker

    def _death(self, worker: _Worker) -> str:
        code = worker.process.poll()
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            cause = f"was killed ({name})"
            if -code == signal.SIGKILL:
                cause += ", most likely for lack of memory"
        else:
            cause = f"ended unexpectedly (exit code {code})"
        return (
            f"the reader process {cause} while reading this file; skipped "
            f"(memory limit {self.settings.read_memory_mb} MB per file, OPS_READ_MEMORY_MB)"
        )


def _cpu_seconds(pid: int) -> float | None:
    """Processor time of a process, its finished children and its running ones (OCR runs
    Tesseract as children), from /proc; None where there is no /proc (the limit is then
    wall-clock time)."""
    own = _stat_seconds(pid)
    if own is None:
        return None
    try:
        with open(f"/proc/{pid}/task/{pid}/children", "rb") as fh:
            children = [int(c) for c in fh.read().split()]
    except (OSError, ValueError):
        children = []
    return own + sum(_stat_seconds(c) or 0.0 for c in children)


def _stat_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the name: state is field 3, utime 14, stime 15, cutime 16, cstime 17 (1-based).
    return sum(int(f) for f in fields[11:15]) / _TICKS


def ingest_log(settings: Settings) -> Path:
    """Where readers write the tracebacks that an "internal error" message points to."""
    return settings.log_dir / "ingest.log"
