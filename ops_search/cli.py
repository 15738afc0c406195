"""The ``ops-search`` command line: ingest, search, status, eval, serve."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ops_search.config import Settings
from ops_search.errors import OpsSearchError
from ops_search.progress import make_reporter

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Search Danish public-sector documents on public-private cooperation (OPS).",
)


@app.callback()
def _root() -> None:
    """Search Danish public-sector documents on public-private cooperation (OPS)."""


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (recursive).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Extract and chunk only.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print chunks as JSON lines.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 if any file fails.")] = False,
) -> None:
    """Read files, chunk them and (unless --dry-run) index them."""
    settings = Settings()
    from ingest.pipeline import Summary, extract_all

    reporter = make_reporter(quiet=as_json and not sys.stderr.isatty())
    summary = Summary()
    import time

    started = time.monotonic()
    try:
        for result in extract_all(paths, settings, reporter):
            summary.add(result)
            if result.error:
                continue
            summary.ingested += 1
            reporter.file_done(
                result.source,
                f"{result.document.page_count} page(s), {len(result.chunks)} chunk(s), "
                f"lang {result.document.lang}",
            )
            if as_json:
                for chunk in result.chunks:
                    sys.stdout.write(json.dumps(chunk.model_dump(), ensure_ascii=False) + "\n")
                sys.stdout.flush()
    finally:
        reporter.close()
    summary.seconds = time.monotonic() - started
    typer.echo(summary.line(), err=True)
    if not dry_run:
        raise _fail("indexing is not available yet; use --dry-run")
    if summary.ingested == 0 or (strict and summary.failed):
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except OpsSearchError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(1)
