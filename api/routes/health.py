"""GET /health (is the service up: nothing more) and GET /stats (what the reader may see)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ReaderDep, StateDep
from api.scheduler import sync_status
from api.schemas import Health, Stats, SyncStatus
from search.store import Filters

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health() -> Health:
    """For monitors, open to all: no counts, names or versions, which would tell a reader
    without a key about documents it may not see."""
    return Health(ok=True)


@router.get("/stats", response_model=Stats)
def stats(state: StateDep, access: ReaderDep) -> Stats:
    store = state.index.store
    visible = Filters(visible=access.collections)
    admin = access.sees_all
    return Stats(
        ok=True,
        documents=state.index.catalog.count(access.collections),
        chunks=store.count(visible),
        model=store.info.describe(),
        engine=store.engine,
        # Where and how large the whole index is, only for a reader who sees all of it.
        data_dir=str(state.settings.data_dir) if admin else None,
        disk_bytes=store.disk_usage() if admin else None,
        doc_types=store.facets("doc_type", visible),
        langs=store.facets("lang", visible),
        kinds=store.facets("kind", visible),
        collections=store.facets("collection", visible),
        # A synced folder's round names its files: shown to readers of its collection only.
        sync=[SyncStatus(**r.public()) for r in sync_status(state) if access.allows(r.collection)],
    )
