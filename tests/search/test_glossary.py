"""A Danish question put into English word by word: the shipped glossary, a dictd
dictionary for everyday words, stems and compounds for forms neither lists."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from search.glossary import (
    GLOSSARY_PATH,
    STEM_TO_ENGLISH,
    TO_DANISH,
    TO_ENGLISH,
    Glossary,
    glossary_for,
    read_dictd,
)

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _b64(number: int) -> str:
    out = ""
    while True:
        number, digit = divmod(number, 64)
        out = _B64[digit] + out
        if not number:
            return out


def _write_dictd(folder: Path, entries: dict[str, str]) -> Path:
    """A dictd dictionary as Debian's FreeDict packages install it: BASE.index (headword,
    base64 offset, base64 length) and BASE.dict.dz (gzip-compatible) of the entries' text."""
    body, index = b"", []
    for headword, text in [("00databaseinfo", "about"), *entries.items()]:
        data = text.encode()
        index.append(f"{headword}\t{_b64(len(body))}\t{_b64(len(data))}")
        body += data
    base = folder / "test-dan-eng"
    base.with_name(base.name + ".index").write_text("\n".join(index) + "\n", encoding="utf-8")
    base.with_name(base.name + ".dict.dz").write_bytes(gzip.compress(body))
    return base


def _glossary(dictionary: dict[str, list[str]] | None = None, split=None) -> Glossary:
    entries = {
        TO_ENGLISH: {"billede": ["image", "picture"], "lodrette": ["vertical"], "lag": ["layer"]},
        TO_DANISH: {"dark": ["mørk"], "image": ["billede"]},
        STEM_TO_ENGLISH: {"streg": ["lines"]},
    }
    return Glossary(entries, split, dictionary)


def test_words_are_put_into_english_by_their_two_likeliest_translations():
    gloss, translated = _glossary().to_english_text("Lodrette billede")
    assert gloss == "vertical image picture"
    assert translated == 2


def test_no_more_than_two_senses_are_given():
    glossary = Glossary({TO_ENGLISH: {"små": ["lowercase", "small", "little"]}})
    assert glossary.english_words("små") == "lowercase small"


def test_function_and_question_words_are_left_out_and_unknown_words_kept():
    gloss, translated = _glossary().to_english_text("Hvordan fjerner jeg et lag i GIMP 2.10?")
    assert gloss == "fjerner layer GIMP 2.10"
    assert translated == 1


def test_an_inflected_form_is_found_by_its_stem():
    assert _glossary().english_words("stregerne") == "lines"


def test_a_dictionary_adds_everyday_words_by_stem_preferring_translations_the_help_uses():
    glossary = _glossary({"mørk": ["bleak", "dark", "dismal"], "langsom": ["slow"]})
    assert glossary.english_words("mørkeste") == "dark"  # "dark" is a word of the help
    assert glossary.english_words("langsom") == "slow"


def test_a_compound_is_put_into_english_by_its_parts():
    parts = {"billedlag": ("billed", "lag"), "billed": None}
    glossary = _glossary({"billed": ["picture"]}, split=parts.get)
    assert glossary.english_words("billedlag") == "picture layer"
    assert glossary.english_words("ukendtord") is None


def test_a_hyphenated_word_is_put_into_english_part_by_part_unless_the_list_has_it_whole():
    glossary = Glossary(
        {TO_ENGLISH: {"lodret": ["vertical"], "lag": ["layer"], "e-mail": ["email"]}}
    )
    assert glossary.to_english_text("lodret-lag") == ("vertical layer", 1)
    assert glossary.to_english_text("lodret-ukendt") == ("vertical ukendt", 1)  # parts kept
    assert glossary.to_english_text("e-mail") == ("email", 1)  # whole, not "e" and "mail"
    assert glossary.to_english_text("ukendt-ord 3-d") == ("ukendt-ord 3-d", 0)


def test_nothing_translated_is_counted_as_nothing():
    assert _glossary().to_english_text("GIMP XCF") == ("GIMP XCF", 0)


def test_a_dictd_dictionary_gives_each_headword_its_first_sense(tmp_path):
    base = _write_dictd(
        tmp_path,
        {
            "mørk": "mørk /mœɐ̯g/\n1. bleak, dark, dismal 2. dim\n",
            "fjerne": "fjerne /ˈfjɐːnə/\ndo away with, get rid of, remove\n",
            "bryde sig om": "bryde sig om\ncare about\n",
        },
    )
    entries = read_dictd(base)
    assert entries["mørk"] == ["bleak", "dark", "dismal"]
    assert entries["fjerne"] == ["do away with", "get rid of", "remove"]
    assert "bryde sig om" not in entries  # phrases are not words of a question
    assert _glossary(entries).english_words("fjerner") == "remove"  # single words first


def test_a_dictd_dictionary_s_danish_notes_are_no_translations(tmp_path):
    """FreeDict explains some senses in Danish between brackets; the note would put Danish
    words into the English gloss."""
    base = _write_dictd(
        tmp_path,
        {
            "abbed": "abbed\nabbot [forstander for et (større) munkekloster]\n",
            "arabisk": "arabisk\nArabic [det arabiske sprog, tale arabisk]\n",
            "alkoholfri": "alkoholfri\nnon\u2010alcoholic\n",
        },
    )
    entries = read_dictd(base)
    assert entries["abbed"] == ["abbot"]
    assert entries["arabisk"] == ["Arabic"]  # the note's comma splits nothing
    assert entries["alkoholfri"] == ["non-alcoholic"]


def test_the_shipped_glossary_knows_the_help_s_words():
    glossary = Glossary.from_file(GLOSSARY_PATH)
    assert glossary.english_words("billede").split()[0] == "image"
    assert glossary.english_words("markering").split()[0] == "selection"
    assert glossary.to_danish["layer"][0] == "lag"


def test_a_missing_dictionary_leaves_the_glossary_working(tmp_path, caplog):
    glossary = glossary_for(GLOSSARY_PATH, None, tmp_path / "absent")
    assert glossary is not None and glossary.english_words("billede").startswith("image")
    assert "absent" in caplog.text


def test_a_missing_glossary_glosses_nothing_and_says_so(tmp_path, caplog):
    assert glossary_for(tmp_path / "absent.tsv") is None
    assert "absent.tsv" in caplog.text


@pytest.mark.parametrize("line", ["billede\tda-en", "bare et ord"])
def test_a_malformed_glossary_line_is_refused(tmp_path, line):
    path = tmp_path / "glossary.tsv"
    path.write_text(f"# comment\n{line}\n", encoding="utf-8")
    with pytest.raises(ValueError):
        Glossary.from_file(path)
