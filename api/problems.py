"""Errors as application/problem+json (RFC 9457) with a message a person can act on."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ops_search.errors import IngestError, NotFound, OpsSearchError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("ops_search.api")

TITLES = {
    400: "Bad request",
    401: "API key required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Upload too large",
    415: "Unsupported file type",
}


def problem(status: int, title: str, detail: str, **extra: object) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


class ApiProblem(Exception):
    def __init__(self, status: int, title: str, detail: str, headers: dict | None = None) -> None:
        self.status, self.title, self.detail, self.headers = status, title, detail, headers
        super().__init__(detail)

    def response(self) -> JSONResponse:
        response = problem(self.status, self.title, self.detail)
        for key, value in (self.headers or {}).items():
            response.headers[key] = value
        return response


def _describe(err: dict) -> str:
    where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path"))
    return f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", "invalid")


class CatchAll:
    """Answers an exception that no handler took with a problem+json 500, and logs it.

    Starlette's last-resort handler answers too, but then re-raises, and uvicorn drops the
    keep-alive connection, so the client's next request on it fails. No user input should
    get here: this is the net under the validation, not a substitute for it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("unhandled error in %s %s", scope["method"], scope["path"][:200])
            if started:
                raise  # half a response is out: the connection cannot be saved
            response = problem(
                500, "Server error", "An unexpected error occurred; it has been logged."
            )
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    """The exception handlers. (CatchAll is a middleware: api.app places it.)"""

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_describe(e) for e in exc.errors()]
        # The input is echoed by some messages: keep a hostile 1 MB value out of the answer.
        errors = [e if len(e) <= 300 else e[:300] + "…" for e in errors]
        return problem(422, "Invalid request", "; ".join(errors), errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = problem(exc.status_code, TITLES.get(exc.status_code, "Error"), str(exc.detail))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return problem(404, "Not found", str(exc))

    @app.exception_handler(IngestError)
    async def _ingest(request: Request, exc: IngestError) -> JSONResponse:
        return problem(422, "File not accepted", str(exc))

    @app.exception_handler(OpsSearchError)
    async def _ops(request: Request, exc: OpsSearchError) -> JSONResponse:
        return problem(500, "Server error", str(exc))
