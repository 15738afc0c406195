"""Danish compound splitting: head + tail by a word list, conservative about endings."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from search.compounds import CompoundSplitter
from search.sparse import DANISH_STOPWORDS, SparseEncoder

WORDS = "tillid krise drift overenskomster pleje familier familie udvikl ingen ramme aftale"


@pytest.fixture
def small(tmp_path: Path) -> CompoundSplitter:
    path = tmp_path / "words"
    path.write_text("\n".join(WORDS.split()) + "\nrammeaftale\nmed\n", encoding="utf-8")
    return CompoundSplitter.from_file(path, DANISH_STOPWORDS)


@pytest.fixture(scope="module")
def wdanish(sparse_encoder: SparseEncoder) -> CompoundSplitter:
    """The splitter of the production encoder: wdanish, Danish stopwords, Snowball stems."""
    assert sparse_encoder.splitter is not None
    return sparse_encoder.splitter


def test_a_compound_of_two_listed_words_splits(small):
    assert small.split("plejefamilier") == ("pleje", "familier")
    assert small.split("rammeaftale") == ("ramme", "aftale")


def test_a_linking_s_or_e_stays_with_neither_part(small):
    assert small.split("tillidskrise") == ("tillid", "krise")
    assert small.split("driftsoverenskomster") == ("drift", "overenskomster")


def test_the_longest_tail_wins(small):
    # rammeaftale + familier would need an unlisted head; ramme + aftalefamilier is not a word.
    assert small.split("rammeaftaleprocesser") is None
    assert small.split("rammeaftalefamilier") == ("rammeaftale", "familier")


def test_short_words_unknown_parts_and_endings_do_not_split(small):
    assert small.split("tillid") is None  # shorter than nine letters
    assert small.split("udviklingen") is None  # "ingen" is an ending (and a stopword)
    assert small.split("kommunerne") is None
    assert small.split("pleje2familier") is None


def test_the_fingerprint_changes_with_the_word_list(small, tmp_path):
    other = tmp_path / "other"
    other.write_text("tillid\nkrise\n", encoding="utf-8")
    assert small.fingerprint != CompoundSplitter.from_file(other).fingerprint
    assert small.fingerprint.startswith("words:")


def test_an_inflected_simple_word_is_not_cut_in_its_ending(tmp_path):
    path = tmp_path / "words"
    path.write_text("taks\nterne\ntakst\n", encoding="utf-8")
    assert CompoundSplitter.from_file(path).split("taksterne") == ("taks", "terne")
    stemmed = CompoundSplitter.from_file(path, stem=lambda w: "takst")  # Snowball's stem
    assert stemmed.split("taksterne") is None


def test_an_inflected_form_splits_as_its_listed_base_with_the_ending_on_the_tail(tmp_path):
    path = tmp_path / "words"
    path.write_text("ramme\naftale\nrammeaftale\ninstitut\nioner\ninstitution\n", encoding="utf-8")
    splitter = CompoundSplitter.from_file(path)
    assert splitter.split("rammeaftalerne") == ("ramme", "aftalerne")
    # institution + er: the base does not split, so neither does its plural.
    assert splitter.split("institutioner") is None


def test_with_the_danish_word_list(wdanish):
    assert wdanish.split("tillidskrise") == ("tillid", "krise")
    assert wdanish.split("plejefamilier") == ("pleje", "familier")
    assert wdanish.split("kompetencedeling") == ("kompetence", "deling")
    assert wdanish.split("udviklingen") is None
    assert wdanish.split("kommunerne") is None
    assert wdanish.split("taksterne") is None
    assert wdanish.split("kommunalbestyrelsens") == ("kommunal", "bestyrelsens")
    # Inflected simple words and derivations in -skab/-hed are not compounds.
    assert wdanish.split("institutioner") is None
    assert wdanish.split("partnerskaber") is None
    assert wdanish.split("muligheder") is None


def test_a_missing_word_list_turns_splitting_off_with_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        assert CompoundSplitter.load(tmp_path / "nope") is None
    assert "compound splitting is off" in caplog.text and "wdanish" in caplog.text
    assert CompoundSplitter.load(None) is None
