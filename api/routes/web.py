"""The Danish web page: search, read a passage at its page, manage documents.

Server-rendered (Jinja2), so it works without JavaScript and with the keyboard; a little
JavaScript only for uploads and deletes, which need the API key header.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from api.deps import ReaderDep, StateDep
from api.problems import ApiProblem
from api.routes.documents import DocId
from api.routes.search import MAX_VALUES, Value
from api.scheduler import sync_status
from ingest.chunk import sections_of
from search.query import SearchRequest
from search.store import Filters
from search.sync import SyncReport

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parents[1] / "templates"))
router = APIRouter(include_in_schema=False)

PAGE_SIZE = 10
DOC_TYPES = {
    "rapport": "Rapport",
    "aftale": "Aftale",
    "referat": "Referat",
    "pressemeddelelse": "Pressemeddelelse",
    "artikel": "Artikel",
}
LANGS = {"da": "Dansk", "en": "Engelsk"}
KINDS = {"text": "Tekst", "table": "Tabel", "decision": "Beslutning"}
MODES = {"hybrid": "Kombineret", "dense": "Betydning", "sparse": "Ord"}


def mark(text: str, spans: list[tuple[int, int]]) -> Markup:
    """HTML of ``text`` with ``spans`` wrapped in <mark>, everything else escaped."""
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:
            continue
        out.append(escape(text[pos:start]))
        out.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        pos = end
    out.append(escape(text[pos:]))
    return Markup("").join(out)


@router.get("/", response_class=HTMLResponse)
def search_page(
    request: Request,
    state: StateDep,
    access: ReaderDep,
    q: Annotated[str, Query(max_length=4000)] = "",
    doc_type: Annotated[list[Value] | None, Query(max_length=MAX_VALUES)] = None,
    lang: Annotated[list[Value] | None, Query(max_length=MAX_VALUES)] = None,
    year: Annotated[list[Value] | None, Query(max_length=MAX_VALUES)] = None,
    kind: Annotated[list[Value] | None, Query(max_length=MAX_VALUES)] = None,
    collection: Annotated[list[Value] | None, Query(max_length=MAX_VALUES)] = None,
    mode: Literal["hybrid", "dense", "sparse"] = "hybrid",
    limit: Annotated[int, Query(ge=PAGE_SIZE, le=100)] = PAGE_SIZE,
) -> HTMLResponse:
    query = " ".join(q.split())[: state.settings.max_query_chars]
    # The page drops what is no year (the API says why instead): "0000" and "²⁰¹³" too.
    years = [y for y in (year or []) if re.fullmatch(r"[0-9]{4}", y) and y != "0000"]
    filters = Filters(
        doc_type=doc_type or None,
        lang=lang or None,
        kind=[k for k in (kind or []) if k in KINDS] or None,
        date_from=f"{min(years)}-01-01" if years else None,
        date_to=f"{max(years)}-12-31" if years else None,
        collection=collection or None,
        visible=access.collections,  # asked of the engine: a reader sees no other passage
    )
    hits, took, total, searched_for, gloss = [], 0.0, 0, None, None
    if query:
        result = state.searcher.search(
            SearchRequest(query=query, mode=mode, limit=limit, filters=filters)
        )
        hits, took, total = result.hits, result.took_ms, result.total_candidates
        searched_for, gloss = result.searched_for, result.gloss
    facets = state.searcher.facets(Filters(visible=access.collections))
    params = {"q": query, "doc_type": doc_type or [], "lang": lang or [], "year": years,
              "kind": kind or [], "collection": collection or [], "mode": mode}  # fmt: skip
    more_url = "/?" + urlencode({**params, "limit": limit + PAGE_SIZE}, doseq=True)
    results = [
        {
            "hit": hit,
            "html": mark(hit.text, hit.highlights),
            "url": _passage_url(
                hit.citation.document_id,
                hit.citation.page_start,
                hit.citation.char_start,
                hit.citation.char_end,
                searched_for or query,
            ),
        }  # fmt: skip
        for hit in hits
    ]
    return TEMPLATES.TemplateResponse(
        request,
        "search.html",
        {
            "q": query,
            "searched_for": searched_for,
            "gloss": gloss,
            "results": results,
            "took_ms": took,
            "facets": facets,
            "selected": {
                "doc_type": doc_type or [],
                "lang": lang or [],
                "year": years,
                "kind": kind or [],
                "collection": collection or [],
            },  # fmt: skip
            "mode": mode,
            "more_url": more_url if total > len(hits) else None,
            "labels": {"doc_type": DOC_TYPES, "lang": LANGS, "kind": KINDS, "mode": MODES},
            "filtered": bool(doc_type or lang or years or kind or collection),
        },
    )


def _passage_url(document_id: str, page: int, start: int, end: int, q: str) -> str:
    query = urlencode({"side": page, "fra": start, "til": end, "q": q})
    return f"/dokument/{document_id}?{query}#passage"


@router.get("/dokument/{document_id}", response_class=HTMLResponse)
def document_page(
    request: Request,
    state: StateDep,
    access: ReaderDep,
    document_id: DocId,
    side: Annotated[int, Query(ge=1)] = 1,
    fra: Annotated[int | None, Query(ge=0)] = None,
    til: Annotated[int | None, Query(ge=0)] = None,
    q: Annotated[str, Query(max_length=4000)] = "",
) -> HTMLResponse:
    """One page of a document's text, the cited passage highlighted and scrolled to."""
    entry = state.index.catalog.get(document_id, access.collections)
    if entry is None:  # or not for this reader: the same 404, which tells nothing
        raise ApiProblem(404, "Not found", f"No document with id {document_id}")
    doc = entry.document
    side = min(side, doc.page_count)
    last = side
    passage = fra is not None and til is not None and til > fra
    if passage:
        # A passage that runs over a page break is shown on all its pages, whole.
        holder = (p.number for p in doc.pages if p.char_start <= til - 1 < p.char_end)
        last = max(side, next(holder, side))
    page = doc.pages[side - 1]
    start_char, end_char = page.char_start, doc.pages[last - 1].char_end
    text = doc.text[start_char:end_char]
    html = escape(text)
    if passage:
        start = max(fra, start_char) - start_char
        end = min(til, end_char) - start_char
        if end > start:
            html = (
                escape(text[:start])
                + Markup('<mark id="passage" class="passage" tabindex="-1">')
                + escape(text[start:end])
                + Markup("</mark>")
                + escape(text[end:])
            )
    nav = {"fra": fra, "til": til, "q": q} if fra is not None else {"q": q}
    return TEMPLATES.TemplateResponse(
        request,
        "document.html",
        {
            "doc": doc,
            "entry": entry,
            "page": page,
            "html": html,
            "q": q,
            "last": last,
            "prev_url": _page_url(document_id, side - 1, nav) if side > 1 else None,
            "next_url": _page_url(document_id, last + 1, nav) if last < doc.page_count else None,
            "file_url": f"/documents/{document_id}/file"
            + (f"#page={side}" if doc.format == "pdf" else ""),
            "sections": [s for s in sections_of(doc)],
            "labels": {"doc_type": DOC_TYPES, "lang": LANGS},
        },
    )


def _page_url(document_id: str, side: int, nav: dict) -> str:
    params = {k: v for k, v in {"side": side, **nav}.items() if v not in (None, "")}
    return f"/dokument/{document_id}?{urlencode(params)}"


@router.get("/dokumenter", response_class=HTMLResponse)
def documents_page(request: Request, state: StateDep, access: ReaderDep) -> HTMLResponse:
    entries = state.index.catalog.summaries(access.collections)
    entries = sorted(entries, key=lambda d: d["title"].lower())
    return TEMPLATES.TemplateResponse(
        request,
        "documents.html",
        {
            "entries": entries,
            "sync": [_sync_line(r) for r in sync_status(state) if access.allows(r.collection)],
            "writable": bool(state.settings.write_keys),
            "max_mb": state.settings.max_upload_mb,
            "labels": {"doc_type": DOC_TYPES, "lang": LANGS},
        },
    )


SYNC_STATUS = {
    "pending": "venter på første kørsel",
    "running": "i gang",
    "done": "færdig",
    "stopped": "afbrudt (fortsætter ved næste kørsel)",
    "failed": "fejlede",
    "interrupted": "afbrudt (gøres færdig ved næste kørsel)",
}


def _sync_line(report: SyncReport) -> dict:
    """A synced folder's latest round, in Danish, for the documents page."""
    when = (report.last_run or report.started_at or "").replace("T", " ")[:16]
    counts = (
        f"{report.added} nye, {report.changed} ændrede, {report.renamed} omdøbte, "
        f"{report.removed} fjernede, {report.skipped} venter (skrives stadig), "
        f"{report.errors} fejl"
    )
    return {
        "folder": report.folder,
        "collection": report.collection,
        "status": SYNC_STATUS.get(report.status, report.status),
        "when": when if report.status != "pending" else "",
        "counts": counts if report.status != "pending" else "",
        "message": report.message,
    }
