"""The reader process: reads one file at a time for ``ingest.driver`` under its limits.

It runs in a process of its own so that whatever a file does to a reader — a parser that
loops, a decompression bomb, a crash in a C library — costs that process, never the batch
or the server: the driver ends it and starts another.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import resource
import signal
import sys
from multiprocessing.connection import Connection
from pathlib import Path

from ingest.language import detect_document_language
from ingest.pipeline import extract
from ops_search.config import Settings

_PR_SET_PDEATHSIG = 1


def main() -> None:
    """Entry point of ``python -m ingest.worker``: frames on stdin/stdout; stray prints (a
    library's) go to stderr, which the driver points at the log file."""
    receive = Connection(os.dup(0), writable=False)
    send = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        settings, log_file = receive.recv()
    except (EOFError, OSError):
        return
    serve(receive, send, settings, log_file)


def serve(receive: Connection, send: Connection, settings: Settings, log_file: Path | None) -> None:
    """Read files named on ``receive`` until it closes; send page ticks and the Extraction."""
    _detach()
    _limit_memory(settings.read_memory_mb)
    _log_to(log_file)
    # Load the language profiles now, so a file's time limit counts reading, not start-up.
    detect_document_language("Kommunerne har indgået et offentlig-privat samarbejde.")
    send.send(("ready",))
    while True:
        try:
            task = receive.recv()
        except (EOFError, OSError):
            return  # the driver is gone
        if task is None:
            return
        path, sha = task

        def on_page(number: int, ocr: bool) -> None:
            send.send(("page", number, ocr))

        result = extract(Path(path), settings, on_page=on_page, sha=sha, log_file=log_file)
        try:
            send.send(("done", result))
        except OSError:
            return


def _detach() -> None:
    """Deaf to the terminal's Ctrl-C (the driver decides; it also started this process in
    a group of its own, so a kill on time-out reaches OCR subprocesses), and dead with its
    parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _limit_memory(megabytes: int) -> None:
    """Cap the address space: an allocation past it fails (MemoryError) instead of
    swallowing the machine's memory."""
    limit = megabytes * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _log_to(log_file: Path | None) -> None:
    """Tracebacks of our own failures go to the log file that messages point to."""
    if log_file is None:
        return
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, encoding="utf-8")
    except OSError:
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(message)s"))
    logger = logging.getLogger("ops_search")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


if __name__ == "__main__":
    main()
