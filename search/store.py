"""The vector store's facade. Only the store's own modules import a Qdrant package: this one
(through its engines), ``store_edge.py`` and ``store_client.py``; the value types are in
``store_types.py``, the folder lock in ``store_lock.py``.

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
- payload indexes: keyword on ``document_id``, ``doc_type``, ``lang``, ``kind``, ``collection``
  and ``source`` (with prefix matching), datetime on ``date`` (ranges on ISO dates). An index
  written before collections gets the ``collection`` index and, on every chunk without one,
  the default collection when it is opened (:func:`_adopt_collections`);
- access: ``Filters.visible`` (the collections a reader may see) is a payload condition of the
  query itself, in every prefetch, count and facet: never a filter on results afterwards, so
  limits, counts and facets are those of what the reader may see.

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
import shutil
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ops_search.access import DEFAULT_COLLECTION
from ops_search.config import Settings
from ops_search.errors import IndexLocked, ModelMismatch, OpsSearchError
from ops_search.models import Chunk
from search.store_client import ClientEngine
from search.store_edge import EdgeEngine
from search.store_lock import LOCK_FILE, DirLock, locked_message
from search.store_types import (
    COLLECTION_FIELD,
    DATE_FIELD,
    DENSE,
    FACET_KEYS,
    FLUSH_INTERVAL_S,
    KEYWORD_FIELDS,
    SCHEMA_VERSION,
    SPARSE,
    Cond,
    Engine,
    EngineLocked,
    EngineName,
    Filters,
    IndexInfo,
    Mode,
    PointData,
    Rrf,
    SparseVector,
    StoredPoint,
    conditions,
    rrf_score,
)

__all__ = [
    "COLLECTION_FIELD", "DATE_FIELD", "DENSE", "FACET_KEYS", "FLUSH_INTERVAL_S",
    "KEYWORD_FIELDS", "LOCK_FILE", "SCHEMA_VERSION", "SPARSE", "EngineName", "Filters",
    "IndexInfo", "Mode", "SparseVector", "Store", "StoredPoint", "rrf_score",
]  # fmt: skip

INFO_FILE = "index.json"
UPSERT_BATCH = 256
ENGLISH = "en"  # the language code chunks carry for English
_TIE_MARGIN = 4  # extra results fetched so ties at the limit are cut by id, the same everywhere
# Each hybrid prefetch holds max(limit, PREFETCH_MIN) passages. Fusing deeper lists (4 × limit)
# moved one question of 110 by one rank (10th → 9th) on the three development sets and cost
# half of a hybrid query's time in the engine at 100,000 passages (bench/query_latency.py).
PREFETCH_MIN = 50
_METADATA_KEY = "ops_search"


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
        engine: Engine,
        settings: Settings,
        info: IndexInfo,
        lock: DirLock | None,
        location: str,
    ) -> None:
        self._engine: Engine | None = engine
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
        lock = DirLock(index_dir, role)
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
            engine: Engine
            try:
                if settings.engine == "edge":
                    engine = EdgeEngine(index_dir / "edge", settings, info)
                else:
                    client_engine = ClientEngine.local(index_dir / "local", settings.collection)
                    try:
                        if not client_engine.exists():
                            client_engine.create(settings, info, metadata=None)
                    except BaseException:
                        client_engine.close()
                        raise
                    engine = client_engine
            except EngineLocked as err:
                raise IndexLocked(locked_message(index_dir, None)) from err
            try:
                _adopt_collections(engine)
            except BaseException:
                engine.close()
                raise
        except BaseException:
            lock.release()
            raise
        return cls(engine, settings, info, lock, str(index_dir))

    @classmethod
    def _open_server(cls, settings: Settings, info: IndexInfo, rebuild: bool) -> Store:
        engine = ClientEngine.server(settings)
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
            _adopt_collections(engine)
        except BaseException:
            engine.close()
            raise
        return cls(engine, settings, info, None, where)

    @classmethod
    def destroy(cls, settings: Settings) -> None:
        """Delete the index (embedded: its folders and index.json; server: the collection)."""
        if settings.engine == "server":
            engine = ClientEngine.server(settings)
            try:
                engine.drop()
            finally:
                engine.close()
            return
        index_dir = Path(settings.index_dir)
        if not index_dir.exists():
            return
        lock = DirLock(index_dir, "destroy")
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

    def _e(self) -> Engine:
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
                PointData(
                    id=_point_id(chunks[i].id),
                    dense=windows[i].tolist(),
                    sparse=_check_sparse(sparse[i]),
                    payload=chunks[i].model_dump(),
                )
                for i in range(start, stop)
            ]
            engine.upsert(batch)
        engine.flush(force=False)

    def set_collection(self, document_id: str, collection: str) -> None:
        """Move a document's chunks into ``collection`` (their payload only: no re-embedding)."""
        engine = self._e()
        engine.set_payload([("any", "document_id", [document_id])], {COLLECTION_FIELD: collection})
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
        sparse_weight: float | None = None,
        english_weight: float | None = None,
        english_sparse: SparseVector | None = None,
        english_sparse_weight: float | None = None,
        english_dense: np.ndarray | None = None,
    ) -> list[StoredPoint]:
        """Ranked chunks. ``dense`` is one ``(dim,)`` query vector; a chunk's dense score is its
        best window's cosine (max-sim). ``hybrid`` fuses the dense and sparse channels with
        weighted RRF (settings rrf_k, dense_weight, sparse_weight; either channel may be
        missing/empty: then it ranks by the other alone, still on the RRF score scale).
        ``sparse_weight`` replaces the setting's for this query (a query the keyword channel
        serves less well, see :class:`search.query.Searcher`). ``english_weight`` adds to a
        hybrid search a third list at that weight: the dense query among English passages
        only (not when the filters ask for one language), so that a Danish question meets the
        answer on an untranslated English page; ``english_sparse`` at
        ``english_sparse_weight`` adds a fourth with it: the query's English keywords (English
        stems, as the English passages are analysed) among English passages only;
        ``english_dense`` (the question put into English) replaces ``dense`` in the third."""
        engine = self._e()
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if mode not in ("hybrid", "dense", "sparse"):
            raise ValueError(f"unknown mode {mode!r}")
        dense_list = self._query_row(dense, "dense query")
        english_dense_list = self._query_row(english_dense, "english_dense")
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
        conds = conditions(filters)
        if conds is None:
            return []  # the reader may see none of the collections asked for
        cfg = self._settings
        if sparse_weight is not None and not sparse_weight > 0:
            raise ValueError("sparse_weight must be positive")
        if english_weight is not None and not english_weight > 0:
            raise ValueError("english_weight must be positive")
        if english_sparse_weight is not None and not english_sparse_weight > 0:
            raise ValueError("english_sparse_weight must be positive")
        english_conds = None
        if english_weight and mode == "hybrid" and dense_list is not None:
            english_conds = _english_only(conds, filters)
        english_sparse_q = None
        if english_conds is not None and english_sparse is not None and english_sparse_weight:
            english_sparse_q = _check_sparse(english_sparse)
            if not english_sparse_q.indices:
                english_sparse_q = None
        fetch = limit + _TIE_MARGIN
        pl = max(prefetch_limit or PREFETCH_MIN, fetch)
        hits = engine.search(
            dense=dense_list,
            sparse=sparse_q,
            mode=mode,
            limit=fetch,
            prefetch_limit=pl,
            ef=max(cfg.hnsw_ef, fetch),
            rrf=Rrf(
                cfg.rrf_k,
                cfg.dense_weight,
                sparse_weight or cfg.sparse_weight,
                english_weight or 0.0,
                english_sparse_weight or 0.0,
            ),
            conds=conds,
            english_conds=english_conds,
            english_sparse=english_sparse_q,
            english_dense=english_dense_list,
        )
        hits.sort(key=lambda h: (-h[1], h[0]))
        return [StoredPoint(id=i, score=s, payload=p) for i, s, p in hits[:limit]]

    def _query_row(self, vector: np.ndarray | None, name: str) -> list[list[float]] | None:
        """A ``(dim,)`` query vector as the one-row multivector the engines take."""
        if vector is None:
            return None
        vec = np.asarray(vector, dtype=np.float32).reshape(-1)
        if vec.shape[0] != self._info.dim:
            raise ValueError(f"{name} must have {self._info.dim} dims, got {vec.shape[0]}")
        return [vec.tolist()]

    def count(self, filters: Filters | None = None) -> int:
        engine = self._e()
        conds = conditions(filters)
        return 0 if conds is None else engine.count(conds)

    def facets(self, key: str, filters: Filters | None = None) -> dict[str, int]:
        """Number of chunks per value of ``key`` (one of FACET_KEYS), most frequent first."""
        if key not in FACET_KEYS:
            raise ValueError(f"cannot facet on {key!r}; use one of {', '.join(FACET_KEYS)}")
        engine = self._e()
        conds = conditions(filters)
        if conds is None:
            return {}
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
        engine = self._e()
        conds = conditions(filters)
        if conds is None:
            return
        for i, payload in engine.scroll(conds, batch):
            yield StoredPoint(id=i, score=0.0, payload=payload)

    def document_chunks(self, document_id: str) -> list[StoredPoint]:
        """A document's chunks in text order (by char_start)."""
        points = list(self.scroll(Filters(document_id=[document_id])))
        points.sort(key=lambda p: (p.payload.get("char_start", 0), p.id))
        return points


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _english_only(conds: list[Cond], filters: Filters | None) -> list[Cond] | None:
    """``conds`` restricted to English passages, or None when the filters leave none or
    nothing else (then the other lists hold English passages alone already)."""
    wanted = set(filters.lang) if filters is not None and filters.lang else None
    if wanted is not None and (ENGLISH not in wanted or wanted == {ENGLISH}):
        return None
    return [c for c in conds if c[:2] != ("any", "lang")] + [("any", "lang", [ENGLISH])]


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


def _adopt_collections(engine: Engine) -> None:
    """An index written before collections: index the field, and put the chunks that have
    none in the default collection (once; afterwards no chunk lacks one)."""
    engine.ensure_keyword_index(COLLECTION_FIELD)
    missing = [("empty", COLLECTION_FIELD)]
    if engine.count(missing):
        engine.set_payload(missing, {COLLECTION_FIELD: DEFAULT_COLLECTION})
        engine.flush(force=True)


def _wipe_embedded(index_dir: Path) -> None:
    for name in ("edge", "local"):
        shutil.rmtree(index_dir / name, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        (index_dir / INFO_FILE).unlink()
