"""The Qdrant Edge engine (``qdrant_edge.EdgeShard``): an embedded shard in ``index_dir/edge``.
One of the engines behind :class:`search.store.Store`; the congruence suite proves them equal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ops_search.config import Settings
from search.store_types import (
    DATE_FIELD,
    DENSE,
    FLUSH_INTERVAL_S,
    KEYWORD_FIELDS,
    SPARSE,
    Cond,
    EngineLocked,
    FusionList,
    IndexInfo,
    PointData,
    fusion_lists,
    is_lock_error,
)

_HNSW_FULL_SCAN_THRESHOLD_KB = 10_000


class EdgeEngine:
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
            if is_lock_error(err):
                raise EngineLocked(str(err)) from err
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

    def _filter(self, conds: list[Cond]) -> Any:
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
            elif cond[0] == "empty":
                must.append(qe.IsEmptyCondition(cond[1]))
        return qe.Filter(must=must) if must else None

    def upsert(self, points: list[PointData]) -> None:
        qe = self._qe
        out = []
        for p in points:
            vec: dict[str, Any] = {DENSE: p.dense}
            if p.sparse is not None and p.sparse.indices:
                vec[SPARSE] = qe.SparseVector(p.sparse.indices, p.sparse.values)
            out.append(qe.Point(p.id, vec, p.payload))
        self._shard.update(qe.UpdateOperation.upsert_points(out))

    def delete(self, conds: list[Cond]) -> None:
        self._shard.update(self._qe.UpdateOperation.delete_points_by_filter(self._filter(conds)))

    def set_payload(self, conds: list[Cond], payload: dict) -> None:
        op = self._qe.UpdateOperation.set_payload_by_filter(self._filter(conds), payload)
        self._shard.update(op)

    def ensure_keyword_index(self, key: str) -> None:
        if key not in self._shard.info().payload_schema:
            keyword = self._qe.PayloadSchemaType.Keyword
            self._shard.update(self._qe.UpdateOperation.create_field_index(key, keyword))

    def flush(self, force: bool = True) -> None:
        if force or time.monotonic() - self._last_flush >= FLUSH_INTERVAL_S:
            self._shard.flush()
            self._last_flush = time.monotonic()

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
            lists = fusion_lists(
                dense=dense,
                sparse=sparse,
                rrf=rrf,
                conds=conds,
                english_conds=english_conds,
                english_sparse=english_sparse,
                english_dense=english_dense,
            )
            prefetches = [self._prefetch(fl, prefetch_limit, dense_params) for fl in lists]
            weights = [fl.weight for fl in lists]
            req = qe.QueryRequest(
                limit=limit,
                prefetches=prefetches,
                query=qe.Fusion.Rrf(k=rrf.k, weights=weights),
                with_payload=True,
            )
        return [(str(p.id), float(p.score), p.payload or {}) for p in self._shard.query(req)]

    def _prefetch(self, fl: FusionList, limit: int, dense_params):
        qe = self._qe
        if fl.using == DENSE:
            query = qe.Query.Nearest(fl.vector, using=DENSE)
            return qe.Prefetch(
                limit=limit, query=query, params=dense_params, filter=self._filter(fl.conds)
            )
        query = qe.Query.Nearest(qe.SparseVector(fl.vector.indices, fl.vector.values), using=SPARSE)
        return qe.Prefetch(limit=limit, query=query, filter=self._filter(fl.conds))

    def count(self, conds: list[Cond]) -> int:
        return self._shard.count(self._qe.CountRequest(exact=True, filter=self._filter(conds)))

    def facet(self, key: str, conds: list[Cond], limit: int) -> dict[str, int]:
        req = self._qe.FacetRequest(key, limit=limit, exact=True, filter=self._filter(conds))
        return {h.value: h.count for h in self._shard.facet(req).hits}

    def scroll(self, conds: list[Cond], batch: int) -> Iterator[tuple[str, dict]]:
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
