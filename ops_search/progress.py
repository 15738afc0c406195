"""Progress for long work: a rich progress bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

log = logging.getLogger("ops_search")

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """A file name or reason as one safe line: control characters (a newline in a name, a
    terminal escape) shown escaped, never acted on."""
    return _CONTROL_RE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class Reporter(Protocol):
    def start(self, files: int, pages: int) -> None: ...
    def file_started(self, path: str) -> None: ...
    def page_done(self, ocr: bool) -> None: ...
    def file_done(self, path: str, message: str) -> None: ...
    def error(self, message: str) -> None: ...
    def warning(self, message: str) -> None: ...
    def stage(self, message: str) -> None: ...
    def add_passages(self, n: int) -> None: ...
    def passages_done(self, n: int) -> None: ...
    def close(self) -> None: ...


class LogReporter:
    """One line per file and per problem, for logs and pipes."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.started = time.monotonic()

    def _print(self, message: str) -> None:
        print(message, file=self.stream, flush=True)

    def start(self, files: int, pages: int) -> None:
        self._print(f"ingesting {files} file(s), {pages} page(s)")

    def file_started(self, path: str) -> None:
        pass

    def page_done(self, ocr: bool) -> None:
        pass

    def file_done(self, path: str, message: str) -> None:
        self._print(f"ok      {printable(path)}: {printable(message)}")

    def error(self, message: str) -> None:
        self._print(f"FAILED  {printable(message)}")

    def warning(self, message: str) -> None:
        self._print(f"warning {printable(message)}")

    def stage(self, message: str) -> None:
        self._print(message)

    def add_passages(self, n: int) -> None:
        pass

    def passages_done(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


class RichReporter:
    """Bars for files and pages (OCR pages counted apart); messages scroll above them."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}", markup=False),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self.files_task = self.progress.add_task("files", total=None, info="")
        self.pages_task = self.progress.add_task("pages", total=None, info="")
        self.passages_task = self.progress.add_task("passages", total=0, info="embedding")
        self.ocr_pages = 0

    def start(self, files: int, pages: int) -> None:
        self.progress.update(self.files_task, total=files)
        self.progress.update(self.pages_task, total=pages)
        self.progress.start()

    def file_started(self, path: str) -> None:
        self.progress.update(self.files_task, info=printable(path)[-50:])

    def page_done(self, ocr: bool) -> None:
        if ocr:
            self.ocr_pages += 1
        self.progress.update(
            self.pages_task, advance=1, info=f"OCR {self.ocr_pages}" if self.ocr_pages else ""
        )

    def file_done(self, path: str, message: str) -> None:
        self.progress.update(self.files_task, advance=1)
        line = Text.assemble(("ok", "green"), "      ", printable(path), ": ", printable(message))
        self.console.print(line, highlight=False)

    def error(self, message: str) -> None:
        self.progress.update(self.files_task, advance=1)
        # Text, not markup: a reason like "[/'ASCII85Decode']" or a name "referat [udkast]"
        # is printed as it is.
        line = Text.assemble(("FAILED", "red"), "  ", printable(message))
        self.console.print(line, highlight=False)

    def warning(self, message: str) -> None:
        line = Text.assemble(("warning", "yellow"), " ", printable(message))
        self.console.print(line, highlight=False)

    def stage(self, message: str) -> None:
        self.console.print(Text(printable(message)), highlight=False)

    def add_passages(self, n: int) -> None:
        total = self.progress.tasks[self.passages_task].total or 0
        self.progress.update(self.passages_task, total=total + n)

    def passages_done(self, n: int) -> None:
        self.progress.update(self.passages_task, advance=n)

    def close(self) -> None:
        self.progress.stop()


def make_reporter(quiet: bool = False) -> Reporter:
    if not quiet and sys.stderr.isatty():
        return RichReporter()
    return LogReporter()
