"""Load on a real server: searches at high concurrency mixed with uploads and deletes.

Loopback only, bounded in count and time. Builds an index of corpus/ in a temporary folder
(the embedding cache is kept in ~/.cache/ops-search/load-bench, so a second run embeds
nothing), starts ``.venv/bin/ops-search serve`` on a free port and sends ``--searches``
searches at ``--concurrency`` (real questions, all three modes, some with filters or paging,
a few with invalid values that must be 4xx), while one writer uploads small new documents,
waits for their jobs and deletes them again. Prints status counts (there must be no 5xx),
search latency percentiles and the server's memory before, at peak and after.

    .venv/bin/python bench/load.py                         # 5,000 searches at 32
    .venv/bin/python bench/load.py --searches 500 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
KEY = "load-bench-key"
BAD = [  # values the API must refuse with a 4xx, never a 5xx
    {"date_from": "2013-02-30"}, {"year": "0000"}, {"date_to": "2013-13-99"},
    {"limit": "0"}, {"mode": "magic"}, {"document_id": "x" * 500},
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> tuple[float, float]:
    """RSS of the server process, and of it with its reader processes, in MB."""

    def one(p: int) -> float:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):  # a thread that just ended
            children += [int(c) for c in (task / "children").read_text().split()]
    own = one(pid)
    return own, own + sum(one(c) for c in children)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(len(ordered) * q / 100) - 1))]


def queries() -> list[str]:
    found = []
    for qrels in (ROOT.parent / "shared/eval/dev.jsonl", ROOT / "bench/qrels/holdout.jsonl"):
        if qrels.exists():
            found += [json.loads(line)["query"] for line in qrels.read_text().splitlines() if line]
    return found or ["takster for botilbud", "Hvad står forkortelsen KORA for?", "rammeaftale"]


def search_params(rng: random.Random, pool: list[str]) -> dict:
    params: dict = {"q": rng.choice(pool), "mode": rng.choice(["hybrid", "dense", "sparse"])}
    roll = rng.random()
    if roll < 0.02:
        params.update(rng.choice(BAD))
    elif roll < 0.15:
        params["year"] = "2013"
    elif roll < 0.25:
        params["doc_type"] = "rapport"
    elif roll < 0.35:
        params["offset"] = 10  # the next page: the query's embedding comes from the cache
    return params


async def run_load(url: str, args: argparse.Namespace, pid: int) -> dict:
    rng = random.Random(7)
    pool = queries()
    todo = [search_params(rng, pool) for _ in range(args.searches)]
    statuses: Counter = Counter()
    writes: Counter = Counter()
    latencies: list[float] = []
    peak = [0.0, 0.0]
    deadline = time.monotonic() + args.max_seconds
    limits = httpx.Limits(max_connections=args.concurrency + 4)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def searcher() -> None:
            while todo and time.monotonic() < deadline:
                params = todo.pop()
                started = time.perf_counter()
                r = await client.get("/search", params=params)
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[r.status_code] += 1

        async def writer() -> None:
            # One document at a time: new content, so each upload is read and embedded.
            n = 0
            while todo and n < args.uploads and time.monotonic() < deadline:
                n += 1
                text = f"Notat {n} om belastningsprøve {rng.random()}: takster for botilbud, "
                text += " ".join(rng.choice(pool) for _ in range(8))
                files = {"files": (f"belastning-{n}.txt", text.encode(), "text/plain")}
                r = await client.post("/documents", files=files, headers={"X-API-Key": KEY})
                writes[f"upload {r.status_code}"] += 1
                if r.status_code != 202:
                    continue
                job = r.json()
                while job["status"] in ("queued", "running"):
                    await asyncio.sleep(0.5)
                    job = (await client.get(r.headers["location"])).json()
                writes[f"job {job['status']}"] += 1
                doc = job["files"][0]["document_id"]
                r = await client.delete(f"/documents/{doc}", headers={"X-API-Key": KEY})
                writes[f"delete {r.status_code}"] += 1

        async def sampler() -> None:
            while todo:
                own, total = rss_mb(pid)
                peak[0], peak[1] = max(peak[0], own), max(peak[1], total)
                await asyncio.sleep(0.5)

        started = time.monotonic()
        tasks = [asyncio.create_task(searcher()) for _ in range(args.concurrency)]
        side = [asyncio.create_task(writer()), asyncio.create_task(sampler())]
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - started
        await asyncio.gather(*side)
    return {"statuses": statuses, "writes": writes, "latencies": latencies,
            "elapsed": elapsed, "peak": peak, "unsent": len(todo)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--uploads", type=int, default=20, help="At most this many uploads.")
    parser.add_argument("--max-seconds", type=float, default=900, help="Stop sending after.")
    parser.add_argument(
        "--cache-dir", type=Path, default=Path.home() / ".cache/ops-search/load-bench"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ops-load-") as tmp:
        env = {**os.environ, "OPS_DATA_DIR": str(Path(tmp) / "data"),
               "OPS_CACHE_DIR": str(args.cache_dir), "OPS_API_KEYS": KEY}  # fmt: skip
        cli = str(ROOT / ".venv/bin/ops-search")
        started = time.monotonic()
        subprocess.run([cli, "ingest", str(ROOT / "corpus")], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        print(f"index of corpus/ built in {time.monotonic() - started:.0f} s")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = open(Path(tmp) / "server.log", "w+")  # noqa: SIM115 (read after the run)
        server = subprocess.Popen([cli, "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=log)  # fmt: skip
        try:
            health = None
            while health is None:
                try:
                    health = httpx.get(url + "/health", timeout=5).json()
                except httpx.TransportError:
                    if server.poll() is not None:
                        log.seek(0)
                        sys.exit(f"the server stopped:\n{log.read()}")
                    time.sleep(0.3)
            for q in queries()[:5]:  # warm-up: the model's first calls are slow
                httpx.get(url + "/search", params={"q": q}, timeout=60)
            before = rss_mb(server.pid)
            print(
                f"index: {health['documents']} documents, {health['chunks']} chunks; "
                f"server RSS {before[0]:.0f} MB ({before[1]:.0f} MB with its readers)"
            )
            result = asyncio.run(run_load(url, args, server.pid))
            after = rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=60)
        log.seek(0)
        tracebacks = log.read().count("Traceback")
        log.close()

    lat, statuses = result["latencies"], result["statuses"]
    n = len(lat)
    print(f"searches: {n} in {result['elapsed']:.1f} s ({n / result['elapsed']:.1f}/s) at "
          f"concurrency {args.concurrency}" + (f", {result['unsent']} not sent (time limit)"
                                               if result["unsent"] else ""))  # fmt: skip
    print("status: " + ", ".join(f"{k} × {v}" for k, v in sorted(statuses.items())))
    print(f"latency: p50 {pct(lat, 50):.0f} ms, p95 {pct(lat, 95):.0f} ms, "
          f"p99 {pct(lat, 99):.0f} ms, max {max(lat):.0f} ms")  # fmt: skip
    print("writes: " + ", ".join(f"{k} × {v}" for k, v in sorted(result["writes"].items())))
    print(f"server RSS: before {before[0]:.0f} MB, peak {result['peak'][0]:.0f} MB, after "
          f"{after[0]:.0f} MB (with readers: {before[1]:.0f} / {result['peak'][1]:.0f} / "
          f"{after[1]:.0f} MB)")  # fmt: skip
    errors = sum(v for k, v in statuses.items() if k >= 500) + sum(
        v for k, v in result["writes"].items() if k.split()[1].startswith("5")
    )
    print(f"5xx: {errors}; tracebacks in the server log: {tracebacks}")
    sys.exit(1 if errors or tracebacks else 0)


if __name__ == "__main__":
    main()
