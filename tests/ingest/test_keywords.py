"""Index terms the author gave a document: read from each format's metadata, capped."""

from __future__ import annotations

import io

import docx

from ingest.keywords import MAX_KEYWORD_CHARS, MAX_KEYWORDS, keyword_entries
from tests.conftest import read_document


def test_entries_split_at_semicolons_and_lines_but_not_commas():
    assert keyword_entries(["farver, udskriv ikke; sort-hvid udskrivning\nGråtoner"]) == [
        "farver, udskriv ikke",
        "sort-hvid udskrivning",
        "Gråtoner",
    ]


def test_repeats_blanks_and_non_text_are_dropped():
    values = ["Takster;  takster ; ;", None, "TAKSTER", "botilbud"]
    assert keyword_entries(values) == ["Takster", "botilbud"]


def test_a_stuffed_keyword_list_is_capped():
    stuffed = "; ".join(f"ord{i}" for i in range(500))
    prose = "x" * (MAX_KEYWORD_CHARS + 1)
    entries = keyword_entries([prose, stuffed])
    assert len(entries) == MAX_KEYWORDS
    assert entries[0] == "ord0"


def test_html_keywords_from_name_and_itemprop_metas(settings, tmp_path):
    """The LibreOffice help's index entries sit in the body, before each topic."""
    page = tmp_path / "hjaelp.html"
    page.write_text(
        '<html lang="da"><head><title>Udskrive i sort-hvid</title>'
        '<meta name="Keywords" content="udskrivning; printer"></head><body>'
        '<div id="DisplayArea"><meta itemprop="keywords" content="farver, udskriv ikke">'
        '<meta itemprop="keywords" content="sort-hvid udskrivning">'
        "<h1>Udskrive i sort-hvid</h1><p>Vælg Gråtoner under Kvalitet, og klik på OK for "
        "at udskrive dokumentet uden farve.</p></div></body></html>",
        encoding="utf-8",
    )
    doc = read_document(page, settings)
    assert doc.keywords == [
        "udskrivning",
        "printer",
        "farver, udskriv ikke",
        "sort-hvid udskrivning",
    ]
    assert "udskriv ikke" not in doc.text  # metadata, not text shown in a passage


def test_pdf_keywords_from_the_info_dictionary(settings, tmp_path):
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    canvas = Canvas(buf, invariant=1)
    canvas.setKeywords("rammeaftale; takster for botilbud")
    canvas.drawString(72, 760, "Rammeaftalen fastsætter priserne for pladser.")
    canvas.save()
    pdf = tmp_path / "aftale.pdf"
    pdf.write_bytes(buf.getvalue())
    assert read_document(pdf, settings).keywords == ["rammeaftale", "takster for botilbud"]


def test_docx_keywords_from_the_core_properties(settings, tmp_path):
    document = docx.Document()
    document.core_properties.keywords = "KKR; specialiserede socialområde"
    document.add_paragraph("Rammeaftalen gælder for to år ad gangen.")
    path = tmp_path / "aftale.docx"
    document.save(str(path))
    assert read_document(path, settings).keywords == ["KKR", "specialiserede socialområde"]
