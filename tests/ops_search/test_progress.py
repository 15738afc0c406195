"""Progress output: file names and reasons are printed as text, one line each, whatever
characters they hold (markup brackets, control characters, emoji)."""

from __future__ import annotations

import io

from rich.console import Console

from ops_search.progress import LogReporter, RichReporter, printable

HOSTILE_NAME = 'referat [udkast] "x" 🙂\nnæste linje.pdf'
REASON = "corrupt PDF ([/'ASCII85Decode', /'FlateDecode'] [bold]x[/bold])"


def test_printable_escapes_control_characters_and_keeps_the_rest():
    assert printable("a\nb\tc\x1b[31m") == "a\\nb\\tc\\x1b[31m"
    assert printable("referat [udkast] 🙂 æøå") == "referat [udkast] 🙂 æøå"


def test_log_reporter_prints_one_line_per_file_with_names_as_given():
    out = io.StringIO()
    reporter = LogReporter(out)
    reporter.error(f"{HOSTILE_NAME}: {REASON}")
    reporter.file_done(HOSTILE_NAME, "1 page(s)")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0] == f'FAILED  referat [udkast] "x" 🙂\\nnæste linje.pdf: {REASON}'
    assert lines[1].startswith("ok      referat [udkast]")


def test_terminal_reporter_prints_brackets_instead_of_reading_them_as_markup():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=300, color_system=None)
    reporter = RichReporter(console)
    reporter.start(2, 2)
    reporter.file_started(HOSTILE_NAME)
    reporter.error(f"{HOSTILE_NAME}: {REASON}")
    reporter.warning(f"{HOSTILE_NAME}: [red]not markup[/red]")
    reporter.file_done(HOSTILE_NAME, "1 page(s)")
    reporter.close()
    text = out.getvalue()
    assert "referat [udkast]" in text and "[/'ASCII85Decode', /'FlateDecode']" in text
    assert "[bold]x[/bold]" in text and "[red]not markup[/red]" in text
    assert "\\nnæste linje.pdf" in text
