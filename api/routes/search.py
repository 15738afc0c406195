"""GET /search: cited passages for a query, with facets for the page's filters."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import StringConstraints

from api.deps import ReaderDep, StateDep
from api.problems import ApiProblem
from api.schemas import SearchResponse
from ops_search.access import COLLECTION_PATTERN
from search.query import SearchRequest
from search.store import Filters

router = APIRouter(tags=["search"])

# Bounds on filter values: far above any real one, low enough that no value costs much.
MAX_VALUES = 50
Value = Annotated[str, StringConstraints(max_length=100)]
DocumentId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
Collection = Annotated[str, StringConstraints(pattern=COLLECTION_PATTERN)]
DATE_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


def date_bound(value: str, name: str, *, end: bool) -> str:
    """A date filter as a whole ISO date (YYYY and YYYY-MM widen to their first or last
    day), or a 422 naming the parameter: dates that do not exist never reach the store."""
    if m := _DATE.fullmatch(value):
        year, month, day = int(m[1]), int(m[2] or (12 if end else 1)), m[3]
        try:
            last = calendar.monthrange(year, month)[1]
            return dt.date(year, month, int(day) if day else (last if end else 1)).isoformat()
        except ValueError:  # year 0, month 13, 30 February, ...
            pass
    raise ApiProblem(
        422,
        "Invalid request",
        f"{name}: {value[:40]!r} is not a date: give YYYY-MM-DD, YYYY-MM or YYYY "
        "(years 0001 to 9999)",
    )


def year_range(years: list[str]) -> tuple[str, str]:
    """A year filter as a date range: several years span from the first to the last."""
    bad = next((y for y in years if not re.fullmatch(r"[0-9]{4}", y) or y == "0000"), None)
    if bad is not None:
        raise ApiProblem(
            422, "Invalid request", f"year: {bad[:40]!r} is not a year: give four digits, e.g. 2013"
        )
    return f"{min(years)}-01-01", f"{max(years)}-12-31"


@router.get("/search", response_model=SearchResponse)
def search(
    state: StateDep,
    access: ReaderDep,
    q: Annotated[str, Query(min_length=1, description="The query, Danish or English.")],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
    mode: Literal["hybrid", "dense", "sparse"] = "hybrid",
    doc_type: Annotated[list[Value] | None, Query(max_length=MAX_VALUES)] = None,
    lang: Annotated[list[Value] | None, Query(max_length=MAX_VALUES)] = None,
    kind: Annotated[
        list[Literal["text", "table", "decision"]] | None, Query(max_length=MAX_VALUES)
    ] = None,
    document_id: Annotated[list[DocumentId] | None, Query(max_length=MAX_VALUES)] = None,
    collection: Annotated[
        list[Collection] | None,
        Query(max_length=MAX_VALUES, description="Collections, e.g. offentlig."),
    ] = None,
    source: Annotated[str | None, Query(max_length=500, description="Source path prefix.")] = None,
    date_from: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None,
    date_to: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None,
    year: Annotated[
        list[str] | None, Query(max_length=MAX_VALUES, description="Years, e.g. 2013.")
    ] = None,
    per_document: Annotated[int | None, Query(ge=1, le=50)] = None,
    facets: bool = True,
) -> SearchResponse:
    most = state.settings.max_query_chars
    # A hostile megabyte of spaces is refused as it is, not split first.
    query = " ".join(q.split()) if len(q) <= 4 * most else q
    if len(query) > most:
        raise ApiProblem(
            422,
            "Invalid request",
            f"q: the query is {len(query)} characters; at most {most} are allowed",
        )
    if not query:
        raise ApiProblem(422, "Invalid request", "q: the query is empty")
    if year:
        date_from, date_to = year_range(year)
    filters = Filters(
        doc_type=doc_type,
        lang=lang,
        kind=list(kind) if kind else None,
        document_id=document_id,
        collection=collection,
        source_prefix=source,
        date_from=date_bound(date_from, "date_from", end=False) if date_from else None,
        date_to=date_bound(date_to, "date_to", end=True) if date_to else None,
        visible=access.collections,  # asked of the engine: a reader sees no other passage
    )
    request = SearchRequest(
        query=query,
        mode=mode,
        limit=limit,
        offset=offset,
        filters=filters,
        per_document=per_document,
    )
    result = state.searcher.search(request)
    facet_counts = state.searcher.facets(Filters(visible=access.collections)) if facets else {}
    return SearchResponse(
        query=query,
        searched_for=result.searched_for,
        gloss=result.gloss,
        mode=mode,
        took_ms=round(result.took_ms, 2),
        offset=offset,
        limit=limit,
        total=result.total_candidates,
        results=result.hits,
        facets=facet_counts,
    )
