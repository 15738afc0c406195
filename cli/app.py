"""The ``ops-search`` command line: ingest, sync, search, status, eval, audit, serve."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ops_search.config import Settings
from ops_search.errors import OpsSearchError
from ops_search.progress import Reporter, make_reporter

if TYPE_CHECKING:
    from ingest.pipeline import Extraction, Summary
    from search.index import Index

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Search Danish public-sector documents on public-private cooperation (OPS).",
)

ModeOption = Annotated[str, typer.Option("--mode", help="hybrid, dense or sparse.")]


def _check_collection(name: str) -> str:
    from ops_search.access import check_collection

    try:
        return check_collection(name)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="'--collection'") from None


CollectionOption = Annotated[
    str,
    typer.Option(
        "--collection",
        help="The collection the files go into (who may read them); a file already indexed "
        "in another collection moves here.",
        callback=_check_collection,
    ),
]


@app.callback()
def _root() -> None:
    """Search Danish public-sector documents on public-private cooperation (OPS)."""


def _check_mode(mode: str) -> str:
    if mode not in ("hybrid", "dense", "sparse"):
        raise typer.BadParameter(f"mode must be hybrid, dense or sparse, not {mode!r}")
    return mode


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (recursive).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Extract and chunk only; write nothing.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --dry-run: print chunks as JSON lines.")
    ] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 if any file fails.")] = False,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Start the index afresh (e.g. for a new model).")
    ] = False,
    prune: Annotated[
        bool, typer.Option("--prune", help="Remove documents whose files are gone.")
    ] = False,
    server: Annotated[
        str | None,
        typer.Option("--server", help="Send the files to a running ops-search server (URL)."),
    ] = None,
    collection: CollectionOption = "offentlig",
) -> None:
    """Read files, chunk them and index them (unchanged files are skipped)."""
    settings = Settings()
    if server:
        from cli.remote import upload_files

        raise typer.Exit(0 if upload_files(server, paths, settings, collection) else 1)
    reporter = make_reporter(quiet=as_json and not sys.stderr.isatty())
    if dry_run:
        summary = _dry_run(paths, settings, reporter, as_json, collection)
    else:
        from search.index import Index

        index = Index.open(settings, role="ingest", rebuild=rebuild)
        try:
            summary = index.ingest(paths, reporter, prune=prune, collection=collection)
        finally:
            reporter.close()
            index.close()
    typer.echo(summary.line(), err=True)
    if summary.ingested + summary.unchanged == 0 or (strict and summary.failed):
        raise typer.Exit(1)


@app.command()
def sync(
    folder: Annotated[Path, typer.Argument(help="The folder the index is to mirror.")],
    collection: CollectionOption = "offentlig",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the round's report as JSON.")
    ] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 if any file fails.")] = False,
) -> None:
    """Make the index mirror FOLDER: ingest new and changed files, remove those that are gone,
    recognise renamed ones by content (not embedded again). Files still being written wait."""
    from search.index import Index
    from search.sync import sync_folder

    if not folder.is_dir():
        raise typer.BadParameter(f"{folder} is not a folder", param_hint="FOLDER")
    settings = Settings()
    reporter = make_reporter(quiet=as_json and not sys.stderr.isatty())
    index = Index.open(settings, role="ingest")
    try:
        report = sync_folder(index, folder, collection, reporter)
    finally:
        reporter.close()
        index.close()
    if as_json:
        typer.echo(json.dumps(report.public(), ensure_ascii=False, indent=2))
    for message in report.messages:
        typer.echo(f"note    {message}", err=True)
    typer.echo(report.line(), err=True)
    if strict and report.errors:
        raise typer.Exit(1)


def _dry_run(
    paths: list[Path], settings: Settings, reporter: Reporter, as_json: bool, collection: str
) -> Summary:
    """Read and chunk through the same driver as ingest; print chunks, write nothing."""
    import tempfile

    from ingest.driver import ReaderPool
    from ingest.pipeline import Summary, describe, report_read, start_batch

    summary = Summary()
    started = time.monotonic()
    files = start_batch(paths, reporter, summary)
    # A dry run writes nothing under the data folder: tracebacks go to a temporary log.
    log_file = Path(tempfile.gettempdir()) / "ops-search-dry-run.log"
    workers = settings.read_workers or settings.cpu_threads  # nothing else competes here
    try:
        with ReaderPool(settings, workers=workers, log_file=log_file) as readers:
            items = [(f, None) for f in files]
            for result in readers.read_all(items, on_page=lambda _n, ocr: reporter.page_done(ocr)):
                if report_read(result, reporter, summary) is None:
                    continue
                summary.ingested += 1
                reporter.file_done(result.source, describe(result))
                if as_json:
                    _print_chunks(result, collection)
    finally:
        reporter.close()
    summary.seconds = time.monotonic() - started
    return summary


def _print_chunks(result: Extraction, collection: str) -> None:
    """One JSON object per chunk: its payload as it would be indexed, plus how its pages
    were read."""
    document = result.document
    assert document is not None
    degraded = document.degraded_pages
    for chunk in result.chunks:
        line = chunk.model_copy(update={"collection": collection}).model_dump()
        line["degraded"] = [
            {"page": n, "reason": degraded[n]}
            for n in range(chunk.page_start, chunk.page_end + 1)
            if n in degraded
        ]
        line["reader"] = document.reader or document.format
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in Danish or English.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 10,
    mode: ModeOption = "hybrid",
    doc_type: Annotated[list[str] | None, typer.Option("--doc-type")] = None,
    lang: Annotated[list[str] | None, typer.Option("--lang")] = None,
    kind: Annotated[list[str] | None, typer.Option("--kind", help="text, table, decision")] = None,
    collection: Annotated[
        list[str] | None, typer.Option("--collection", help="Only these collections.")
    ] = None,
    per_document: Annotated[int | None, typer.Option("--per-document", min=1)] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Search the index and print cited passages."""
    from search.index import Index
    from search.query import Searcher, SearchRequest
    from search.store import Filters

    settings = Settings()
    _require_index(settings)
    with Index.open(settings, role="search") as index:
        _require_contents(index)
        request = SearchRequest(
            query=query,
            mode=_check_mode(mode),  # type: ignore[arg-type]
            limit=limit,
            filters=Filters(
                doc_type=doc_type,
                lang=lang,
                kind=kind,
                collection=[_check_collection(c) for c in collection or []] or None,
            ),
            per_document=per_document,
        )
        result = Searcher(index).search(request)
    if as_json:
        payload = {
            "query": query,
            "searched_for": result.searched_for,
            "gloss": result.gloss.model_dump() if result.gloss else None,
            "mode": mode,
            "took_ms": round(result.took_ms, 1),
            "results": [h.model_dump() for h in result.hits],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if result.searched_for:
        typer.echo(f"Searched for: {result.searched_for} (typed without æ, ø and å)", err=True)
    if result.gloss:
        language = "English" if result.gloss.lang == "en" else "Danish"
        typer.echo(f"Also searched in {language} as: {result.gloss.text} (word by word)", err=True)
    if not result.hits:
        typer.echo("No results. Try other words, fewer filters, or --mode dense.")
    for hit in result.hits:
        typer.secho(
            f"{hit.rank:>2}. {hit.citation.label}  [{hit.citation.collection}, {hit.kind}, "
            f"{hit.score:.3f}]",
            bold=True,
        )
        text = hit.text if len(hit.text) < 600 else hit.text[:600] + " …"
        typer.echo("    " + text.replace("\n", "\n    "))
        typer.echo(f"    {hit.citation.source}")
    typer.echo(f"({len(result.hits)} result(s) in {result.took_ms:.0f} ms)", err=True)


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """What is in the index: documents, chunks, model, engine, disk."""
    from search.index import Index

    settings = Settings()
    with Index.open(settings, role="status") as index:
        info = {
            "data_dir": str(settings.data_dir),
            "engine": index.store.engine,
            "model": index.store.info.describe(),
            "keywords": index.store.info.analyzer,
            "documents": len(index.catalog),
            "chunks": index.store.count(),
            "collections": index.store.facets("collection"),
            "disk_bytes": index.store.disk_usage(),
        }
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    for key, value in info.items():
        if key == "disk_bytes" and isinstance(value, int):
            value = f"{value / 1e6:.1f} MB"
        if isinstance(value, dict):
            value = ", ".join(f"{name} {n}" for name, n in value.items()) or "–"
        typer.echo(f"{key:<10} {value}")


@app.command("eval")
def evaluate(
    qrels: Annotated[
        list[Path],
        typer.Argument(help="Qrels files (JSON lines: query, answer_contains), one per set."),
    ],
    mode: Annotated[
        list[str] | None, typer.Option("--mode", help="Repeat for several; default all.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    misses: Annotated[bool, typer.Option("--misses", help="List queries not found.")] = False,
) -> None:
    """Recall@1/5/10 and MRR@10 per set, query kind and mode, then one line per set."""
    from search.eval import evaluate_sets, format_reports, format_summary, load_qrels, set_name
    from search.index import Index
    from search.query import MODES, Searcher

    modes = [_check_mode(m) for m in (mode or MODES)]
    sets = []
    for path in qrels:
        try:
            sets.append((set_name(path), load_qrels(path)))
        except OSError as err:
            raise OpsSearchError(f"cannot read the qrels file {path}: {err.strerror}") from err
        except ValueError as err:  # names the file and line
            raise OpsSearchError(str(err)) from err
    names = [name for name, _ in sets]
    if len(set(names)) < len(names):
        raise OpsSearchError(f"two qrels files share a name ({', '.join(names)}): rename one")
    settings = Settings()
    _require_index(settings)
    with Index.open(settings, role="eval") as index:
        _require_contents(index)
        results = evaluate_sets(Searcher(index), sets, modes)  # type: ignore[arg-type]
    if as_json:
        tables = {r.name: {m.mode: m.table for m in r.reports} for r in results}
        typer.echo(json.dumps(tables, indent=2))
    else:
        for result in results:
            typer.echo(f"== {result.name} ({result.size} queries)")
            typer.echo(format_reports(result.reports))
            typer.echo("")
        typer.echo(format_summary(results))
    if misses:
        for result, (_, rows) in zip(results, sets, strict=True):
            for report in result.reports:
                for qrel in rows:
                    rank = report.ranks[qrel.id]
                    if rank is None or rank > 5:
                        typer.echo(
                            f"{result.name} {report.mode:<7} {qrel.id} rank={rank} {qrel.query}"
                        )


@app.command()
def audit(
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only events from then on: an ISO date or time (2026-12-01, "
            "2026-12-01T08:00, UTC unless an offset is given) or a span back from now "
            "(30m, 24h, 7d, 2w).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON lines as stored.")
    ] = False,
) -> None:
    """The audit log: uploads, deletes, sync writes and downloads of originals."""
    from ops_search.audit import AuditLog, parse_since

    settings = Settings()
    try:
        start = parse_since(since) if since is not None else None
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--since") from None
    log = AuditLog.in_dir(settings.log_dir)
    for event in log.read(start):
        if as_json:
            typer.echo(json.dumps(event, ensure_ascii=False))
            continue
        status = event.get("status")
        typer.echo(
            f"{event['time']}  {event.get('key_id', '?'):<9}  {event.get('route', '?'):<26}  "
            f"{event.get('document_id') or '-':<16}  {event.get('outcome', '?')}"
            + (f" ({status})" if status else "")
        )


def _require_index(settings: Settings) -> None:
    """Searching an index that is not there must not create an empty one in passing."""
    if settings.engine != "server" and not settings.index_dir.exists():
        raise OpsSearchError(
            f"there is no index at {settings.data_dir}: run `ops-search ingest PATH…` first, "
            "or set OPS_DATA_DIR to the folder of an index"
        )


def _require_contents(index: Index) -> None:
    if index.store.count() == 0:
        raise OpsSearchError(
            f"the index at {index.settings.data_dir} is empty: run `ops-search ingest PATH…` first"
        )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option("--host")] = None,
    port: Annotated[int | None, typer.Option("--port")] = None,
) -> None:
    """Serve the JSON API and the web page (default http://127.0.0.1:8765/)."""
    import uvicorn

    from api.app import create_app

    settings = Settings()
    application = create_app(settings)
    typer.echo(
        f"ops-search serving {settings.data_dir} at http://{host or settings.host}:"
        f"{port or settings.port}/",
        err=True,
    )
    uvicorn.run(application, host=host or settings.host, port=port or settings.port)


def main() -> None:
    from pydantic import ValidationError

    try:
        app()
    except ValidationError as err:  # a bad OPS_* setting
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        typer.echo(f"error: invalid setting: {problems}", err=True)
        sys.exit(2)
    except OpsSearchError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
