"""GET /health and GET /stats."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ReadAuth, StateDep
from api.scheduler import sync_status
from api.schemas import Health, Stats, SyncStatus

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(state: StateDep) -> Health:
    chunks = state.index.store.count()
    return Health(
        ok=True,
        documents=len(state.index.catalog),
        chunks=chunks,
        model=state.index.store.info.describe(),
        engine=state.index.store.engine,
    )


@router.get("/stats", response_model=Stats, dependencies=[ReadAuth])
def stats(state: StateDep) -> Stats:
    store = state.index.store
    chunks = store.count()
    doc_types = store.facets("doc_type")
    langs = store.facets("lang")
    kinds = store.facets("kind")
    disk = store.disk_usage()
    return Stats(
        ok=True,
        documents=len(state.index.catalog),
        chunks=chunks,
        model=store.info.describe(),
        engine=store.engine,
        data_dir=str(state.settings.data_dir),
        disk_bytes=disk,
        doc_types=doc_types,
        langs=langs,
        kinds=kinds,
        sync=[SyncStatus(**r.public()) for r in sync_status(state)],
    )
