"""A query of a few bare search words is told from a question (search.keyword_query)."""

from __future__ import annotations

import pytest

from search.keyword_query import MAX_WORDS, looks_like_keywords


@pytest.mark.parametrize(
    "query",
    [
        "pakkemodel takster",
        "jobsøgningsbank medarbejdere",
        "centrer tekst lodret side",
        "OPS-projekter Region Midtjylland",
        "pivottabel",
        "DEKRA truckcertifikat",
    ],
)
def test_a_few_bare_words_are_keywords(query):
    assert looks_like_keywords(query)


@pytest.mark.parametrize(
    "query",
    [
        "takster?",  # a question mark asks, however short
        "hvem driver bostederne",  # a question word first, without the mark
        "Hvordan indsætter jeg en tabel",
        "Hvornår blev aftalen underskrevet",
        "kan man flette celler",  # a yes/no question
        "How are tariffs set",
        "what is a pivot table",
    ],
)
def test_a_question_is_not_keywords(query):
    assert not looks_like_keywords(query)


def test_more_than_a_few_words_is_not_keywords():
    words = ["partnerskab", "takster", "kommune", "region", "leverandør", "aftale", "pris"]
    assert looks_like_keywords(" ".join(words[:MAX_WORDS]))
    assert not looks_like_keywords(" ".join(words[: MAX_WORDS + 1]))


@pytest.mark.parametrize("query", ["", "   ", "?!", "– –"])
def test_a_query_without_words_is_not_keywords(query):
    assert not looks_like_keywords(query)
