"""Queries on the corpus index: right passages, exact citations, filters, modes, grouping."""

from __future__ import annotations

import numpy as np
import pytest

from search.index import Index
from search.query import Searcher, SearchRequest, asks_in_english
from search.sparse import likely_english, surely_english
from search.store import PREFETCH_MIN, Filters, rrf_score
from tests.conftest import quiet_reporter

# An untranslated English page beside the Danish corpus, as real help collections have them.
ENGLISH_PAGE = """<html lang="en"><head><title>Rates under the framework agreement</title></head>
<body><h1>Rates under the framework agreement</h1>
<p>The framework agreement sets the rates that municipalities pay the operators of residential
care homes. Rates are revised once a year by the municipal contact council, and an operator
may appeal a revised rate within four weeks.</p>
<p>Operators publish their rates on the national register of social services, so that every
municipality buying a place sees the same price for the same service.</p>
</body></html>
"""


@pytest.fixture(scope="module")
def searcher(corpus_index, embedder):
    index = Index.open(corpus_index, role="test", embedder=embedder)
    yield Searcher(index)
    index.close()


@pytest.fixture(scope="module")
def mixed_searcher(corpus_index, embedder, tmp_path_factory):
    """The corpus index with one English page added."""
    import shutil

    root = tmp_path_factory.mktemp("mixed")
    shutil.copytree(corpus_index.data_dir, root / "data")
    page = root / "rates.html"
    page.write_text(ENGLISH_PAGE, encoding="utf-8")
    settings = corpus_index.model_copy(update={"data_dir": root / "data"})
    index = Index.open(settings, role="test", embedder=embedder)
    summary = index.ingest([page], quiet_reporter())
    assert summary.ingested == 1, summary
    yield Searcher(index)
    index.close()


def search(searcher, query, **kw):
    return searcher.search(SearchRequest(query=query, **kw)).hits


def flat(text: str) -> str:
    return " ".join(text.split())


def test_a_danish_question_finds_its_passage_first(searcher):
    hits = search(searcher, "Hvornår var tilmeldingsfristen til politikertemamødet den 7. april?")
    assert "Tilmeldingsfrist: 5. april 2017" in hits[0].text


def test_citation_pages_are_those_the_passage_lies_on(searcher):
    phrase = "Det Nationale Institut for Kommuners"  # printed on page 2 of the KORA report
    hits = search(searcher, "Hvad står forkortelsen KORA for?", limit=5)
    hit = next(h for h in hits if phrase in flat(h.text))
    assert hit.citation.source.endswith("kora-2013-ops-specialiserede-socialomraade.pdf")
    doc = searcher.index.catalog.get(hit.citation.document_id).document
    assert phrase in flat(doc.page_text(2))
    assert hit.citation.page_start <= 2 <= hit.citation.page_end

    def page_of(offset: int) -> int:
        return next(p.number for p in doc.pages if p.char_start <= offset < p.char_end)

    assert hit.citation.page_start == page_of(hit.citation.char_start)
    assert hit.citation.page_end == page_of(hit.citation.char_end - 1)
    pages = (f"s. {hit.citation.page_start}" if hit.citation.page_start == hit.citation.page_end
             else f"s. {hit.citation.page_start}–{hit.citation.page_end}")  # fmt: skip
    assert pages in hit.citation.label


def test_citation_spans_quote_the_document(searcher):
    hit = search(searcher, "IKA-prisen Aarhus")[0]
    doc = searcher.index.catalog.get(hit.citation.document_id).document
    assert doc.text[hit.citation.char_start : hit.citation.char_end] == hit.text


def test_english_query_finds_danish_text(searcher):
    hits = search(searcher, "job centre partnership training long-term unemployed as truck drivers")
    assert any("DEKRA" in h.text for h in hits[:3])


def _fused(
    searcher,
    query: str,
    sparse_weight: float,
    english_weight: float | None = None,
    english_keyword_weight: float | None = None,
) -> dict[str, float]:
    """The weighted RRF score each passage gets from the channels' own rankings, with the
    keyword channel weighted ``sparse_weight`` and, given ``english_weight``, the dense query
    among English passages as a third list, given ``english_keyword_weight`` too the query's
    English keywords among them as a fourth (each list as deep as the engine's prefetch); in
    both the question put into English word by word when the glossary translates a word. An
    English question's Danish gloss joins its keywords and (weighted) its vector."""
    index = searcher.index
    s = index.settings
    dense = searcher._embed_query(query)
    sparse = index.sparse.encode_query(query)
    danish = None
    if asks_in_english(query) and s.danish_gloss_weight:
        danish = searcher._gloss(query, english=False)
    if danish:  # an English question asks in Danish words too
        sparse = index.sparse.encode_query(f"{query} {danish}")
        mixed = dense + s.danish_gloss_weight * searcher._embed_query(danish, english=False)
        dense = mixed / np.linalg.norm(mixed)
    lists = [(s.dense_weight, dense, None, "dense", None),
             (sparse_weight, None, sparse, "sparse", None)]  # fmt: skip
    gloss = searcher._gloss(query, english=True) if english_weight else None
    if english_weight:
        english_dense = searcher._embed_query(gloss, english=True) if gloss else dense
        lists.append((english_weight, english_dense, None, "dense", Filters(lang=["en"])))
    if english_weight and english_keyword_weight:
        english = index.sparse.encode_query_english(f"{query} {gloss}" if gloss else query)
        lists.append((english_keyword_weight, None, english, "sparse", Filters(lang=["en"])))
    fused: dict[str, float] = {}
    for weight, d, sp, mode, flt in lists:
        found = index.store.query(dense=d, sparse=sp, mode=mode, limit=PREFETCH_MIN, filters=flt)
        for pos, point in enumerate(found):
            fused[point.id] = fused.get(point.id, 0.0) + rrf_score(pos, weight, s.rrf_k)
    return fused


def _hybrid_scored_as(searcher, query: str, expected: dict, other: dict) -> list:
    """The engine's hybrid top ten for ``query``, after checking that each hit has the score
    the replay ``expected`` gives it, and is nearer to it than to ``other``'s, which differs
    on some hit (else the test could not tell them apart)."""
    hits = searcher.search(SearchRequest(query=query, mode="hybrid", limit=10)).hits
    assert hits
    for hit in hits:
        mine, theirs = expected[hit.chunk_id], other.get(hit.chunk_id, 0.0)
        assert abs(hit.score - mine) <= abs(hit.score - theirs), hit.rank
        assert hit.score == pytest.approx(mine, abs=2e-3), hit.rank
    assert any(abs(expected[h.chunk_id] - other.get(h.chunk_id, 0.0)) > 1e-2 for h in hits)
    return hits


@pytest.mark.parametrize(
    "query, weight_name",
    [
        ("Why did the municipalities choose a public-private partnership for elder care?",
         "sparse_weight_english"),
        ("Hvorfor valgte kommunerne et offentlig-privat partnerskab om ældreplejen?",
         "sparse_weight"),
        ("pakkemodel takster", "sparse_weight_keywords"),
    ],
)  # fmt: skip
def test_the_keyword_channel_is_weighed_by_the_kind_of_query(searcher, query, weight_name):
    """An English question weighs the keyword channel less, a few bare search words more,
    a Danish question as usual."""
    s = searcher.index.settings
    names = ("sparse_weight", "sparse_weight_english", "sparse_weight_keywords")
    weights = {name: getattr(s, name) for name in names}
    assert len(set(weights.values())) == 3  # else the test could not tell them apart
    fused = {name: _fused(searcher, query, w) for name, w in weights.items()}
    hits = searcher.search(SearchRequest(query=query, mode="hybrid", limit=5)).hits
    assert hits
    # The replay ranks each channel on its own, so passages of equal keyword score may come
    # in another order than in the engine's fusion: a score may differ by one rank's share.
    for hit in hits:
        mine = fused[weight_name][hit.chunk_id]
        for name in names:
            assert abs(hit.score - mine) <= abs(hit.score - fused[name][hit.chunk_id]), name
        assert hit.score == pytest.approx(mine, abs=2e-3), hit.rank
    for name in set(names) - {weight_name}:
        assert any(abs(fused[weight_name][h.chunk_id] - fused[name][h.chunk_id]) > 1e-2
                   for h in hits), name  # fmt: skip


@pytest.mark.parametrize(
    "query, asks_english",
    [
        ("Hvor længe har en leverandør til at klage over en ny takst?", True),
        ("How long does an operator have to appeal a revised rate?", False),
    ],
)
def test_a_danish_question_also_asks_the_english_passages_apart(
    mixed_searcher, query, asks_english
):
    """A question that is not surely English fuses two more lists among English passages
    alone: the dense query (Settings.english_passage_weight) and its keywords analysed as
    English (english_keyword_weight); an English question needs neither."""
    s = mixed_searcher.index.settings
    weight = s.sparse_weight_english if not asks_english else s.sparse_weight
    assert s.english_passage_weight > 0 and s.english_keyword_weight > 0
    three = _fused(
        mixed_searcher, query, weight, s.english_passage_weight, s.english_keyword_weight
    )
    two = _fused(mixed_searcher, query, weight)
    expected, other = (three, two) if asks_english else (two, three)
    hits = _hybrid_scored_as(mixed_searcher, query, expected, other)
    # The English page answers both; the Danish question meets it only through the third
    # list (e5 ranks it below the corpus's Danish passages about rates).
    assert any(h.lang == "en" for h in hits)


@pytest.mark.parametrize(
    "query, looks_english",
    [
        ("Kan en operatør appellere en revideret pris inden for fire uger?", True),
        ("Hvad forpligter parterne sig til i partnerskabsaftalen?", False),
    ],
)
def test_where_the_answer_looks_english_the_english_lists_weigh_as_much_as_the_others(
    mixed_searcher, query, looks_english
):
    """A Danish question whose English gloss meets the English page nearly as closely as
    the question meets its closest Danish passage (Settings.english_answer_margin) has both
    English lists weighed english_answer_weight; one about the Danish corpus keeps their
    usual weights."""
    s = mixed_searcher.index.settings
    assert s.english_answer_weight > max(s.english_passage_weight, s.english_keyword_weight)
    heavy = _fused(
        mixed_searcher, query, s.sparse_weight, s.english_answer_weight, s.english_answer_weight
    )
    usual = _fused(
        mixed_searcher, query, s.sparse_weight, s.english_passage_weight, s.english_keyword_weight
    )
    expected, other = (heavy, usual) if looks_english else (usual, heavy)
    hits = _hybrid_scored_as(mixed_searcher, query, expected, other)
    assert (hits[0].lang == "en") == looks_english


def test_an_english_keyword_list_set_off_stays_off_where_the_answer_looks_english(
    mixed_searcher, monkeypatch
):
    s = mixed_searcher.index.settings
    monkeypatch.setattr(s, "english_keyword_weight", 0.0)
    query = "Kan en operatør appellere en revideret pris inden for fire uger?"
    dense_only = _fused(mixed_searcher, query, s.sparse_weight, s.english_answer_weight)
    both = _fused(
        mixed_searcher, query, s.sparse_weight, s.english_answer_weight, s.english_answer_weight
    )
    _hybrid_scored_as(mixed_searcher, query, dense_only, both)


def test_a_danish_question_asks_the_english_passages_in_english(mixed_searcher):
    """Its English lists search the question glossed word by word (search.glossary): the
    Danish words become the English ones an English page uses."""
    query = "Hvor længe har en leverandør til at klage over en ny takst?"
    gloss = mixed_searcher._gloss(query, english=True)
    assert gloss is not None
    words = set(gloss.split())
    assert {"supplier", "complain", "new"} <= words, gloss
    assert not words & {"hvor", "har", "en", "til", "at", "over"}, gloss  # function words out


def test_a_danish_only_filter_leaves_the_english_passages_out(mixed_searcher):
    query = "Hvor længe har en leverandør til at klage over en ny takst?"
    hits = search(mixed_searcher, query, limit=10, filters=Filters(lang=["da"]))
    assert hits and all(h.lang == "da" for h in hits)


@pytest.mark.parametrize(
    "query, english",
    [
        ("What do the parties commit themselves to under the partnership agreement?", True),
        ("Hvad forpligter parterne sig til i partnerskabsaftalen?", False),
    ],
)
def test_an_english_question_is_centred_on_the_english_mean(searcher, query, english):
    centering = searcher.index.centering
    assert centering.english_mean is not None  # the corpus index's model ships one
    raw = searcher.index.embedder.embed_query(query)
    used = searcher._embed_query(query)
    as_english, as_danish = centering.query(raw, english=True), centering(raw)
    assert not np.allclose(as_english, as_danish, atol=1e-3)  # else the test could not tell
    expected, other = (as_english, as_danish)[:: 1 if english else -1]
    assert np.allclose(used, expected, atol=1e-5) and not np.allclose(used, other, atol=1e-3)


def test_ocr_damaged_text_is_found_with_correct_spelling(searcher):
    hits = search(searcher, "fællesmøde 22. oktober kommunerne private leverandører", mode="sparse")
    assert "feellesmgde den 22. oktober" in flat(hits[0].text)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "sparse"])
def test_every_mode_returns_ranked_hits(searcher, mode):
    hits = search(searcher, "takster på det specialiserede socialområde", mode=mode, limit=5)
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))


def test_doc_type_filter(searcher):
    hits = search(searcher, "samarbejde", filters=Filters(doc_type=["rapport"]), limit=20)
    assert hits and {h.doc_type for h in hits} == {"rapport"}


def test_kind_filter_finds_only_decisions(searcher):
    hits = search(searcher, "hvad blev besluttet", filters=Filters(kind=["decision"]))
    assert hits and {h.kind for h in hits} == {"decision"}


def test_document_and_source_filters(searcher):
    doc_id = search(searcher, "IKA-prisen")[0].citation.document_id
    hits = search(searcher, "kommune", filters=Filters(document_id=[doc_id]), limit=20)
    assert {h.citation.document_id for h in hits} == {doc_id}
    hits = search(searcher, "kommune", filters=Filters(source_prefix="corpus/kora"), limit=20)
    assert hits and all(h.citation.source.startswith("corpus/kora") for h in hits)


def test_date_range_filter(searcher):
    hits = search(searcher, "samarbejde", filters=Filters(date_from="2013", date_to="2013"))
    assert hits and all(h.date and h.date.startswith("2013") for h in hits)
    assert search(searcher, "samarbejde", filters=Filters(date_from="1990", date_to="1991")) == []


def test_language_filter(searcher):
    assert search(searcher, "samarbejde", filters=Filters(lang=["en"])) == []
    assert search(searcher, "samarbejde", filters=Filters(lang=["da"]))


def test_at_most_n_passages_per_document(searcher):
    hits = search(searcher, "kommunerne", limit=10, per_document=1)
    docs = [h.citation.document_id for h in hits]
    assert len(docs) == len(set(docs)) and len(docs) >= 3


def test_overlapping_passages_are_not_shown_twice(searcher):
    hits = search(searcher, "offentlig-privat samspil specialiserede socialområde", limit=30)
    by_doc: dict[str, list[tuple[int, int]]] = {}
    for h in hits:
        for s, e in by_doc.get(h.citation.document_id, []):
            shared = min(e, h.citation.char_end) - max(s, h.citation.char_start)
            assert shared <= 0.5 * min(e - s, h.citation.char_end - h.citation.char_start)
        by_doc.setdefault(h.citation.document_id, []).append(
            (h.citation.char_start, h.citation.char_end)
        )


def test_highlights_mark_query_words_in_the_passage(searcher):
    hit = search(searcher, "pakkemodel takster")[0]
    marked = [hit.text[s:e].lower() for s, e in hit.highlights]
    # "pakkemodel" is a compound: its parts match too ("model" in "takstmodel").
    assert "pakkemodel" in marked and any(w.startswith("takst") for w in marked)
    assert all(w.startswith(("pakke", "takst", "model")) for w in marked)


def test_paging_continues_where_the_first_page_ended(searcher):
    first = search(searcher, "kommunerne", limit=5)
    second = search(searcher, "kommunerne", limit=5, offset=5)
    assert [h.rank for h in second] == [6, 7, 8, 9, 10]
    assert not {h.chunk_id for h in first} & {h.chunk_id for h in second}


def test_query_of_only_stopwords_still_answers_in_hybrid(searcher):
    assert search(searcher, "hvad er det")  # dense alone carries it
    assert search(searcher, "hvad er det", mode="sparse") == []


def test_an_english_question_asks_the_danish_passages_in_danish_words_too(mixed_searcher):
    """Its Danish gloss (search.glossary) joins its keywords and, at
    Settings.danish_gloss_weight, its vector; a Danish question has none."""
    gloss = mixed_searcher._gloss("Which key do I hold down to add another area?", english=False)
    assert gloss is not None
    words = gloss.split()
    assert "området" in words and any(w.startswith("tilføj") for w in words), gloss
    assert not set(words) & {"which", "do", "i", "to"}, gloss  # function words out
    assert mixed_searcher.index.settings.danish_gloss_weight > 0
    # test_the_keyword_channel_is_weighed_by_the_kind_of_query replays an English question's
    # search with its gloss: the engine's scores must match it.


def test_the_result_says_what_a_danish_question_was_searched_as_in_english(mixed_searcher):
    """The reader sees the English words the English passages were searched with, when an
    English passage is among the hits; a question with none shown gets no gloss."""
    result = mixed_searcher.search(
        SearchRequest(query="Hvor længe har en leverandør til at klage over en ny takst?")
    )
    assert any(h.lang == "en" for h in result.hits)
    assert result.gloss is not None and result.gloss.lang == "en"
    assert result.gloss.text == mixed_searcher._gloss(
        "Hvor længe har en leverandør til at klage over en ny takst?", english=True
    )
    only_danish = mixed_searcher.search(
        SearchRequest(
            query="Hvor længe har en leverandør til at klage over en ny takst?",
            filters=Filters(lang=["da"]),
        )
    )
    assert only_danish.hits and only_danish.gloss is None


def test_the_result_says_what_an_english_question_was_searched_as_in_danish(mixed_searcher):
    result = mixed_searcher.search(
        SearchRequest(query="What did the municipalities decide about the prices?")
    )
    assert result.gloss is not None and result.gloss.lang == "da"
    assert any(h.lang == "da" for h in result.hits)
    dense = mixed_searcher.search(
        SearchRequest(query="What did the municipalities decide about the prices?", mode="dense")
    )
    assert dense.gloss is None  # only hybrid search glosses


def test_a_question_leaning_english_is_asked_as_english_though_not_surely_english():
    """langdetect gives an English question with a product name or two less than 0.9
    ("JPEG", "re-save"): a question leaning English is still English to the searcher, a few
    search words leaning English ("basic shell starte program") are not."""
    leaning = "Do I lose quality every time I open and re-save a JPEG photo?"
    assert not surely_english(leaning) and asks_in_english(leaning)
    assert asks_in_english("How do I print a Writer document as a booklet to fold in the middle?")
    assert not asks_in_english("basic shell starte program")
    assert not asks_in_english("Hvordan udskriver jeg et dokument som en brochure?")
    # A Danish question full of English terms leans English too; its first word tells.
    danish = "Hvordan virker single sign-on med Active Directory?"
    assert likely_english(danish) and not asks_in_english(danish)


def test_a_question_leaning_english_is_glossed_into_danish_not_english(mixed_searcher):
    query = "Do I lose quality every time I open and re-save a JPEG photo?"
    result = mixed_searcher.search(SearchRequest(query=query))
    assert result.gloss is not None and result.gloss.lang == "da"
    assert "kvalitet" in result.gloss.text.split()
