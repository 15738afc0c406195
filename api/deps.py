"""Dependencies injected into routes: settings, the open index, the searcher, who the reader
is (:func:`reader_access`: the collections a key or an anonymous reader may see) and who may
write; and the upload gate, which checks key and size before a body is read."""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import ApiProblem
from ingest.driver import ReaderPool
from ops_search.access import Access
from ops_search.config import Settings
from search.index import Index
from search.query import Searcher


@dataclass
class AppState:
    settings: Settings
    index: Index
    searcher: Searcher
    # Uploads are read by the same driver as `ops-search ingest`: worker processes under
    # the per-file time and memory limits, so no upload can take the server down with it.
    readers: ReaderPool
    # Writers (upload jobs, deletes) take turns on this lock, so a delete never interleaves
    # with a document half written. Reads need no lock: the engine serves them concurrently.
    lock: threading.RLock = field(default_factory=threading.RLock)
    jobs: dict = field(default_factory=dict)


def get_state(request: Request) -> AppState:
    return request.app.state.ops


StateDep = Annotated[AppState, Depends(get_state)]


def key_access(settings: Settings, given: str | None) -> Access | None:
    """The rights of the key ``given``, or None if it is no key of OPS_API_KEYS."""
    if not given:
        return None
    # Compare against every key in constant time, so timing reveals neither key nor match.
    found = None
    for key, access in settings.key_rights.items():
        if hmac.compare_digest(given.encode(), key.encode()):
            found = access
    return found


def write_key_problem(settings: Settings, given: str | None) -> ApiProblem | None:
    """Why a request with the X-API-Key ``given`` may not write, or None if it may."""
    if not settings.write_keys:
        return ApiProblem(
            403,
            "Writing is disabled",
            "No admin key is configured on this server: add KEY:admin to OPS_API_KEYS to "
            "enable uploads and deletes.",
        )
    if not given:
        return ApiProblem(
            401,
            "API key required",
            "Send your key in the X-API-Key header.",
            headers={"WWW-Authenticate": "X-API-Key"},
        )
    access = key_access(settings, given)
    if access is None:
        return ApiProblem(403, "Wrong API key", "The X-API-Key given is not valid.")
    if not access.write:
        return ApiProblem(403, "Not allowed", "This API key may read, not upload or delete.")
    return None


def require_write_key(
    state: StateDep, x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None
) -> None:
    refused = write_key_problem(state.settings, x_api_key)
    if refused is not None:
        raise refused


def reader_access(
    state: StateDep, x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None
) -> Access:
    """What the reader of this request may see: its key's collections, or the public ones.
    A wrong key is refused (not taken as no key), so a typo never looks like an empty index."""
    settings = state.settings
    if x_api_key:
        access = key_access(settings, x_api_key)
        if access is None:
            raise ApiProblem(403, "Wrong API key", "The X-API-Key given is not valid.")
        return access
    public = settings.public_access
    if not public.collections:
        raise ApiProblem(
            401,
            "API key required",
            "This server shows nothing without a key: send yours in the X-API-Key header.",
            headers={"WWW-Authenticate": "X-API-Key"},
        )
    return public


WriteAuth = Depends(require_write_key)
ReaderDep = Annotated[Access, Depends(reader_access)]


# --- the upload gate -----------------------------------------------------------------------

UPLOAD_PATHS = ("/documents", "/documents/")
# Room for the multipart framing around the files: part headers, boundaries, form fields.
MULTIPART_SLACK = 1024 * 1024


def upload_body_limit(settings: Settings) -> int:
    """Most bytes one upload request may send: the file limit, plus the form's framing. So
    one request holds at most one limit's worth in memory (the file being read) besides
    Starlette's in-memory part of the spooled files (≤ the body), 2 × the limit in all."""
    return settings.max_upload_mb * 1024 * 1024 + MULTIPART_SLACK


def too_large(settings: Settings) -> str:
    return (
        f"The upload is over the limit of {settings.max_upload_mb} MB per request: send "
        "large files one at a time, each under the limit."
    )


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once an upload streams past its limit. An HTTPException,
    because FastAPI turns any other error while parsing a form into a 400."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(413, too_large(settings))


class UploadGate:
    """Refuses an upload without a valid key, or too large, before its body is read.

    FastAPI parses a multipart form, spooling every file to disk, before it runs any
    dependency: left to the route's own key check, a client without a key could make the
    server receive and store any amount. The route keeps its dependency (and its docs)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.limit = upload_body_limit(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "").removeprefix(scope.get("root_path", ""))  # behind a proxy
        if not (scope["type"] == "http" and scope["method"] == "POST" and path in UPLOAD_PATHS):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refused = write_key_problem(self.settings, headers.get("x-api-key"))
        length = headers.get("content-length", "")
        if refused is None and length.isdigit() and int(length) > self.limit:
            refused = ApiProblem(413, "Upload too large", too_large(self.settings))
        if refused is not None:
            # Answered before reading: the server discards what the client still sends.
            await refused.response()(scope, receive, send)
            return

        received = 0

        async def counted() -> Message:
            # A chunked upload has no length to check up front: count it as it streams.
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise BodyTooLarge(self.settings)
            return message

        await self.app(scope, counted, send)
