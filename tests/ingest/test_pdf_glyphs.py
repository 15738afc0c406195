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
