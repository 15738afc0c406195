"""GET /search: cited passages for a query, with facets for the page's filters."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import ReadAuth, StateDep
from api.problems import ApiProblem
from api.schemas import SearchResponse
from search.query import SearchRequest
from search.store import Filters

router = APIRouter(tags=["search"], dependencies=[ReadAuth])


@router.get("/search", response_model=SearchResponse)
def search(
    state: StateDep,
    q: Annotated[str, Query(min_length=1, description="The query, Danish or English.")],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
    mode: Literal["hybrid", "dense", "sparse"] = "hybrid",
    doc_type: Annotated[list[str] | None, Query()] = None,
    lang: Annotated[list[str] | None, Query()] = None,
    kind: Annotated[list[Literal["text", "table", "decision"]] | None, Query()] = None,
    document_id: Annotated[list[str] | None, Query()] = None,
    source: Annotated[str | None, Query(description="Source path prefix.")] = None,
    date_from: Annotated[str | None, Query(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")] = None,
    date_to: Annotated[str | None, Query(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")] = None,
    year: Annotated[list[str] | None, Query(description="Years, e.g. 2013.")] = None,
    per_document: Annotated[int | None, Query(ge=1, le=50)] = None,
    facets: bool = True,
) -> SearchResponse:
    query = " ".join(q.split())
    if not query:
        raise ApiProblem(422, "Invalid request", "q: the query is empty")
    if len(query) > state.settings.max_query_chars:
        raise ApiProblem(
            422,
            "Invalid request",
            f"q: the query is {len(query)} characters; at most "
            f"{state.settings.max_query_chars} are allowed",
        )
    if year and not all(y.isdigit() and len(y) == 4 for y in year):
        raise ApiProblem(422, "Invalid request", "year: give years as four digits, e.g. 2013")
    if year:  # a year filter is a date range; several years span from the first to the last
        date_from, date_to = min(year), max(year)
    filters = Filters(
        doc_type=doc_type,
        lang=lang,
        kind=list(kind) if kind else None,
        document_id=document_id,
        source_prefix=source,
        date_from=date_from,
        date_to=date_to,
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
    facet_counts = state.searcher.facets(Filters()) if facets else {}
    return SearchResponse(
        query=query,
        mode=mode,
        took_ms=round(result.took_ms, 2),
        offset=offset,
        limit=limit,
        total=result.total_candidates,
        results=result.hits,
        facets=facet_counts,
    )
