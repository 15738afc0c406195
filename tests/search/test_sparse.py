"""The Danish BM25 sparse encoder: terms, stemming, compounds, stopwords, OCR folding, ids."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from search.sparse import (
    SparseEncoder,
    SparseVector,
    fold,
    surely_danish,
    surely_english,
    term_id,
)

ROOT = Path(__file__).resolve().parents[2]


def score(enc: SparseEncoder, query: str, passage: str) -> float:
    """What Qdrant computes, less the IDF factor: the dot product of query and passage."""
    q = dict(zip(enc.encode_query(query).indices, enc.encode_query(query).values, strict=True))
    p = enc.encode_passage(passage)
    return sum(q.get(i, 0.0) * v for i, v in zip(p.indices, p.values, strict=True))


# --------------------------------------------------------------------------- terms


def test_inflections_share_a_stem(sparse_encoder):
    terms = {tuple(sparse_encoder.terms(w)) for w in ("takst", "takster", "taksten", "taksterne")}
    assert len(terms) == 1 and len(next(iter(terms))) == 1


def test_hyphenated_compound_is_kept_whole_and_by_parts(sparse_encoder):
    terms = sparse_encoder.terms("offentlig-privat samarbejde")
    assert terms[:3] == ["offent-privat", "offent", "privat"]
    # A slash joins like a hyphen: "offentlige/private" is the same compound.
    assert sparse_encoder.terms("offentlige/private")[0] == "offent-privat"


def test_compound_query_matches_a_part_and_a_part_matches_the_compound(sparse_encoder):
    assert score(sparse_encoder, "offentlig-privat", "et privat tilbud") > 0
    assert score(sparse_encoder, "privat", "et offentlig-privat partnerskab") > 0
    whole = score(sparse_encoder, "offentlig-privat", "et offentlig-privat partnerskab")
    part = score(sparse_encoder, "offentlig-privat", "et privat tilbud")
    assert whole > part


def test_closed_compound_is_kept_whole_and_by_parts(sparse_encoder):
    assert sparse_encoder.terms("tillidskrise") == ["tillidskris", "tillid", "kris"]
    assert sparse_encoder.terms("kommunerne") == ["kommun"]  # not a compound


def test_a_simple_word_finds_a_compound_containing_it(sparse_encoder):
    passage = "Det har skabt en mindre tillidskrise mellem brugerne og kommunerne."
    assert score(sparse_encoder, "Hvorfor er tilliden svækket?", passage) > 0
    assert score(sparse_encoder, "plejefamilie", "uddanne professionelle plejefamilier") > 0
    assert score(sparse_encoder, "familier", "uddanne professionelle plejefamilier") > 0
    # Without the word list the same query finds nothing: the parts come from the splitter.
    assert score(SparseEncoder(), "Hvorfor er tilliden svækket?", passage) == 0


def test_signature_names_the_word_list(sparse_encoder):
    assert "compounds=danish:" in sparse_encoder.signature
    assert SparseEncoder().signature.endswith("compounds=off")


def test_stopwords_are_dropped_also_when_ocr_damaged(sparse_encoder):
    assert sparse_encoder.terms("og i at det er på også når være") == []
    assert sparse_encoder.terms("pa ogsa nar vaere sadan") == []  # OCR / no-æøå spellings
    assert sparse_encoder.terms("the of and to in a is for on with") == []
    assert len(sparse_encoder.terms("kvalitet pa socialomradet")) == 2
    # Content words spelt with æøå are not taken for stopwords by their folded form.
    assert sparse_encoder.terms("før nøgle") != []
    assert sparse_encoder.encode_query("hvad er det").indices == []


def test_question_words_are_not_search_terms(sparse_encoder):
    assert sparse_encoder.terms("Hvorfor er tilliden svækket?") == ["tillid", "svæk"]
    assert sparse_encoder.terms("Hvordan og hvornår, og hvilke kommuner?") == ["kommun"]


def test_numbers_and_possessives(sparse_encoder):
    assert sparse_encoder.terms("den 22. oktober 2018") == ["22", "oktob", "2018"]
    assert sparse_encoder.terms("1.200 kr. i afsnit 3.2") == ["1.200", "kr", "afsnit", "3.2"]
    kora = sparse_encoder.terms("KORA")
    assert sparse_encoder.terms("KORA's") == sparse_encoder.terms("KORAs") == kora == ["kora"]
    assert sparse_encoder.terms("LOS'") == sparse_encoder.terms("LOS") == ["los"]


def test_text_is_nfc_normalised_and_lowercased(sparse_encoder):
    decomposed = unicodedata.normalize("NFD", "Socialområdet SÅRBARE")
    assert decomposed != "Socialområdet SÅRBARE"
    assert sparse_encoder.terms(decomposed) == sparse_encoder.terms("socialområdet sårbare")


# --------------------------------------------------------------------------- OCR folding


@pytest.mark.parametrize(
    ("correct", "damaged"),
    [
        ("økonomisk", "gkonomisk"),
        ("fælles", "feelles"),
        ("fælles", "fzelles"),
        ("fælles", "faelles"),
        ("børn", "bgrn"),
        ("sårbare", "sarbare"),
        ("milepæl", "milepzel"),
        ("Sjælland", "Sjeelland"),
        ("fællesmøde", "feellesmgde"),
        ("høj", "hgj"),
        ("leverandører", "leverandgrer"),
        ("gøre", "ggre"),
    ],
)
def test_ocr_damaged_spelling_matches_the_correct_one(sparse_encoder, correct, damaged):
    assert sparse_encoder.terms(correct) != sparse_encoder.terms(damaged)  # plain: no match
    assert fold(correct.lower()) == fold(damaged.lower())
    assert score(sparse_encoder, correct, f"et {damaged} tilbud") > 0  # folded: a match
    assert score(sparse_encoder, damaged, f"et {correct} tilbud") > 0


def test_a_query_typed_without_æøå_finds_the_correct_spelling(sparse_encoder):
    assert score(sparse_encoder, "okonomisk born", "økonomisk ansvar for børn") > 0


def test_exact_matches_outweigh_folded_ones(sparse_encoder):
    exact = score(sparse_encoder, "økonomisk", "økonomisk ansvarlighed")
    folded = score(sparse_encoder, "økonomisk", "gkonomisk ansvarlighed")
    assert exact > folded > 0
    assert score(sparse_encoder, "økonomisk", "kvalitet og dialog") == 0


def test_folding_leaves_ordinary_g_alone():
    assert fold("forskningsprojekt") == "forskningsprojekt"  # ng
    assert fold("offentlig") == "offentlig"  # vowel before g
    assert fold("bygge") == "bygge"


# --------------------------------------------------------------------------- weights and ids


def test_passage_weights_are_bm25_saturation_without_idf():
    enc = SparseEncoder(k1=1.2, b=0.75, avg_len=1)
    v = enc.encode_passage("takst")  # tf 1, length = avg_len: (k1+1)/(1+k1) = 1
    assert len(v.indices) == 2 and v.values == pytest.approx([1.0, 1.0])  # plain + folded
    enc = SparseEncoder(avg_len=10)
    once = max(enc.encode_passage("takst tilbud kommune borger").values)
    thrice = max(enc.encode_passage("takst takst takst tilbud").values)
    assert once < thrice < 3 * once and thrice < enc.k1 + 1  # saturates
    short = enc.encode_passage("takst kommune").values[0]
    long = enc.encode_passage("takst " + " ".join(f"ord{i}" for i in range(40))).values
    assert max(long) < short  # longer passages weigh a term less (b)


def test_vectors_are_sorted_unique_and_empty_text_gives_empty(sparse_encoder):
    v = sparse_encoder.encode_passage("Takster og taksten for takst i 2018 på socialområdet.")
    assert isinstance(v, SparseVector)
    assert v.indices == sorted(set(v.indices)) and len(v.values) == len(v.indices)
    assert all(0 <= i < 2**31 for i in v.indices) and all(x > 0 for x in v.values)
    assert sparse_encoder.encode_passage("") == SparseVector([], [])
    assert sparse_encoder.encode_passage("og i at") == SparseVector([], [])


def test_query_weights_are_one_per_plain_term_and_less_for_folded(sparse_encoder):
    text = "takster takst økonomisk"
    q = sparse_encoder.encode_query(text)
    plain = {term_id(t) for lang in ("da", "en") for t in sparse_encoder.terms(text, lang)}
    weights = dict(zip(q.indices, q.values, strict=True))
    assert {i for i, w in weights.items() if w == 1.0} == plain
    assert set(weights.values()) == {0.5, 1.0}
    assert len(sparse_encoder.terms(text, "da")) == 3  # takst twice, økonom


def test_english_passages_are_stemmed_and_stopped_as_english(sparse_encoder):
    text = "Running the macros and recording them"
    assert sparse_encoder.terms(text, "en") == ["run", "macro", "record"]
    assert sparse_encoder.terms(text, "da") == ["running", "macro", "recording", "them"]
    assert sparse_encoder.terms("which would have been", "en") == []
    # Closed compounds are split in Danish only.
    assert sparse_encoder.terms("tillidskrise", "en") == ["tillidskris"]
    # Any other language is analysed as Danish, the collection's language.
    assert sparse_encoder.terms(text, "de") == sparse_encoder.terms(text, "da")


def _score(query: SparseVector, passage: SparseVector) -> float:
    weights = dict(zip(passage.indices, passage.values, strict=True))
    return sum(w * weights.get(i, 0.0) for i, w in zip(query.indices, query.values, strict=True))


def test_a_query_meets_english_and_danish_passages_in_their_own_stems(sparse_encoder):
    english = sparse_encoder.encode_passage("Recording a macro runs the recorder.", "en")
    as_danish = sparse_encoder.encode_passage("Recording a macro runs the recorder.", "da")
    query = sparse_encoder.encode_query("how do I record macros")
    # "record" meets "recording" and "recorder" only through English stems.
    assert _score(query, english) > _score(query, as_danish) > 0
    # A Danish question keeps meeting Danish passages through Danish stems.
    danish = sparse_encoder.encode_passage("Taksterne for tilbuddene fastsættes årligt.", "da")
    assert _score(sparse_encoder.encode_query("hvordan fastsættes taksten"), danish) > 0
    # Danish function words stay out of the query's English analysis too.
    assert sparse_encoder.encode_query("hvad er det").indices == []


def test_term_ids_are_the_same_in_another_process(sparse_encoder):
    text = "Økonomisk ansvarlighed i offentlig-privat samarbejde, KORA 2018"
    code = (
        "import json, sys; from search.sparse import SparseEncoder; "
        "v = SparseEncoder().encode_query(sys.argv[1]); print(json.dumps(v.indices))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code, text], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == sparse_encoder.encode_query(text).indices
    assert term_id("takst") != term_id("takst", "f")  # namespaces are apart


def test_encoding_from_many_threads_gives_the_same_vectors(sparse_encoder):
    texts = [f"takster {i} for børn og unge i gkonomisk ansvarlige tilbud" for i in range(200)]
    expected = [sparse_encoder.encode_passage(t) for t in texts]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(sparse_encoder.encode_passage, texts)) == expected


# --------------------------------------------------------------------------- highlights


def test_highlights_cover_inflected_words(sparse_encoder):
    text = "Taksterne for 2018 blev hævet, og takster for private tilbud følger."
    spans = sparse_encoder.highlight_spans(text, "takst")
    assert [text[s:e] for s, e in spans] == ["Taksterne", "takster"]


def test_highlights_are_ocr_and_compound_aware(sparse_encoder):
    text = "Et offentlig-privat partnerskab om gkonomisk ansvarlighed pa socialomradet."
    got = [text[s:e] for s, e in sparse_encoder.highlight_spans(text, "økonomisk på")]
    assert got == ["gkonomisk"]  # "pa" is a stopword, like "på"
    got = [text[s:e] for s, e in sparse_encoder.highlight_spans(text, "offentlig-privat")]
    assert got == ["offentlig-privat"]
    got = [text[s:e] for s, e in sparse_encoder.highlight_spans(text, "private")]
    assert got == ["privat"]
    text = "en mindre tillidskrise mellem brugerne"
    assert [text[s:e] for s, e in sparse_encoder.highlight_spans(text, "tilliden")] == ["tillid"]
    got = [text[s:e] for s, e in sparse_encoder.highlight_spans(text, "tillidskriser")]
    assert got == ["tillidskrise"]
    text = "Ifølge KORA's rapport"
    assert [text[s:e] for s, e in sparse_encoder.highlight_spans(text, "kora")] == ["KORA"]
    assert sparse_encoder.highlight_spans(text, "og i at") == []


def test_a_surely_danish_query_is_analysed_as_danish_only(sparse_encoder):
    danish = "Hvordan centrerer jeg teksten lodret midt på siden i et dokument?"
    english = "How do I centre the text vertically in the middle of the page?"
    keywords = "pakkemodel takster"  # too short to tell: both ways

    def plain_ids(text: str, langs: tuple[str, ...]) -> set[int]:
        return {term_id(t) for lang in langs for t in sparse_encoder.terms(text, lang)}

    def query_ids(text: str) -> set[int]:
        q = sparse_encoder.encode_query(text)
        return {i for i, w in zip(q.indices, q.values, strict=True) if w == 1.0}

    assert query_ids(danish) == plain_ids(danish, ("da",))
    assert query_ids(english) == plain_ids(english, ("da", "en"))
    assert query_ids(keywords) == plain_ids(keywords, ("da", "en"))
    assert plain_ids(english, ("en",)) - plain_ids(english, ("da",))  # English stems add terms


def test_surely_english_holds_for_english_questions_only():
    assert surely_english("How do I print a Writer document as a booklet to fold in the middle?")
    assert not surely_english("Hvordan udskriver jeg et dokument som en brochure?")
    # Keyword queries are too short to tell, whatever their words look like.
    assert not surely_english("pakkemodel takster")
    assert not surely_danish("How do I email a spreadsheet to someone who only has Excel?")


def test_a_danish_question_meets_an_english_passage_through_its_english_keywords(sparse_encoder):
    """A name in a Danish question is stemmed as Danish ("tjener" → "tjen"); the English
    passage that holds it was stemmed as English, so only the question's English analysis
    (the hybrid search's list among English passages) meets it."""
    passage = sparse_encoder.encode_passage(
        "A Skolelinux network needs one main server (hostname tjener, which means server).", "en"
    )
    question = "Hvad betyder værtsnavnet tjener, som hovedserveren får?"
    assert _score(sparse_encoder.encode_query(question), passage) == 0
    assert _score(sparse_encoder.encode_query_english(question), passage) > 0
    # Only the English analysis: no thesaurus synonyms, no Danish stems.
    assert "tjen" not in sparse_encoder.terms(question, "en")
    assert sparse_encoder.encode_query_english("hvad er det").indices == []
