"""Queries: embed, ask the store (hybrid RRF, dense or sparse), then make results readable:
overlapping passages shown once, boilerplate repeated across documents shown once with a
count, at most N per document if asked, citations, highlights."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from ops_search.models import Gloss, Hit
from search.citation import citation_for
from search.dedupe import near_duplicates, shingles
from search.index import Index
from search.keyword_query import looks_like_keywords, opens_as_danish_question
from search.sparse import likely_danish, likely_english, surely_english
from search.store import Filters, StoredPoint

Mode = Literal["hybrid", "dense", "sparse"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "sparse")
FACET_KEYS = ("doc_type", "lang", "collection")
# Two passages of one document overlapping by more than this share of the shorter one
# are the same passage to a reader: the lower-ranked one is dropped.
DUPLICATE_OVERLAP = 0.5


@dataclass
class SearchRequest:
    query: str
    mode: Mode = "hybrid"
    limit: int = 10
    offset: int = 0
    filters: Filters = field(default_factory=Filters)
    per_document: int | None = None  # at most this many passages per document


@dataclass
class SearchResult:
    hits: list[Hit]
    took_ms: float
    total_candidates: int
    # The question as searched, when it was typed without æ, ø and å and mended.
    searched_for: str | None = None
    # The question put into the other language and searched that way too, when it was and a
    # passage in that language is among the hits.
    gloss: Gloss | None = None


def asks_in_english(query: str) -> bool:
    """Whether the searcher treats ``query`` as English: surely English, or a question that
    langdetect leans English ("Do I lose quality every time I open and re-save a JPEG photo?"
    is 0.57 English), unless it is a few search words or opens with a Danish question word
    ("Hvordan virker single sign-on med Active Directory?" is 0.57 English too)."""
    if surely_english(query):
        return True
    return (
        likely_english(query)
        and not looks_like_keywords(query)
        and not opens_as_danish_question(query)
    )


class Searcher:
    # Query embeddings are the slowest part of a search (tens of ms); paging ("vis flere"),
    # filtering and modes repeat the same query, so recent ones are kept.

    def __init__(self, index: Index) -> None:
        self.index = index
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._spelling = index.question_spelling()  # built here (≈0.2 s once), not on a search
        self._glossary = index.glossary()

    def _embed_query(self, query: str, english: bool | None = None) -> np.ndarray:
        """The query's vector, centred as English when ``english`` (default: when the query
        is surely English)."""
        key = query if english is None else f"{english}\0{query}"
        with self._cache_lock:
            if key in self._query_vectors:
                self._query_vectors.move_to_end(key)
                return self._query_vectors[key]
        # An English question is centred on the English mean (search.centering).
        raw = self.index.embedder.embed_query(query)
        if english is None:
            english = asks_in_english(query)
        vector = self.index.centering.query(raw, english=english)
        with self._cache_lock:
            self._query_vectors[key] = vector
            while len(self._query_vectors) > self.index.settings.query_cache:
                self._query_vectors.popitem(last=False)
        return vector

    def search(self, request: SearchRequest) -> SearchResult:
        started = time.perf_counter()
        typed = " ".join(request.query.split())
        query = self._mended(typed)
        searched_for = query if query != typed else None
        in_english = asks_in_english(query)  # decided once: centring, gloss and weights follow
        dense = self._embed_query(query, in_english) if request.mode != "sparse" else None
        sparse = self.index.sparse.encode_query(query) if request.mode != "dense" else None
        if sparse is not None and not sparse.indices and request.mode == "sparse":
            return SearchResult([], (time.perf_counter() - started) * 1000, 0, searched_for)
        if sparse is not None and not sparse.indices:
            sparse = None  # only stopwords: hybrid falls back to dense alone
        weight = english = english_sparse = english_sparse_weight = english_dense = None
        gloss = None
        if request.mode == "hybrid" and sparse is not None:
            weight = self._sparse_weight(query, in_english)
            # An English question put into Danish word by word (search.glossary) asks the
            # Danish passages in their own words too: its keywords join the keyword query,
            # its vector (Settings.danish_gloss_weight) the question's.
            settings = self.index.settings
            danish_gloss = None
            if in_english and settings.danish_gloss_weight:
                danish_gloss = self._gloss(query, english=False)
            if danish_gloss is not None and dense is not None:
                gloss = Gloss(lang="da", text=danish_gloss)
                sparse = self.index.sparse.encode_query(f"{query} {danish_gloss}")
                mixed = dense + settings.danish_gloss_weight * self._embed_query(
                    danish_gloss, english=False
                )
                dense = mixed / np.linalg.norm(mixed)
            # A question not surely English also asks the English passages apart, by meaning
            # and by its words stemmed as English (Settings.english_passage_weight,
            # english_keyword_weight): its answer may stand on an untranslated page.
            if not in_english:
                english = settings.english_passage_weight or None
                english_sparse_weight = settings.english_keyword_weight or None
                # Put into English word by word (search.glossary), the question meets the
                # English passages on their own terms, by meaning and by its keywords.
                english_gloss = self._gloss(query, english=True) if english else None
                if english_gloss is not None:
                    gloss = Gloss(lang="en", text=english_gloss)
                    english_dense = self._embed_query(english_gloss, english=True)
                # Where the answer looks English (its gloss meets an English passage nearly
                # as closely as the question a Danish one), the English lists weigh as much
                # as the others: found in the top five at 0.4, it is rarely first.
                if (
                    english
                    and dense is not None
                    and self._answer_looks_english(dense, english_dense, request.filters)
                ):
                    english = settings.english_answer_weight
                    if english_sparse_weight:  # a keyword list set off (0) stays off
                        english_sparse_weight = english
                if english and english_sparse_weight:
                    english_sparse = self.index.sparse.encode_query_english(
                        f"{query} {english_gloss}" if english_gloss else query
                    )
        wanted = request.offset + request.limit
        # Ask for more than shown: duplicates and per-document caps remove some. When they
        # removed so many that the page is short (boilerplate on hundreds of pages), ask once
        # more for many more.
        fetch = max(wanted * 3, 30)
        for attempt in range(2):
            points = self.index.store.query(
                dense=dense,
                sparse=sparse,
                mode=request.mode if sparse is not None else "dense",
                limit=fetch,
                filters=request.filters,
                sparse_weight=weight,
                english_weight=english,
                english_sparse=english_sparse,
                english_sparse_weight=english_sparse_weight,
                english_dense=english_dense,
            )
            kept = _distinct(points, request.per_document)
            if len(kept) >= wanted or len(points) < fetch or attempt:
                break
            fetch *= 8
        page = kept[request.offset : wanted]
        hits = [
            self._hit(request.offset + i + 1, point, query, repeats)
            for i, (point, repeats) in enumerate(page)
        ]
        if gloss is not None and not any(hit.lang == gloss.lang for hit in hits):
            gloss = None  # no passage in that language shown: nothing to explain to the reader
        took_ms = (time.perf_counter() - started) * 1000
        return SearchResult(hits, took_ms, len(kept), searched_for, gloss)

    def _answer_looks_english(
        self, dense: np.ndarray, english_dense: np.ndarray | None, filters: Filters
    ) -> bool:
        """Whether the question (``english_dense``: its English gloss) meets its closest
        English passage within ``Settings.english_answer_margin`` of its closest Danish one:
        then its answer is as likely on an English page, and the English lists weigh as much
        as the others. Both languages must be searchable under ``filters``."""
        settings = self.index.settings
        if not settings.english_answer_weight:
            return False
        closest = []
        for lang, vector in (
            ("da", dense),
            ("en", english_dense if english_dense is not None else dense),
        ):
            if filters.lang and lang not in filters.lang:
                return False
            points = self.index.store.query(
                dense=vector,
                sparse=None,
                mode="dense",
                limit=1,
                filters=replace(filters, lang=[lang]),
            )
            if not points:
                return False
            closest.append(points[0].score)
        danish, english = closest
        return english - danish > -settings.english_answer_margin

    def _gloss(self, query: str, *, english: bool) -> str | None:
        """The question put into English (``english``) or Danish word by word
        (search.glossary); None when no word was translated or there is no glossary."""
        if self._glossary is None:
            return None
        put = self._glossary.to_english_text if english else self._glossary.to_danish_text
        gloss, translated = put(query)
        return gloss if translated else None

    def _mended(self, query: str) -> str:
        """``query`` with the words of a Danish question typed without æ, ø and å mended
        ("okonomi" → "økonomi"; search.spelling): when a word was spelt with ae/oe/aa
        ("takster paa botilbud", too short for langdetect), or langdetect leans Danish.
        English is left as typed: "does" is no "døs", "keep paper" no "kæp papær"."""
        if self._spelling is None or asks_in_english(query):
            return query
        mended, typed = self._spelling.mend_question(query)
        if mended != query and (typed or likely_danish(query)):
            return mended
        return query

    def _sparse_weight(self, query: str, in_english: bool) -> float | None:
        """The keyword channel's fusion weight for this query, if not the usual one: less for
        an English question (its words rarely occur in Danish answers), more for a few bare
        search words (Settings.sparse_weight_english, sparse_weight_keywords)."""
        if in_english:
            return self.index.settings.sparse_weight_english
        if looks_like_keywords(query):
            return self.index.settings.sparse_weight_keywords
        return None

    def _hit(self, rank: int, point: StoredPoint, query: str, repeats: int = 0) -> Hit:
        chunk = point.chunk()
        return Hit(
            repeats=repeats,
            rank=rank,
            score=round(float(point.score), 6),
            chunk_id=chunk.id,
            text=chunk.text,
            kind=chunk.kind,
            lang=chunk.lang,
            doc_type=chunk.doc_type,
            date=chunk.date,
            highlights=self.index.sparse.highlight_spans(chunk.text, query, chunk.lang),
            citation=citation_for(chunk),
        )

    def facets(self, filters: Filters) -> dict[str, dict[str, int]]:
        """Passages per document type, language and collection under ``filters``, and per
        year over the catalog's documents in the collections ``filters.visible`` lets the
        reader see (from its cached list view, not from the store)."""
        out = {key: self.index.store.facets(key, filters) for key in FACET_KEYS}
        years: dict[str, int] = {}
        for doc in self.index.catalog.summaries(filters.visible):
            year = (doc["date"] or "")[:4]
            if year:
                years[year] = years.get(year, 0) + doc["chunks"]
        out["year"] = dict(sorted(years.items(), reverse=True))
        return out


def _distinct(points: list[StoredPoint], per_document: int | None) -> list[tuple[StoredPoint, int]]:
    """The points a reader should see, best first, each with the number of near-duplicate
    passages of other documents folded into it."""
    kept: list[StoredPoint] = []
    repeats: list[int] = []
    grams: list[frozenset[str]] = []
    spans: dict[str, list[tuple[int, int]]] = {}
    for point in points:
        # Payload fields directly: only the hits shown are validated into Chunks (in _hit).
        start, end = point.payload["char_start"], point.payload["char_end"]
        seen = spans.setdefault(point.payload["document_id"], [])
        if any(_overlap(start, end, s, e) for s, e in seen):
            continue
        mine = shingles(point.payload["text"])
        same = next((i for i, g in enumerate(grams) if near_duplicates(mine, g)), None)
        if same is not None:
            repeats[same] += 1
            continue
        if per_document is not None and len(seen) >= per_document:
            continue
        seen.append((start, end))
        kept.append(point)
        repeats.append(0)
        grams.append(mine)
    return list(zip(kept, repeats, strict=True))


def _overlap(a0: int, a1: int, b0: int, b1: int) -> bool:
    shared = min(a1, b1) - max(a0, b0)
    shorter = min(a1 - a0, b1 - b0)
    return shorter > 0 and shared / shorter > DUPLICATE_OVERLAP
