"""``ops-search ingest --server URL``: send files to a running server instead of opening the
index (which the server holds). One code path: the server ingests them as uploads."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

from ingest.pipeline import discover
from ops_search.access import DEFAULT_COLLECTION
from ops_search.config import Settings


def upload_files(
    server: str, paths: list[Path], settings: Settings, collection: str = DEFAULT_COLLECTION
) -> bool:
    """Upload every supported file under ``paths`` and follow the jobs. True if all went in."""
    files, missing = discover(paths)
    for message in missing:
        print(f"FAILED  {message}", file=sys.stderr)
    key = settings.api_key.get_secret_value() if settings.api_key else ""
    ok = not missing
    with httpx.Client(base_url=server.rstrip("/"), timeout=600, headers={"X-API-Key": key}) as c:
        for path in files:
            with open(path, "rb") as fh:
                r = c.post(
                    "/documents",
                    files={"files": (path.name, fh)},
                    data={"collection": collection},
                )
            if r.status_code != 202:
                detail = _detail(r)
                print(f"FAILED  {path}: {detail}", file=sys.stderr)
                ok = False
                continue
            job = _follow(c, r.headers["location"])
            for f in job["files"]:
                print(f"{f['status']:<8}{path}: {f['message']}", file=sys.stderr)
                ok = ok and f["status"] in ("done", "unchanged")
    return ok


def _detail(response: httpx.Response) -> str:
    try:
        return response.json().get("detail") or response.text
    except ValueError:
        return f"HTTP {response.status_code}"


def _follow(client: httpx.Client, url: str) -> dict:
    while True:
        job = client.get(url).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.5)
