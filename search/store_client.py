"""The qdrant-client engine: local mode (``QdrantClient(path=…)``, in ``index_dir/local``) or a
Qdrant server or cluster (``url=``); only construction differs. One of the engines behind
:class:`search.store.Store`; the congruence suite proves them equal."""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ops_search.config import Settings
from search.store_types import (
    DATE_FIELD,
    DENSE,
    KEYWORD_FIELDS,
    SPARSE,
    Cond,
    EngineLocked,
    EngineName,
    FusionList,
    IndexInfo,
    PointData,
    fusion_lists,
    is_lock_error,
)


class ClientEngine:
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
    def local(cls, path: Path, collection: str) -> ClientEngine:
        from qdrant_client import QdrantClient

        try:
            client = QdrantClient(path=str(path))
        except RuntimeError as err:
            if is_lock_error(err):
                raise EngineLocked(str(err)) from err
            raise
        return cls(client, "local", collection)

    @classmethod
    def server(cls, settings: Settings) -> ClientEngine:
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

    def _filter(self, conds: list[Cond]) -> Any:
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
            elif cond[0] == "empty":
                must.append(m.IsEmptyCondition(is_empty=m.PayloadField(key=cond[1])))
        return m.Filter(must=must) if must else None

    def upsert(self, points: list[PointData]) -> None:
        m = self._m
        out = []
        for p in points:
            vec: dict[str, Any] = {DENSE: p.dense}
            if p.sparse is not None and p.sparse.indices:
                vec[SPARSE] = m.SparseVector(indices=p.sparse.indices, values=p.sparse.values)
            out.append(m.PointStruct(id=p.id, vector=vec, payload=p.payload))
        with self._lock:
            self.client.upsert(self.collection, out, wait=True)

    def delete(self, conds: list[Cond]) -> None:
        selector = self._m.FilterSelector(filter=self._filter(conds))
        with self._lock:
            self.client.delete(self.collection, selector, wait=True)

    def set_payload(self, conds: list[Cond], payload: dict) -> None:
        selector = self._m.FilterSelector(filter=self._filter(conds))
        with self._lock:
            self.client.set_payload(self.collection, payload, points=selector, wait=True)

    def ensure_keyword_index(self, key: str) -> None:
        if self.name == "local":
            return  # local mode has no payload indexes
        if key not in (self.client.get_collection(self.collection).payload_schema or {}):
            self.client.create_payload_index(
                self.collection, key, self._m.PayloadSchemaType.KEYWORD, wait=True
            )

    def flush(self, force: bool = True) -> None:
        pass  # local mode persists on every write; the server acknowledges after its WAL

    def search(
        self,
        *,
        dense,
        sparse,
        mode,
        limit,
        prefetch_limit,
        ef,
        rrf,
        conds,
        english_conds=None,
        english_sparse=None,
        english_dense=None,
    ):
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
            lists = fusion_lists(
                dense=dense,
                sparse=sparse,
                rrf=rrf,
                conds=conds,
                english_conds=english_conds,
                english_sparse=english_sparse,
                english_dense=english_dense,
            )
            prefetch = [
                m.Prefetch(
                    query=self._query_vector(fl),
                    using=fl.using,
                    limit=prefetch_limit,
                    filter=self._filter(fl.conds),
                    params=dense_params if fl.using == DENSE else None,
                )
                for fl in lists
            ]
            weights = [fl.weight for fl in lists]
            fusion = m.RrfQuery(rrf=m.Rrf(k=rrf.k, weights=weights))
            kwargs = {"prefetch": prefetch, "query": fusion}
        with self._lock:
            res = self.client.query_points(
                self.collection, limit=limit, with_payload=True, with_vectors=False, **kwargs
            )
        return [(str(p.id), float(p.score), p.payload or {}) for p in res.points]

    def _query_vector(self, fl: FusionList):
        if fl.using == DENSE:
            return fl.vector
        return self._m.SparseVector(indices=fl.vector.indices, values=fl.vector.values)

    def count(self, conds: list[Cond]) -> int:
        with self._lock:
            return self.client.count(self.collection, self._filter(conds), exact=True).count

    def facet(self, key: str, conds: list[Cond], limit: int) -> dict[str, int]:
        with self._lock:
            res = self.client.facet(
                self.collection, key, facet_filter=self._filter(conds), limit=limit, exact=True
            )
        return {h.value: h.count for h in res.hits}

    def scroll(self, conds: list[Cond], batch: int) -> Iterator[tuple[str, dict]]:
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
