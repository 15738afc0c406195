"""Thesaurus query expansion in the keyword channel: MyThes parsing, synonym weights, off
without a thesaurus, wired into the index from the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops_search.config import Settings
from search.index import Index
from search.sparse import SparseEncoder, _stem, danish_encoder
from search.thesaurus import WEIGHT, Thesaurus

MYTHES = """UTF-8
ark|2
|papir|papirark
|frimærkeark (underbegreb)|trykark (underbegreb)
lodret|1
(adj)|vertikal|ret op og ned|lige (daglig tale)
skidt|1
|lort (vulgær)|snavs
"""


@pytest.fixture(scope="module")
def thesaurus_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("thes") / "th_da_DK.dat"
    path.write_text(MYTHES, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def expanding(thesaurus_file) -> SparseEncoder:
    return danish_encoder(Settings().lexicon_path, thesaurus_file)


def score(enc: SparseEncoder, query: str, passage: str) -> float:
    """What Qdrant computes, less the IDF factor: the dot product of query and passage."""
    q = enc.encode_query(query)
    weights = dict(zip(q.indices, q.values, strict=True))
    p = enc.encode_passage(passage)
    return sum(weights.get(i, 0.0) * v for i, v in zip(p.indices, p.values, strict=True))


def test_mythes_entries_by_stem_without_hyponyms_vulgar_words_or_phrases(thesaurus_file):
    th = Thesaurus.from_file(thesaurus_file, _stem)
    assert th.synonyms(_stem("arket")) == {"papir", "papirark"}  # not the (underbegreb) ones
    assert th.synonyms(_stem("lodret")) == {"vertikal", "lige"}  # annotation dropped, no phrase
    assert th.synonyms(_stem("skidt")) == {"snavs"}
    assert th.synonyms("ukendt") == frozenset()


def test_a_synonym_finds_a_passage_the_query_shares_no_word_with(sparse_encoder, expanding):
    query, passage = "Hvordan fylder jeg arket ud?", "Læg papiret i bakken."
    assert score(sparse_encoder, query, passage) == 0
    assert score(expanding, query, passage) > 0
    # The query's own word outweighs its synonym.
    assert score(expanding, query, "Læg arket i bakken.") > score(expanding, query, passage)


def test_synonyms_weigh_a_fraction_of_an_original_term(sparse_encoder, expanding):
    plain = sparse_encoder.encode_query("lodret")
    expanded = expanding.encode_query("lodret")
    original = dict(zip(plain.indices, plain.values, strict=True))
    added = {
        i: v for i, v in zip(expanded.indices, expanded.values, strict=True) if i not in original
    }
    assert added and set(added.values()) <= {WEIGHT, WEIGHT * expanding.fold_weight}
    assert all(expanded.values[expanded.indices.index(i)] == v for i, v in original.items())


def test_compound_parts_are_expanded_too(sparse_encoder, expanding):
    # "kontorark" is split into kontor + ark; the part "ark" brings "papir".
    passage = "Læg papiret i bakken."
    assert score(sparse_encoder, "kontorarket", passage) == 0
    assert score(expanding, "kontorarket", passage) > 0


def test_expansion_is_off_without_a_thesaurus(tmp_path, sparse_encoder):
    missing = tmp_path / "no-such.dat"
    enc = danish_encoder(Settings().lexicon_path, missing)
    assert enc.thesaurus is None
    assert enc.encode_query("hele arket lodret") == sparse_encoder.encode_query("hele arket lodret")
    assert Settings(thesaurus="").thesaurus_path is None


def test_the_debian_thesaurus_is_read():
    path = Settings().thesaurus_path
    assert path is not None and path.exists(), "no Danish thesaurus: apt-get install mythes-da"
    th = Thesaurus.load(path, _stem)
    assert th is not None and len(th) > 20_000
    assert "vertikal" in th.synonyms(_stem("lodret"))
    assert "printe" in th.synonyms(_stem("udskrive"))


def test_the_index_expands_queries_from_the_settings(settings, thesaurus_file, embedder):
    on = settings.model_copy(update={"thesaurus": str(thesaurus_file)})
    with Index.open(on, role="test", embedder=embedder) as index:
        assert index.sparse.thesaurus is not None
        assert "papir" in index.sparse.thesaurus.synonyms("ark")
    off = settings.model_copy(update={"thesaurus": ""})
    with Index.open(off, role="test", embedder=embedder) as index:
        assert index.sparse.thesaurus is None


def test_the_thesaurus_is_read_at_the_first_query_not_when_the_encoder_is_made(
    tmp_path, thesaurus_file
):
    # Parsing takes seconds and only queries need it: `ops-search ingest` never pays for it.
    path = tmp_path / "th_da_DK.dat"
    enc = danish_encoder(Settings().lexicon_path, path)  # the file does not exist yet
    path.write_bytes(thesaurus_file.read_bytes())
    assert score(enc, "kontorarket", "Læg papiret i bakken.") > 0
