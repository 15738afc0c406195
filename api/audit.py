"""Audit of writes (upload, delete) and of reads of originals (file downloads).

A middleware, so that every answer is recorded, whoever gave it: the route, a refused key
in a dependency or in the upload gate, a 404 for an unknown id, or a server error. An
upload's document ids come from its answer (the job lists them).
"""

from __future__ import annotations

import json
import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ops_search.audit import AuditLog, key_id, outcome_of

# (method, path pattern, route as logged)
AUDITED = (
    ("POST", re.compile(r"^/documents/?$"), "POST /documents"),
    ("DELETE", re.compile(r"^/documents/(?P<id>[^/]+)$"), "DELETE /documents/{id}"),
    ("GET", re.compile(r"^/documents/(?P<id>[^/]+)/file$"), "GET /documents/{id}/file"),
)
# An upload's answer is a job record (a few kB); more is not parsed for ids.
MAX_ANSWER_BYTES = 1 << 20
_DOC_ID = re.compile(r"^[0-9a-f]{16}$")


def _route(scope: Scope) -> tuple[str, str | None] | None:
    if scope["type"] != "http":
        return None
    path = scope.get("path", "").removeprefix(scope.get("root_path", ""))
    for method, pattern, route in AUDITED:
        if scope["method"] == method and (match := pattern.match(path)):
            given = match.groupdict().get("id")
            # Whatever was asked for is recorded, but only an id as such: a path is no place
            # for a client to write into the log.
            return route, given if given is None or _DOC_ID.match(given) else "(invalid)"
    return None


class AuditMiddleware:
    def __init__(self, app: ASGIApp, audit: AuditLog) -> None:
        self.app = app
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = _route(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        route, document_id = found
        who = key_id(Headers(scope=scope).get("x-api-key"))
        status = 500
        body: list[bytes] = []
        size = 0

        async def watch(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and route.startswith("POST"):
                if size < MAX_ANSWER_BYTES:
                    body.append(message.get("body", b""))
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            ids: list[str | None] = [document_id]
            extra: dict = {}
            if route.startswith("POST") and status < 400:
                ids, extra = _upload_ids(b"".join(body))
            for each in ids:
                self.audit.write(
                    key=who,
                    route=route,
                    document_id=each,
                    status=status,
                    outcome=outcome_of(status),
                    **extra,
                )


def _upload_ids(answer: bytes) -> tuple[list[str | None], dict]:
    """The document ids and job id of an accepted upload, from its answer."""
    try:
        job = json.loads(answer)
        ids = [f["document_id"] for f in job["files"]]
        return (ids or [None]), {"job": job["id"]}
    except (ValueError, KeyError, TypeError):
        return [None], {}
