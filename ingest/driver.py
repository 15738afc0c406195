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
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ingest.base import PageCallback
from ingest.pipeline import Extraction, count_pages, source_name
from ops_search.config import Settings

# Forked from a server process that has loaded only the readers: starting a worker costs
# milliseconds, and no worker inherits the caller's model, threads or open index.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["ingest.worker"])


class _Worker:
    """One reader process and the pipe to it."""

    def __init__(self, settings: Settings, log_file: Path | None) -> None:
        from ingest import worker

        self.conn, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(
            target=worker.serve, args=(child, settings, log_file), daemon=True
        )
        self.process.start()
        child.close()

    def kill(self) -> None:
        """End the reader and anything it started (OCR runs in subprocesses)."""
        pid = self.process.pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(2)
        if self.process.is_alive():
            self.kill()
        else:
            self.conn.close()


class ReaderPool:
    """Worker processes that read files; thread-safe. Use as a context manager."""

    def __init__(
        self, settings: Settings, *, workers: int | None = None, log_file: Path | None = None
    ) -> None:
        self.settings = settings
        self.size = max(1, workers or settings.effective_read_workers)
        self.log_file = log_file
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(self.size):
            self._idle.put(None)  # started on first use
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
            if worker is None or not worker.process.is_alive():
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
        """Read files in order, the pool's workers reading ahead of the consumer."""
        items = list(items)
        with ThreadPoolExecutor(self.size, thread_name_prefix="read") as threads:
            futures: list[Future[Extraction] | None] = []

            def submit(k: int) -> None:
                if k < len(items):
                    path, sha = items[k]
                    futures.append(threads.submit(self.read, path, sha, on_page))

            for k in range(self.size + 1):
                submit(k)
            try:
                for k in range(len(items)):
                    future = futures[k]
                    assert future is not None
                    result = future.result()
                    futures[k] = None  # free the text as soon as it is consumed
                    submit(k + self.size + 1)
                    yield result
            finally:
                for future in futures:
                    if future is not None:
                        future.cancel()

    def _start(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise RuntimeError("the reader pool is closed")
            worker = _Worker(self.settings, self.log_file)
            self._all.add(worker)
        return worker

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        with self._lock:
            self._all.discard(worker)
        return self._start()

    def _run(
        self, worker: _Worker, path: Path, sha: str | None, on_page: PageCallback | None
    ) -> tuple[Extraction, _Worker]:
        started = time.monotonic()
        limit = self.time_limit(path)
        deadline = started + limit

        def failed(problem: str) -> Extraction:
            return Extraction(
                path=path,
                source=source_name(path),
                error=f"{path}: {problem}",
                seconds=time.monotonic() - started,
            )

        try:
            worker.conn.send((str(path), sha))
        except OSError:
            worker = self._replace(worker)
            worker.conn.send((str(path), sha))
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return failed(
                    f"took longer than the limit of {limit:.0f} s for this file "
                    "(OPS_READ_TIMEOUT, OPS_READ_TIMEOUT_PER_PAGE); reading stopped"
                ), self._replace(worker)
            try:
                ready = worker.conn.poll(min(remaining, 0.5))
                message = worker.conn.recv() if ready else None
            except (EOFError, OSError):
                message = None
                ready = True  # the pipe closed: the worker died
            if message is None:
                if ready or not worker.process.is_alive():
                    worker.process.join(1)
                    return failed(self._death(worker)), self._replace(worker)
                continue
            kind = message[0]
            if kind == "page":
                if on_page:
                    on_page(message[1], message[2])
            elif kind == "done":
                return message[1], worker

    def _death(self, worker: _Worker) -> str:
        code = worker.process.exitcode
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            cause = f"was killed ({name})"
            if -code == signal.SIGKILL:
                cause += ", most likely by the system for lack of memory"
        else:
            cause = f"ended unexpectedly (exit code {code})"
        return (
            f"the reader process {cause} while reading this file; skipped "
            f"(memory limit {self.settings.read_memory_mb} MB, OPS_READ_MEMORY_MB)"
        )


def ingest_log(settings: Settings) -> Path:
    """Where readers write the tracebacks that an "internal error" message points to."""
    return settings.log_dir / "ingest.log"
