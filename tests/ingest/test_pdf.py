"""The PDF reader on real PDFs: corpus files and test fixtures."""

from __future__ import annotations

import logging
import shutil

import pdfplumber
import pypdfium2 as pdfium
import pytest

import ingest.pdf as pdf_reader
import ingest.pdfium_text as pdfium_reader
from ingest.pdf import PdfReader
from ingest.pdf_layout import PlainLine, _find_gutter
from ingest.pdf_plain import plain_blocks
from ops_search.errors import CorruptFile, EmptyFile, EncryptedPDF, IngestError
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


# --- one odd page must not cost the file -----------------------------------------------------

BEYOND_EDGE = FIXTURES / "beyond-page-edge.pdf"
INDEX_ERROR = "index 619 is out of bounds for axis 0 with size 597"


def flat(text: str) -> str:
    return " ".join(text.split())


def fail_layout_on_page_two(monkeypatch) -> None:
    """Make the gutter search raise on the page that holds ``BEYOND_EDGE_MARKER`` (page 2)."""
    original = pdf_reader._find_gutter

    def find_gutter(words, width, x0=0.0):
        if any(w["text"] == fx.BEYOND_EDGE_MARKER for w in words):
            raise IndexError(INDEX_ERROR)
        return original(words, width, x0)

    monkeypatch.setattr(pdf_reader, "_find_gutter", find_gutter)


def test_word_beyond_the_right_page_edge_costs_neither_page_nor_file(settings):
    doc = read_document(BEYOND_EDGE, settings)
    assert doc.degraded_pages == {}
    assert flat(doc.page_text(1)) == flat(fx.BEYOND_EDGE_PAGES[0])
    page2 = doc.page_text(2).replace(fx.BEYOND_EDGE_WORD, "")
    assert flat(page2) == flat(fx.BEYOND_EDGE_PAGES[1])


def test_two_column_page_whose_box_does_not_start_at_zero_reads_left_before_right(settings):
    doc = read_document(FIXTURES / "two-column-offset-box.pdf", settings)
    assert flat(doc.text) == flat(fx.TWO_COLUMN_READING_ORDER)


def test_gutter_search_measures_from_the_page_box_and_skips_words_outside_it():
    def word(x0, x1):
        return {"x0": x0, "x1": x1, "top": 0.0, "bottom": 10.0, "text": "ord"}

    box_x0, width = 1000.0, 600.0  # a page box from x = 1000 to 1600
    words = [word(1060 + i % 4 * 55, 1105 + i % 4 * 55) for i in range(30)]  # left column
    words += [word(1330 + i % 4 * 55, 1375 + i % 4 * 55) for i in range(30)]  # right column
    words += [word(900, 950), word(1700, 1800)]  # wholly outside the box, left and right
    gutter = _find_gutter(words, width, box_x0)
    assert gutter is not None and 1270 <= gutter <= 1330


def test_page_whose_layout_analysis_raises_is_read_as_plain_text_and_flagged(settings, monkeypatch):
    fail_layout_on_page_two(monkeypatch)
    doc = read_document(BEYOND_EDGE, settings)
    assert list(doc.degraded_pages) == [2]
    assert doc.degraded_pages[2] == (
        f"layout analysis failed (IndexError: {INDEX_ERROR}); read as plain text"
    )
    assert flat(doc.page_text(2).replace(fx.BEYOND_EDGE_WORD, "")) == flat(fx.BEYOND_EDGE_PAGES[1])
    assert flat(doc.page_text(1)) == flat(fx.BEYOND_EDGE_PAGES[0])


def test_layout_failure_is_logged_with_its_traceback_naming_file_and_page(
    settings, monkeypatch, caplog
):
    fail_layout_on_page_two(monkeypatch)
    with caplog.at_level(logging.ERROR, logger="ops_search.ingest"):
        PdfReader().read(BEYOND_EDGE, settings)
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.name == "ops_search.ingest"
    assert str(BEYOND_EDGE) in record.getMessage() and "page 2" in record.getMessage()
    assert record.exc_info and record.exc_info[0] is IndexError


def test_page_pdfplumber_cannot_read_at_all_is_read_with_pypdfium2(settings, monkeypatch):
    fail_layout_on_page_two(monkeypatch)

    def unreadable(page):
        raise ValueError("pdfminer cannot parse this page's content stream")

    monkeypatch.setattr(pdf_reader, "plumber_lines", unreadable)
    doc = read_document(BEYOND_EDGE, settings)
    assert doc.degraded_pages[2].endswith("; read as plain text with pypdfium2")
    page2 = doc.page_text(2).replace(fx.BEYOND_EDGE_WORD, "")
    assert flat(page2) == flat(fx.BEYOND_EDGE_PAGES[1])


def test_failed_page_without_any_text_is_ocred(settings, monkeypatch):
    fail_layout_on_page_two(monkeypatch)
    monkeypatch.setattr(pdf_reader, "plumber_lines", lambda page: [])
    monkeypatch.setattr(pdf_reader.PdfiumPages, "lines", lambda self, number: [])
    asked = []

    def ocr(path, numbers, settings, on_done=None):
        asked.extend(numbers)
        return {n: "Tekst læst med OCR." for n in numbers}

    monkeypatch.setattr(pdf_reader, "ocr_pages", ocr)
    doc = read_document(BEYOND_EDGE, settings)
    assert asked == [2]
    assert doc.pages[1].ocr and doc.page_text(2) == "Tekst læst med OCR."
    assert doc.degraded_pages[2].endswith("; no text found, read by OCR")


def test_page_whose_block_building_raises_is_read_as_plain_text_and_flagged(settings, monkeypatch):
    original = pdf_reader._page_blocks

    def page_blocks(page, *args):
        if page.number == 2:
            raise KeyError("size")
        return original(page, *args)

    monkeypatch.setattr(pdf_reader, "_page_blocks", page_blocks)
    doc = read_document(BEYOND_EDGE, settings)
    assert doc.degraded_pages == {2: "block building failed (KeyError: 'size'); read as plain text"}
    assert fx.BEYOND_EDGE_MARKER in doc.page_text(2)


@pytest.mark.parametrize(
    ("step", "warning"),
    [
        ("_remove_running_lines", "running headers and footers were left in the text"),
        ("_font_levels", "headings were not detected"),
    ],
)
def test_document_wide_step_that_raises_costs_only_that_step(settings, monkeypatch, step, warning):
    def broken(*args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(pdf_reader, step, broken)
    extracted = PdfReader().read(BEYOND_EDGE, settings)
    assert any(warning in w and "ZeroDivisionError" in w for w in extracted.warnings)
    assert {b.page for b in extracted.blocks} == {1, 2}


def test_bug_the_fallbacks_cannot_absorb_is_not_reported_as_a_corrupt_file(settings, monkeypatch):
    fail_layout_on_page_two(monkeypatch)

    def buggy(*args):
        raise TypeError("unsupported operand type(s)")

    monkeypatch.setattr(pdf_reader, "plain_blocks", buggy)
    with pytest.raises(TypeError) as caught:
        PdfReader().read(BEYOND_EDGE, settings)
    assert not isinstance(caught.value, IngestError)


def test_plain_text_fallback_splits_paragraphs_at_line_gaps_and_undoes_hyphenation():
    lines = [
        PlainLine("Kommunerne har indgået et samar-", 100, 110),
        PlainLine("bejde om botilbud.", 114, 124),
        PlainLine("Næste afsnit begynder efter en tom linje.", 142, 152),
    ]
    blocks = plain_blocks(lines, 7, set())
    assert [(b.page, b.text) for b in blocks] == [
        (7, "Kommunerne har indgået et samarbejde om botilbud."),
        (7, "Næste afsnit begynder efter en tom linje."),
    ]


# --- a file pdfminer cannot parse -------------------------------------------------------------

DAMAGED = FIXTURES / "damaged-catalog.pdf"


def test_file_pdfminer_cannot_parse_is_read_with_pypdfium2(settings):
    # the fixture's point: pdfminer refuses it
    with pytest.raises(Exception, match="Invalid dictionary construct"), pdfplumber.open(DAMAGED):
        pass
    doc = read_document(DAMAGED, settings)
    assert doc.reader == "pypdfium2"
    assert [flat(doc.page_text(n)) for n in (1, 2)] == list(fx.DAMAGED_CATALOG_PAGES)
    assert "Invalid dictionary construct" in doc.warnings[0] and "pypdfium2" in doc.warnings[0]


def test_page_pypdfium2_cannot_read_in_the_fallback_is_skipped_not_the_file(settings, monkeypatch):
    original = pdfium_reader.pdfium_lines
    calls = []

    def pdfium_lines(page):
        calls.append(page)
        if len(calls) == 2:
            raise pdfium.PdfiumError("Failed to load page.")
        return original(page)

    monkeypatch.setattr(pdfium_reader, "pdfium_lines", pdfium_lines)
    doc = read_document(DAMAGED, settings)
    assert doc.pages[1].skipped == "pypdfium2 cannot read the page (Failed to load page.)"
    assert flat(doc.page_text(1)) == fx.DAMAGED_CATALOG_PAGES[0]


def test_encrypted_file_pdfminer_cannot_parse_is_still_reported_as_encrypted(settings, monkeypatch):
    def cannot_parse(path):
        raise ValueError("Invalid dictionary construct")

    monkeypatch.setattr(pdf_reader.pdfplumber, "open", cannot_parse)
    with pytest.raises(EncryptedPDF, match=r"encrypted PDF \(password required\)"):
        PdfReader().read(FIXTURES / "encrypted.pdf", settings)


def test_file_no_reader_can_parse_is_corrupt_naming_both_readers(settings):
    with pytest.raises(CorruptFile) as caught:
        PdfReader().read(FIXTURES / "corrupt.pdf", settings)
    assert "corrupt PDF (Unexpected EOF; pypdfium2: " in str(caught.value)


# --- accents typeset as glyphs of their own ------------------------------------------------------


def test_accent_glyphs_set_beside_their_letters_are_read_as_accented_letters(settings):
    tex = FIXTURES / "tex-accents.pdf"
    with pdfplumber.open(tex) as pdf:
        raw = pdf.pages[0].extract_text()
    assert "fu¨r" in raw and "pa˚" in raw and "na¨ıve" in raw  # what the text layer holds
    doc = read_document(tex, settings)
    assert flat(doc.text) == flat(" ".join((*fx.TEX_ACCENTS_LINES, fx.TEX_ACCENTS_CODE)))


def test_a_graphics_heavy_page_is_read_by_pdfium_and_flagged(settings, tmp_path):
    """A plotted figure of tens of thousands of path pieces: pdfminer would spend seconds on
    the page, so it is read as plain text by pypdfium2 and says so."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    canv = Canvas(buf, pagesize=A4, invariant=1)
    canv.drawString(72, 760, "Side et handler om takster for botilbud.")
    canv.showPage()
    canv.drawString(72, 760, "Figur 2 viser udgifterne pr. kommune.")
    for i in range(pdf_reader.MAX_LAYOUT_OBJECTS + 500):
        canv.line(72 + i % 400, 100 + i % 500, 73 + i % 400, 101 + i % 500)
    canv.showPage()
    canv.save()
    pdf = tmp_path / "figur.pdf"
    pdf.write_bytes(buf.getvalue())

    doc = read_document(pdf, settings)
    assert list(doc.degraded_pages) == [2]
    assert "graphics-heavy page" in doc.degraded_pages[2]
    assert "pypdfium2" in doc.degraded_pages[2]
    assert "Figur 2 viser udgifterne pr. kommune." in flat(doc.page_text(2))
    assert "takster for botilbud" in flat(doc.page_text(1))


def test_a_page_of_few_paths_with_very_many_segments_is_read_by_pdfium(settings, tmp_path):
    """A plotted curve (a fractal, a field line) is one path of hundreds of thousands of
    segments: few objects, but pdfminer would spend seconds on it."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    canv = Canvas(buf, pagesize=A4, invariant=1)
    canv.drawString(72, 760, "Figur 3: udgifter pr. borger.")
    path = canv.beginPath()
    path.moveTo(72, 100)
    for i in range(pdf_reader.MAX_LAYOUT_SEGMENTS + 500):
        path.lineTo(72 + i % 400, 100 + (i * 7) % 500)
    canv.drawPath(path)
    canv.showPage()
    canv.save()
    pdf = tmp_path / "kurve.pdf"
    pdf.write_bytes(buf.getvalue())

    doc = read_document(pdf, settings)
    assert "graphics-heavy page" in doc.degraded_pages[1]
    assert "path segments" in doc.degraded_pages[1]
    assert flat(doc.text) == "Figur 3: udgifter pr. borger."


# --- glyphs printed more than once ---------------------------------------------------------------


def test_overprinted_glyphs_are_read_once(settings, tmp_path):
    """Fake bold as producers make it: each glyph drawn three times, 0.3 pt apart; and a
    figure label drawn twice in place. (pypdfium2, which reads graphics-heavy pages, drops
    such simple copies itself; the same grid drops the ones it keeps.)"""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    canv = Canvas(buf, pagesize=A4, invariant=1)
    for dx in (0, 0.3, 0.6):
        canv.drawString(72 + dx, 760, "Rammeaftalen fastsætter taksterne for 2025.")
    canv.drawString(72, 700, "Figur 1 viser botilbud.")
    canv.drawString(300, 600, "Roskilde")
    canv.drawString(300, 600, "Roskilde")
    canv.showPage()
    canv.save()
    pdf = tmp_path / "fed.pdf"
    pdf.write_bytes(buf.getvalue())
    with pdfplumber.open(pdf) as plumber:
        assert "RRRaaammm" in plumber.pages[0].extract_text()  # what the text layer holds

    doc = read_document(pdf, settings)
    expected = "Rammeaftalen fastsætter taksterne for 2025. Figur 1 viser botilbud. Roskilde"
    assert flat(doc.text) == expected


def test_glyphs_side_by_side_are_not_copies():
    from ingest.pdf_overprint import drop_overprinted

    def char(text, x, y=100.0):
        return {"text": text, "x0": x, "doctop": y, "fontname": "F", "size": 10.0, "upright": 1}

    # "ll" in "alle": the same letter a glyph's width apart stays twice; a copy 0.4 pt away
    # (fake bold) and one on the line below neither merges nor is lost.
    chars = [char("a", 0), char("l", 5), char("l", 8), char("l", 8.4), char("l", 8, y=112)]
    kept = drop_overprinted(chars)
    assert [(c["text"], c["x0"], c["doctop"]) for c in kept] == [
        ("a", 0, 100.0), ("l", 5, 100.0), ("l", 8, 100.0), ("l", 8, 112)]  # fmt: skip
    assert drop_overprinted(kept) is kept


def test_small_glyphs_along_a_slanted_line_are_not_copies():
    """A calendar's days set small along a slanted face (pst-calendar): the two "1"s of
    "11" stand 0.7 pt across and 0.9 pt down from each other, each within a point of the
    other, yet 1.2 pt apart, a quarter of their 4.6-point size: two glyphs, not one."""
    from ingest.pdf_overprint import drop_overprinted

    def char(x, y, size=4.65):
        return {"text": "1", "x0": x, "doctop": y, "fontname": "F", "size": size, "upright": 1}

    two = [char(234.54, 564.72), char(235.22, 565.66)]
    assert drop_overprinted(two) is two
    assert drop_overprinted([char(245.05, 579.18), char(245.05, 579.18)]) == [char(245.05, 579.18)]
    assert len(drop_overprinted([char(8, 100, size=10), char(8.4, 100.3, size=10)])) == 1  # bold


# --- text set at an angle ------------------------------------------------------------------------


def _turned_pdf(tmp_path, draw) -> object:
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    canv = Canvas(buf, pagesize=A4, invariant=1)
    draw(canv)
    canv.showPage()
    canv.save()
    pdf = tmp_path / "drejet.pdf"
    pdf.write_bytes(buf.getvalue())
    return pdf


@pytest.mark.parametrize("angle", [90, 180, 270, 45])
def test_turned_text_is_read_along_its_baseline(settings, tmp_path, angle):
    def draw(canv):
        canv.drawString(72, 790, "Tabel 3 viser taksterne.")
        canv.saveState()
        canv.translate(300, 400)
        canv.rotate(angle)
        canv.drawString(0, 0, "Takst for botilbud 2025")
        canv.restoreState()

    doc = read_document(_turned_pdf(tmp_path, draw), settings)
    assert doc.text.split("\n\n") == ["Tabel 3 viser taksterne.", "Takst for botilbud 2025"]


def test_turned_page_keeps_its_lines_and_paragraphs_in_order(settings, tmp_path):
    """A landscape table page set on a portrait page: two paragraphs turned 90°."""

    def draw(canv):
        canv.drawString(72, 790, "Bilag 2. Takster")
        canv.saveState()
        canv.translate(300, 100)
        canv.rotate(90)
        y = 0
        for paragraph in (("Første afsnit om takster,", "fortsat på linje to."),
                          ("Andet afsnit om botilbud.",)):  # fmt: skip
            for line in paragraph:
                canv.drawString(0, -y, line)
                y += 14
            y += 14
        canv.restoreState()

    doc = read_document(_turned_pdf(tmp_path, draw), settings)
    assert doc.text.split("\n\n") == [
        "Bilag 2. Takster",
        "Første afsnit om takster, fortsat på linje to.",
        "Andet afsnit om botilbud.",
    ]


# --- right-to-left text ---------------------------------------------------------------------------


def test_right_to_left_text_is_read_in_reading_order(settings, tmp_path):
    """A PDF places Hebrew glyphs from left to right in the order they are seen (the last
    letter first); the reader gives them in the order they are read."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont("DejaVuSans", str(fx.FONT_DIR / "DejaVuSans.ttf")))
    logical = "מידע לתושבים על פסולת"  # "information for residents on waste"

    def draw(canv):
        canv.drawString(72, 790, "Vejledning på hebraisk")
        canv.setFont("DejaVuSans", 12)
        canv.drawString(72, 760, logical[::-1])  # as a right-to-left typesetter places it

    doc = read_document(_turned_pdf(tmp_path, draw), settings)
    assert doc.text.split("\n\n") == ["Vejledning på hebraisk", logical]


# --- tables --------------------------------------------------------------------------------------


def test_a_word_hyphenated_across_the_lines_of_a_table_cell_is_joined(settings, tmp_path):
    """A cell's lines are joined like a paragraph's: the typesetting hyphen of "aflast-" +
    "ningsophold" goes, a real one ("e-" before "mail" elsewhere written "e-mail") stays."""

    def draw(canv):
        canv.drawString(72, 790, "Tabel 1. Takster, svar pr. e-mail")
        canv.grid([72, 200, 420], [760, 705, 660])
        canv.drawString(76, 748, "Botilbud")
        canv.drawString(204, 748, "Døgntakst for midlertidige")
        canv.drawString(204, 734, "ophold, svar pr. e-")
        canv.drawString(204, 720, "mail")
        canv.drawString(76, 693, "Aflastning")
        canv.drawString(204, 693, "Takst for aflast-")
        canv.drawString(204, 679, "ningsophold i weekenden")

    doc = read_document(_turned_pdf(tmp_path, draw), settings)
    table = next(b for b in doc.blocks if b.kind == "table")
    assert table.text.split("\n") == [
        "Botilbud | Døgntakst for midlertidige ophold, svar pr. e-mail",
        "Aflastning | Takst for aflastningsophold i weekenden",
    ]


# --- font encodings -------------------------------------------------------------------------------


def test_winansi_code_173_is_read_as_a_hyphen(settings, tmp_path):
    """WinAnsiEncoding codes the hyphen twice, 45 and 173 (PDF 1.7, Annex D); dvips's code
    fonts (LuxiMono in the PSTricks manuals) use 173. pdfminer's table read 173 as a space:
    "pst labo", "( .5, .5)"; poppler and pdfium read "-"."""

    def draw(canv):
        canv.setFont("Courier", 10)
        canv.drawString(72, 700, "\\usepackage{pst\u00adlabo} \\psset{xunit=\u00ad.5}")

    pdf = _turned_pdf(tmp_path, draw)
    assert b"/WinAnsiEncoding" in pdf.read_bytes()
    doc = read_document(pdf, settings)
    assert doc.text == "\\usepackage{pst-labo} \\psset{xunit=-.5}"


def test_a_drawn_grid_whose_lines_run_through_words_is_not_a_table(settings, tmp_path):
    """PSTricks figures drawn with [showgrid]: a grid of 1 cm squares under the labels. Read
    as a table, its lines cut the labels ("A sho | rt line"); a real table's rules run between
    words, never through one."""

    def draw(canv):
        canv.drawString(72, 790, "Figur 2. Et net af linjer")
        steps = [100 + 28 * i for i in range(8)]
        canv.grid(steps, [500 + 28 * i for i in range(6)])
        canv.drawString(118, 560, "A short line")
        canv.drawString(160, 590, "another one")

    doc = read_document(_turned_pdf(tmp_path, draw), settings)
    assert not [b for b in doc.blocks if b.kind == "table"]
    assert flat(doc.text) == "Figur 2. Et net af linjer another one A short line"


# --- slanted text --------------------------------------------------------------------------------


def test_words_of_a_slanted_font_keep_their_spaces(settings, tmp_path):
    """Fonts without an italic (Bera in the PSTricks manuals) are slanted by a skewed text
    matrix. pdfminer boxes such a glyph by two opposite corners of its slanted box, so every
    box reaches a sixth of the font size into its neighbours and the word gaps left between
    boxes fall under the word-break threshold: "macrosfor generic TeX"."""

    def draw(canv):
        canv.drawString(72, 790, "Timothy van Zandt. PSTricks:")
        canv.saveState()
        canv.translate(72, 770)
        canv.skew(0, 10)  # text matrix [1 0 tan 10° 1 0 0]: an oblique font
        canv.drawString(0, 0, "PostScript macros for generic TeX, a loop macro, that supports")
        canv.restoreState()

    doc = read_document(_turned_pdf(tmp_path, draw), settings)
    assert flat(doc.text) == (
        "Timothy van Zandt. PSTricks: "
        "PostScript macros for generic TeX, a loop macro, that supports"
    )


def test_text_in_a_table_that_falls_in_no_cell_is_kept(settings, tmp_path):
    """A table whose first column lacks a rule in its body rows (a medication chart): those
    rows have no cell there, so the table leaves their first column's text out; it must
    not be dropped with the table's other words, but read as lines."""

    def draw(canv):
        canv.drawString(72, 790, "Medicinplan")
        for y in (760, 740, 700):
            canv.line(72, y, 420, y)
        canv.line(72, 760, 72, 740)  # the left rule only beside the header row
        for x in (200, 300, 420):
            canv.line(x, 760, x, 700)
        canv.drawString(76, 746, "Præparat")
        canv.drawString(204, 746, "Morgen")
        canv.drawString(304, 746, "Aften")
        canv.drawString(76, 720, "Oxycodon retard")
        canv.drawString(204, 720, "1")
        canv.drawString(304, 720, "0")

    pdf = _turned_pdf(tmp_path, draw)
    with pdfplumber.open(pdf) as plumber:
        (table,) = plumber.pages[0].find_tables()
        assert table.extract()[1][0] is None  # no cell where "Oxycodon retard" stands
    doc = read_document(pdf, settings)
    assert "Oxycodon retard" in doc.text
    assert "Præparat | Morgen | Aften" in doc.text


# --- evenly spread letters -------------------------------------------------------------------


def test_letters_spread_evenly_on_a_fixed_grid_are_one_word(settings, tmp_path):
    """TeX's listings (columns=fixed) boxes each token to its columns and shares the slack
    evenly between the letters: a sixth of an em between every two, over the word-gap
    threshold, so the code came out letter by letter ("\\ p s s e t"). A space is a whole
    column; single-letter words of prose keep their spaces."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    def spread(canv, x, y, text, gap):
        for letter in text:
            canv.drawString(x, y, letter)
            x += stringWidth(letter, "Helvetica", 10) + gap
        return x

    def draw(canv):
        canv.setFont("Helvetica", 10)
        x = spread(canv, 72, 700, "\\psset{unit=1cm}", 1.8)
        spread(canv, x + 6, 700, "\\pstBallon", 1.6)
        canv.setFont("Times-Roman", 10)
        canv.drawString(72, 680, "Points a b c and d.")
        spread(canv, 72, 670, ",...,", 1.7)  # math: thin spaces around \\ldots
        x = 72.0
        for word in ("is", "not", "really", "a", "currency"):  # a tight line: 0.2 em spaces
            canv.drawString(x, 660, word)
            x += stringWidth(word, "Times-Roman", 10) + 2

    doc = read_document(_turned_pdf(tmp_path, draw), settings)
    assert flat(doc.text) == (
        "\\psset{unit=1cm} \\pstBallon Points a b c and d. , . . . , is not really a currency"
    )


def test_words_of_two_small_lines_beside_a_large_word_are_not_glued(settings, tmp_path):
    """A 58-point title over a wallpaper of 6-point lines (Zpravodaj's cover): the title's
    row takes in the small lines beside it, and their words, sorted by x, were glued where
    one line's word ends just as the other's begins ("TEXusdružení"). Words that touch are
    one word only when they share their height, as words of one line do."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    def draw(canv):
        canv.setFont("Helvetica-Bold", 40)
        canv.drawString(72, 700, "TITLE")
        canv.setFont("Helvetica", 6)
        x = 220 + stringWidth("Zpravodaj", "Helvetica", 6)
        canv.drawString(220, 720, "Zpravodaj")
        canv.drawString(x, 713, "sdruzeni")
        canv.drawString(220, 706, "uzivatelu")

    doc = read_document(_turned_pdf(tmp_path, draw), settings)
    words = flat(doc.text).split()
    assert "Zpravodaj" in words and "sdruzeni" in words
    assert sorted(words) == ["TITLE", "Zpravodaj", "sdruzeni", "uzivatelu"]


def test_a_footnote_mark_before_its_text_is_a_word_of_its_own(settings, tmp_path):
    """At the foot of a page a footnote's text follows its raised, smaller mark with next
    to no gap (eledmac's "¹familiar footnote"): the mark is a word of its own, as pdftotext
    and PDFium read it. A mark after a word ("secunda¹") stays with it."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    def draw(canv):
        canv.setFont("Times-Roman", 10)
        canv.drawString(72, 700, "linea secunda")
        canv.setFont("Times-Roman", 6)
        canv.drawString(72 + stringWidth("linea secunda", "Times-Roman", 10) + 0.3, 704, "1")
        canv.drawString(72, 653, "12")
        canv.setFont("Times-Roman", 8)
        canv.drawString(72 + stringWidth("12", "Times-Roman", 6) + 0.4, 650, "familiar footnote A.")

    words = flat(read_document(_turned_pdf(tmp_path, draw), settings).text).split()
    assert "secunda1" in words
    assert words[-4:] == ["12", "familiar", "footnote", "A."]
