"""Dependencies injected into routes: settings, the open index, the searcher, auth."""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Header, Request

from api.problems import ApiProblem
from ingest.driver import ReaderPool
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


def _key_matches(given: str | None, keys: list[str]) -> bool:
    if not given:
        return False
    # Compare against every key in constant time, so timing reveals neither key nor match.
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given.encode(), key.encode())
    return matched


def require_write_key(
    state: StateDep, x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None
) -> None:
    keys = state.settings.api_key_list
    if not keys:
        raise ApiProblem(
            403,
            "Writing is disabled",
            "No API key is configured on this server: set OPS_API_KEYS to enable uploads "
            "and deletes.",
        )
    if not x_api_key:
        raise ApiProblem(
            401,
            "API key required",
            "Send your key in the X-API-Key header.",
            headers={"WWW-Authenticate": "X-API-Key"},
        )
    if not _key_matches(x_api_key, keys):
        raise ApiProblem(403, "Wrong API key", "The X-API-Key given is not valid.")


def require_read_key(
    state: StateDep, x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None
) -> None:
    if state.settings.read_requires_key:
        require_write_key(state, x_api_key)


WriteAuth = Depends(require_write_key)
ReadAuth = Depends(require_read_key)
