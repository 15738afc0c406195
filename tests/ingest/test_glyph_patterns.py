"""A drawing's pattern of repeated letters is text for the document, not passages to index."""

from __future__ import annotations

import random

from ingest.glyph_patterns import is_glyph_pattern
from ingest.pipeline import extract

DANISH = (
    "Rammeaftalen fastsætter taksterne for de sociale tilbud i regionen. Kommunerne "
    "godkender aftalen hvert andet år, og KKR Sjælland følger op på udgifterne."
)


def pattern(letters: str, glyphs: int, seed: int = 1) -> str:
    """Runs of 1–7 letters drawn from ``letters``, as a moiré or hatching reads."""
    rnd = random.Random(seed)
    runs, n = [], 0
    while n < glyphs:
        run = "".join(rnd.choice(letters) for _ in range(rnd.randint(1, 7)))
        runs.append(run)
        n += len(run)
    return " ".join(runs)


def test_a_few_letters_repeated_are_a_pattern():
    assert is_glyph_pattern(pattern("b", 200))
    assert is_glyph_pattern(pattern("rs", 200))
    assert is_glyph_pattern(pattern("TF", 200).replace("T", "t"))  # case does not count


def test_language_numbers_and_short_runs_are_not():
    assert not is_glyph_pattern(DANISH)
    assert not is_glyph_pattern(" ".join(str(n % 13) for n in range(200)))  # a number table
    assert not is_glyph_pattern("ord " * 100)  # three letters: a word, however repeated
    assert not is_glyph_pattern("b bb b")  # too little to tell
    assert not is_glyph_pattern(pattern("b", 200) + " Figur 3")  # a label among the glyphs


def test_pattern_passages_are_left_out_of_the_index_with_a_warning(settings, tmp_path):
    path = tmp_path / "moire.txt"
    path.write_text(f"{DANISH}\n\n{pattern('b', 3000)}\n\n{DANISH}\n", encoding="utf-8")
    result = extract(path, settings)
    assert result.error is None
    assert result.chunks, "the Danish text is indexed"
    assert all(not is_glyph_pattern(c.text) for c in result.chunks)
    assert "Rammeaftalen" in " ".join(c.text for c in result.chunks)
    assert "bbb" in result.document.text  # the document keeps what the file holds
    (warning,) = [w for w in result.document.warnings if "pattern" in w]
    assert str(path) in warning and "left out of the index" in warning


def test_a_file_of_nothing_but_a_pattern_is_refused_as_without_text(settings, tmp_path):
    path = tmp_path / "moire.txt"
    path.write_text(pattern("b", 3000), encoding="utf-8")
    result = extract(path, settings)
    assert result.chunks == []
    assert result.error and "no text found" in result.error and str(path) in result.error
