"""The FastAPI application: JSON API and the Danish web page, on one open index."""

from __future__ import annotations

import base64
import gc
import hashlib
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems
from api.audit import AuditMiddleware
from api.deps import AppState, UploadGate
from api.problems import log
from api.routes import documents, health, jobs, search, web
from api.scheduler import SyncScheduler
from api.uploads import resume_jobs, stop_jobs
from ingest.driver import ReaderPool, ingest_log
from ops_search import __version__
from ops_search.audit import AuditLog
from ops_search.config import Settings
from search.embed import Embedder
from search.index import Index
from search.query import Searcher

# How long shutdown waits for each upload job to reach the end of its batch (≈10 s of
# embedding on 2 cores); one still busy then is cut off, and recovered at the next start.
JOB_STOP_TIMEOUT_S = 30


# The web pages: scripts and styles from /static only, never inline, so no text that reaches
# a page (a title, a passage, a query) can run as script; no framing, no <base>, forms post
# home. Uploaded originals are never pages: they carry "sandbox" (api.routes.documents).
PAGE_CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# FastAPI's API docs load Swagger UI / ReDoc from a CDN and start it with an inline script
# that FastAPI writes, not we or a user: that script is allowed by its hash, nothing else.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' https://cdn.jsdelivr.net {hashes}; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https:; worker-src blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


class SecurityHeaders:
    """``nosniff`` on every response, so no file is ever taken for HTML or script by its
    content; a strict Content-Security-Policy on every HTML page that has none of its own."""

    def __init__(self, app: ASGIApp, docs_paths: tuple[str, ...]) -> None:
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.docs_paths:
            await self._docs_page(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                html = headers.get("content-type", "").startswith("text/html")
                if html and "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = PAGE_CSP
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs_page(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The docs page, held until whole (a few kB) to hash its inline scripts."""
        start: Message = {}
        body: list[bytes] = []

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            page = b"".join(body)
            hashes = " ".join(
                "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
                for script in _INLINE_SCRIPT.findall(page)
            )
            headers = MutableHeaders(scope=start)
            headers["X-Content-Type-Options"] = "nosniff"
            headers["Content-Security-Policy"] = DOCS_CSP.format(hashes=hashes)
            await send(start)
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, hold)


def _warm(index: Index) -> None:
    try:
        _ = index.sparse.thesaurus  # a property: reading it loads the file
        index.embedder.embed_query("opvarmning")
    except Exception:  # the first real query meets the same problem and reports it
        log.warning("warming up the query path failed", exc_info=True)
    # What is loaded now (models, word lists, thesaurus: ≈300,000 objects) lives as long as
    # the server. Python's full garbage collection walks every object each time: 160 ms
    # measured at this size, landing on whichever request triggered it (the /search p95 at
    # 100,000 passages doubled). Frozen, they are left out of every collection.
    gc.freeze()


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None) -> FastAPI:
    """Build the app. The index opens at start-up and closes at shutdown (it is locked to
    this process meanwhile). ``embedder`` lets tests share an already loaded model."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Opening recovers from a killed server: half-indexed documents and orphan passages
        # removed, upload folders cleared (search.recovery); its upload jobs then go on.
        index = Index.open(settings, role="server", embedder=embedder)
        readers = ReaderPool(settings, log_file=ingest_log(settings))
        state = AppState(settings=settings, index=index, searcher=Searcher(index), readers=readers)
        app.state.ops = state
        resume_jobs(state)
        # The thesaurus and the query model load at the first query (seconds): load them
        # now, beside the start.
        threading.Thread(target=_warm, args=(index,), name="warm-up", daemon=True).start()
        scheduler = SyncScheduler(state)
        scheduler.start()
        try:
            yield
        finally:
            # Running jobs and the sync round stop at their next batch of passages and go
            # on at the next start (round).
            scheduler.stop()
            stop_jobs(state, timeout=JOB_STOP_TIMEOUT_S)
            scheduler.join(JOB_STOP_TIMEOUT_S)
            readers.close()  # ends a file the sync is still reading: the round stops
            if not scheduler.join(JOB_STOP_TIMEOUT_S):
                log.warning("the sync thread did not stop; the index closes under it")
            index.close()

    app = FastAPI(
        title="ops-search",
        version=__version__,
        description="Search Danish public-sector documents on public-private cooperation "
        "(OPS): cited passages, documents, uploads.",
        lifespan=lifespan,
    )
    problems.install(app)
    # Added inside out: the upload gate runs before FastAPI reads any body, CatchAll answers
    # what escaped every handler, the audit records every answer to a write or a download
    # (the gate's refusals and CatchAll's 500s too), and the security headers go on every
    # answer, its 500 too.
    app.add_middleware(UploadGate, settings=settings)
    app.add_middleware(problems.CatchAll)
    app.add_middleware(AuditMiddleware, audit=AuditLog.in_dir(settings.log_dir))
    docs = (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url)
    app.add_middleware(SecurityHeaders, docs_paths=tuple(p for p in docs if p))
    app.include_router(health.router)
    app.include_router(search.router)
    app.include_router(documents.router)
    app.include_router(jobs.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return app
