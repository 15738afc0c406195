"""The FastAPI application: JSON API and the Danish web page, on one open index."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import problems
from api.deps import AppState
from api.routes import documents, health, jobs, search, web
from ingest.driver import ReaderPool, ingest_log
from ops_search import __version__
from ops_search.config import Settings
from search.embed import Embedder
from search.index import Index
from search.query import Searcher


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None) -> FastAPI:
    """Build the app. The index opens at start-up and closes at shutdown (it is locked to
    this process meanwhile). ``embedder`` lets tests share an already loaded model."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        index = Index.open(settings, role="server", embedder=embedder)
        readers = ReaderPool(settings, log_file=ingest_log(settings))
        app.state.ops = AppState(
            settings=settings, index=index, searcher=Searcher(index), readers=readers
        )
        try:
            yield
        finally:
            readers.close()
            index.close()

    app = FastAPI(
        title="ops-search",
        version=__version__,
        description="Search Danish public-sector documents on public-private cooperation "
        "(OPS): cited passages, documents, uploads.",
        lifespan=lifespan,
    )
    problems.install(app)
    app.include_router(health.router)
    app.include_router(search.router)
    app.include_router(documents.router)
    app.include_router(jobs.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return app
