"""Glyphs pdfminer cannot map to Unicode ("(cid:N)"): read by pdfium or dropped, never indexed.

The fixture (``unmapped-glyphs.pdf``, built by ``tests/fixtures/build_fixtures.py``) sets page 1
in a Type 3 font like dvips's, whose æ and å pdfminer reads as "(cid:230)" and "(cid:229)" and
whose ø it misreads as "ł" (the last line in a copy of the font with an "ffi" ligature);
page 2 is Helvetica with two lone glyphs of that font: "×", and one pdfium too has no
printable character for.
"""

from __future__ import annotations

from collections import Counter

import pdfplumber
import pypdfium2 as pdfium
import pytest

from ingest.pipeline import extract
from ops_search.config import Settings
from tests.conftest import FIXTURES, read_document
from tests.fixtures import build_fixtures as fx

UNMAPPED = FIXTURES / "unmapped-glyphs.pdf"
PAGE1 = " ".join(
    (fx.UNMAPPED_PAGE1_TITLE, *fx.UNMAPPED_PAGE1_LINES, fx.UNMAPPED_PAGE1_LIGATURE_LINE)
)
PAGE2 = " ".join((fx.UNMAPPED_PAGE2_HEADING, *fx.UNMAPPED_PAGE2_LINES))


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), _env_file=None)
    return read_document(UNMAPPED, settings)


def test_the_fixture_holds_glyphs_pdfminer_cannot_map_and_pdfium_can():
    with pdfplumber.open(UNMAPPED) as pdf:
        first, second = (page.extract_text() for page in pdf.pages)
    assert "bel(cid:230)gningen p(cid:229) botilbud" in first and "dialogmłdet" in first
    assert "fastsættes (cid:215)" in second and "rammeaftalen. (cid:28)" in second
    pdf = pdfium.PdfDocument(str(UNMAPPED))
    try:
        assert "belægningen på botilbud" in pdf[0].get_textpage().get_text_range()
    finally:
        pdf.close()


def test_text_in_a_font_pdfminer_cannot_map_is_read_as_pdfium_reads_it(document):
    assert flat(document.page_text(1)) == PAGE1


def test_a_ligature_glyph_of_such_a_font_keeps_all_its_letters(document):
    assert "de officielle takster" in flat(document.page_text(1))


def test_a_lone_unmapped_glyph_takes_pdfiums_character(document):
    assert f"fastsættes {fx.UNMAPPED_PAGE2_TIMES} hvert år" in flat(document.page_text(2))


def test_an_unmapped_glyph_pdfium_cannot_read_either_is_dropped(document):
    times = f" {fx.UNMAPPED_PAGE2_TIMES}"
    assert flat(document.page_text(2)).replace(times, "") == PAGE2


def test_pages_with_unmapped_glyphs_keep_their_layout_analysis(document):
    assert document.degraded_pages == {}
    headings = [(b.page, b.text) for b in document.blocks if b.kind == "heading"]
    assert (2, fx.UNMAPPED_PAGE2_HEADING) in headings


def test_no_placeholder_reaches_a_chunk_and_chunks_cite_their_text(settings):
    extraction = extract(UNMAPPED, settings)
    assert extraction.error is None
    document, chunks = extraction.document, extraction.chunks
    assert chunks and not any("(cid:" in chunk.text for chunk in chunks)
    assert "belægningen på botilbud" in " ".join(chunk.text for chunk in chunks)
    for chunk in chunks:
        assert chunk.text == document.text[chunk.char_start : chunk.char_end]
        first = document.pages[chunk.page_start - 1]
        assert first.char_start <= chunk.char_start < first.char_end


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
@pytest.mark.parametrize("media_box", [b"0 0 595 842", b"100 50 695 892"])
def test_glyphs_are_matched_on_rotated_pages_and_boxes_away_from_the_origin(
    settings, tmp_path, rotate, media_box
):
    path = tmp_path / "turned.pdf"
    path.write_bytes(fx.build_unmapped_glyphs(rotate=rotate, media_box=media_box))
    document = read_document(path, settings)
    # The reading order of a turned page is not this test's business: its characters are.
    assert Counter(document.page_text(1).replace(" ", "").replace("\n", "")) == Counter(
        PAGE1.replace(" ", "")
    )


def test_an_unmapped_glyph_pdfium_places_a_little_off_takes_its_character_by_rank():
    """reledpar's Greek font: an unmapped zero-width glyph ("v", typeset before "ε" at the
    same origin). pdfium's origins drift from pdfminer's along the line (0.13 pt by the
    middle: their glyph advances differ in the last digits), beyond the exact match; the
    glyph was dropped ("οερ" for "οvερ"). Near enough, and with as many glyphs at pdfium's
    origin as at pdfminer's, the glyph takes the one of the same rank there."""
    from ingest.pdf_glyphs import PdfiumGlyphs, map_unmapped

    def char(text, x, width):
        return {"text": text, "fontname": "G", "matrix": (1, 0, 0, 1, x, 458.5),
                "x0": x, "x1": x + width}  # fmt: skip

    chars = [char("ο", 230.38, 5.76), char("(cid:118)", 236.136, 0.0),
             char("ε", 236.136, 4.7), char("ρ", 240.831, 5.15)]  # fmt: skip
    glyphs = object.__new__(PdfiumGlyphs)
    glyphs._glyphs = [(230.252, 458.5, 29, ord("ο")), (236.002, 458.5, 30, ord("v")),
                      (236.002, 458.5, 31, ord("ε")), (240.693, 458.5, 32, ord("ρ"))]  # fmt: skip
    glyphs._xs = [g[0] for g in glyphs._glyphs]
    assert "".join(c["text"] for c in map_unmapped(chars, glyphs)) == "οvερ"
    # A glyph pdfium has nothing for at that origin is still dropped, not given a neighbour's.
    glyphs._glyphs = [g for g in glyphs._glyphs if g[3] != ord("v")]
    glyphs._xs = [g[0] for g in glyphs._glyphs]
    assert "".join(c["text"] for c in map_unmapped(chars, glyphs)) == "οερ"


def test_glyphs_sharing_an_origin_each_take_their_own_character():
    """The same two glyphs where pdfium's origin matches pdfminer's exactly (a line's start):
    each takes its own character, not both of them ("οvεvερ")."""
    from ingest.pdf_glyphs import PdfiumGlyphs, map_unmapped

    placed = (("ο", 72.0), ("(cid:118)", 77.453), ("ε", 77.453), ("ρ", 82.1))
    chars = [{"text": t, "fontname": "G", "matrix": (1, 0, 0, 1, x, 458.5)} for t, x in placed]
    glyphs = object.__new__(PdfiumGlyphs)
    glyphs._glyphs = [(72.0, 458.5, 0, ord("ο")), (77.453, 458.5, 1, ord("v")),
                      (77.453, 458.5, 2, ord("ε")), (82.1, 458.5, 3, ord("ρ"))]  # fmt: skip
    glyphs._xs = [g[0] for g in glyphs._glyphs]
    assert "".join(c["text"] for c in map_unmapped(chars, glyphs)) == "οvερ"
