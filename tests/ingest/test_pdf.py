"""The PDF reader on real PDFs: corpus files and test fixtures."""

from __future__ import annotations

import shutil

import pytest

from ingest.pdf import PdfReader
from ops_search.errors import CorruptFile, EmptyFile, EncryptedPDF
from tests.conftest import CORPUS, FIXTURES, read_document
from tests.fixtures import build_fixtures as fx

KORA = CORPUS / "kora-2013-ops-specialiserede-socialomraade.pdf"


@pytest.fixture(scope="module")
def kora(corpus_document):
    return corpus_document(KORA.name)


def test_every_page_is_a_page(kora):
    assert kora.page_count == 13
    assert [p.number for p in kora.pages] == list(range(1, 14))


def test_running_header_and_numbered_footer_are_removed(kora):
    assert "Side 3 af 13" not in kora.text
    assert "Side" not in kora.page_text(13).split()[-3:]
    assert "KORA ·" not in kora.text


def test_page_text_is_the_text_of_that_page(kora):
    assert "Det Nationale Institut for Kommuners og Regioners Analyse og Forskning" in (
        kora.page_text(2)
    )
    assert "Projektet er blevet gennemført i perioden maj 2012" in " ".join(kora.text.split())


def test_headings_are_found_by_font_size(kora):
    headings = [b.text for b in kora.blocks if b.kind == "heading"]
    assert "1 Indledning" in headings
    assert "1.1 Offentlig-privat samspil (OPS) en del af løsningen?" in headings
    levels = {b.text: b.level for b in kora.blocks if b.kind == "heading"}
    assert (
        levels["1 Indledning"] < levels["1.1 Offentlig-privat samspil (OPS) en del af løsningen?"]
    )


def test_table_is_extracted_as_rows_of_cells(kora):
    tables = [b for b in kora.blocks if b.kind == "table"]
    table1 = next(t for t in tables if "Driftsoverenskomster" in t.text)
    assert table1.page == 6
    rows = table1.text.split("\n")
    assert rows[0].split(" | ")[1:] == [
        "Driftsoverenskomster",
        "Partnerskaber",
        "Markedsbaserede modeller",
    ]
    assert rows[1].startswith("Samarbejdsform | Købsaftale om drift af opgave")


def test_words_split_by_a_page_break_stay_on_their_pages(kora):
    assert kora.page_text(6).rstrip().endswith("driftsoverens-")
    assert kora.page_text(7).lstrip().startswith("komsterne")


def test_line_end_hyphenation_is_undone_but_real_hyphens_kept(settings):
    doc = read_document(FIXTURES / "hyphenated.pdf", settings)
    assert " ".join(doc.text.split()) == " ".join(fx.HYPHENATED_EXPECTED.split())
    assert "ﬁ" not in doc.text and "\u00ad" not in doc.text


def test_two_column_page_reads_left_column_before_right(settings):
    doc = read_document(FIXTURES / "two-column.pdf", settings)
    flat = " ".join(doc.text.split())
    left = flat.index(fx.TWO_COLUMN_LEFT_FIRST_SENTENCE)
    right = flat.index(fx.TWO_COLUMN_RIGHT_FIRST_SENTENCE)
    assert flat.index(fx.TWO_COLUMN_TITLE) < left < right
    expected = " ".join(fx.TWO_COLUMN_READING_ORDER.split())
    assert flat == expected


@pytest.mark.slow
def test_scanned_page_is_ocred_in_danish(settings):
    doc = read_document(FIXTURES / "scanned-dansk.pdf", settings)
    assert doc.pages[0].ocr
    assert all(b.ocr for b in doc.blocks)
    words = set(doc.text.replace(".", " ").split())
    for word in fx.SCANNED_AEOEAA_WORDS:
        assert word in words


def test_scanned_page_without_tesseract_is_reported_as_skipped(settings, monkeypatch):
    # Tesseract is an external program: hiding it from PATH is how a user's machine lacks it.
    monkeypatch.setenv("PATH", "/nonexistent")
    extracted = PdfReader().read(FIXTURES / "scanned-dansk.pdf", settings)
    assert extracted.blocks == []
    assert "OCR unavailable" in extracted.skipped_pages[1]
    assert "tesseract" in extracted.warnings[0]


@pytest.mark.parametrize(
    ("name", "error", "words"),
    [
        ("encrypted.pdf", EncryptedPDF, "encrypted PDF"),
        ("corrupt.pdf", CorruptFile, "corrupt PDF"),
        ("not-a-pdf.pdf", CorruptFile, "not a PDF"),
        ("empty.pdf", EmptyFile, "empty file"),
    ],
)
def test_bad_pdfs_raise_an_error_naming_file_and_problem(settings, name, error, words):
    with pytest.raises(error) as caught:
        PdfReader().read(FIXTURES / name, settings)
    assert str(FIXTURES / name) in str(caught.value)
    assert words in str(caught.value)


def test_metadata_title_and_type(kora):
    assert kora.doc_type == "rapport"
    assert kora.lang == "da"
    assert kora.date == "2013-09"


def test_pdf_reading_does_not_depend_on_file_name(settings, tmp_path):
    copy = tmp_path / "kopi uden endelse.pdf"
    shutil.copy(KORA, copy)
    assert read_document(copy, settings).text == read_document(KORA, settings).text


def test_chunk_page_anchors_are_exact_across_page_breaks(kora, settings):
    from ingest.chunk import Chunker

    chunks = Chunker(settings).chunk(kora)

    def page_of(offset: int) -> int:
        return next(p.number for p in kora.pages if p.char_start <= offset < p.char_end)

    crossing = [c for c in chunks if c.page_start != c.page_end]
    assert crossing, "some passages run over a page break"
    for c in chunks:
        assert c.page_start == page_of(c.char_start)
        assert c.page_end == page_of(c.char_end - 1)
    # a phrase known to be on page 8 is cited to page 8
    phrase = "Som et af flere bud på en løsning af velfærdssamfundets udfordringer"
    offset = kora.text.index(phrase)
    holder = next(c for c in chunks if c.char_start <= offset < c.char_end)
    assert holder.page_start <= 8 <= holder.page_end and page_of(offset) == 8
