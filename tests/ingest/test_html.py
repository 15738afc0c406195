"""HTML: the article without navigation, sidebar, comment form and footer."""

from __future__ import annotations

import pytest

from ingest.html import HtmlReader
from ingest.pipeline import extract
from ops_search.config import Settings
from ops_search.errors import IngestError
from tests.conftest import CORPUS, FIXTURES, read_document
from tests.fixtures.hostile import LAYOUT_TABLE, nested_tables

HTML = CORPUS / "skaksens-analyser-ops-socialomraadet.html"


def test_chrome_is_left_out(settings):
    text = read_document(HTML, settings).text
    for chrome in ("Skriv en kommentar", "Felter med * skal udfyldes", "Skriv hvad du søger",
                   "Seneste indlæg", "Forside"):  # fmt: skip
        assert chrome not in text


def test_article_heading_and_title(settings):
    doc = read_document(HTML, settings)
    assert doc.title == "Offentligt-privat samarbejde på socialområdet kan blive bedre"
    assert doc.blocks[0].kind == "heading"
    assert doc.doc_type == "artikel"
    assert doc.date == "2013-09-24"


def test_inline_markup_does_not_split_words(settings, tmp_path):
    page = tmp_path / "p.html"
    page.write_text(
        "<html><body><nav>Menu</nav><main><h1>Titel</h1><p>En <b>KORA</b>-rapport om "
        "<a href='#'>OPS</a>, udgivet<br>i 2013.</p></main></body></html>",
        encoding="utf-8",
    )
    blocks = HtmlReader().read(page, settings).blocks
    assert [b.text for b in blocks] == ["Titel", "En KORA-rapport om OPS, udgivet\ni 2013."]


# --- tables -----------------------------------------------------------------------------------


def _blocks(tmp_path, settings, body: str) -> list[tuple[str, str]]:
    page = tmp_path / "page.html"
    page.write_text(f"<html><body><main>{body}</main></body></html>", encoding="utf-8")
    return [(b.kind, b.text) for b in HtmlReader().read(page, settings).blocks]


def test_a_data_table_is_a_line_per_row_with_cells_separated(settings, tmp_path):
    body = (
        "<table><caption>Takster 2025</caption>"
        "<tr><th>Kommune</th><th>Takst</th></tr>"
        "<tr><td><p>Roskilde</p><p>Kommune</p></td><td>1.250<br>kr.</td></tr></table>"
    )
    assert _blocks(tmp_path, settings, body) == [
        ("table", "Takster 2025\nKommune | Takst\nRoskilde Kommune | 1.250 kr.")
    ]


def test_a_nested_table_is_flattened_into_the_cell_that_holds_it(settings, tmp_path):
    body = nested_tables(4)  # each table: a cell, and a cell holding the next table
    assert _blocks(tmp_path, settings, body) == [
        ("table", "Celle 0 | Celle 1 / Celle 2 / Celle 3 / Inderst")
    ]


def test_a_layout_table_reads_as_blocks_and_the_table_inside_it_as_a_table(settings, tmp_path):
    blocks = _blocks(tmp_path, settings, LAYOUT_TABLE)
    assert blocks == [
        ("heading", "Takster 2025"),
        ("text", "Taksterne for botilbud er fastsat i rammeaftalen."),
        ("table", "Kommune | Takst\nRoskilde | 1.250 kr."),
    ]
    assert not any("KommuneTakst" in text for _, text in blocks)


def test_a_one_column_table_is_layout(settings, tmp_path):
    body = "<table><tr><td><p>Første afsnit.</p></td></tr><tr><td>Andet afsnit.</td></tr></table>"
    assert _blocks(tmp_path, settings, body) == [
        ("text", "Første afsnit."),
        ("text", "Andet afsnit."),
    ]


def test_a_table_of_nothing_but_links_is_navigation(settings, tmp_path):
    body = (
        "<p>Indhold.</p><table><tr><th>Metoder</th></tr><tr>"
        "<td><a href='#a'>Activate</a><br><a href='#b'>Close</a></td>"
        "<td><a href='#c'>Save</a></td></tr></table>"
    )
    assert _blocks(tmp_path, settings, body) == [("text", "Indhold.")]


def test_a_docbook_page_turn_bar_is_navigation(settings, tmp_path):
    # DocBook's HTML puts a table of the previous, up and next pages above and below each page.
    bar = (
        "<table width='100%'><tr><th colspan='3' align='center'>2. Workflow</th></tr><tr>"
        "<td><a accesskey='p' href='ch01.html'>Forrige</a> </td><th>2. Workflow</th>"
        "<td align='right'> <a accesskey='n' href='apc.html'>Næste</a></td></tr></table>"
    )
    body = (
        f"<div class='navheader'>{bar}</div><div class='chapter'><p>Indhold om arbejdsgangen."
        f"</p></div><div class='navfooter'><hr>{bar}<p>Appendiks C. How to Contribute</p></div>"
    )
    assert _blocks(tmp_path, settings, body) == [("text", "Indhold om arbejdsgangen.")]


def test_a_generated_contents_listing_and_back_of_book_index_are_navigation(settings, tmp_path):
    # DocBook's chapter pages open with a "toc" listing every section; its index page is
    # "indexdiv"s of terms, each naming pages elsewhere. Neither answers anything.
    body = (
        "<div class='chapter'><h1>Kapitel 17. Filtre</h1><div class='toc'><p><b>"
        "Indholdsfortegnelse</b></p><dl class='toc'><dt><a href='a.html'>1. Sløring</a></dt>"
        "<dt><a href='b.html'>2. Gaussisk sløring</a></dt></dl></div>"
        "<p>Et filter ændrer et lag eller et billede.</p></div>"
        "<div class='index'><h2>Stikordsregister</h2><div class='indexdiv'><h3>B</h3><dl><dt>"
        "Baggrundsfarve, <a href='c.html'>Farveområde</a></dt></dl></div></div>"
    )
    assert _blocks(tmp_path, settings, body) == [
        ("heading", "Kapitel 17. Filtre"),
        ("text", "Et filter ændrer et lag eller et billede."),
        ("heading", "Stikordsregister"),
    ]


# --- definition lists -------------------------------------------------------------------------


def test_a_term_and_its_definition_are_one_block(settings, tmp_path):
    # A table of shortcuts as a definition list: a passage must never end on "Ctrl + S"
    # while the next begins with what it does.
    body = (
        "<dl><dt><span class='keycap'>Ctrl</span> + S</dt><dd><p>Gem billedet</p></dd>"
        "<dt>Bredde</dt><dd><p>Styrken af filteret.</p><p>Over 60 giver artefakter.</p></dd>"
        "</dl>"
    )
    assert _blocks(tmp_path, settings, body) == [
        ("text", "Ctrl + S\nGem billedet"),
        ("text", "Bredde\nStyrken af filteret."),
        ("text", "Over 60 giver artefakter."),
    ]


def test_terms_sharing_a_definition_stay_with_it(settings, tmp_path):
    body = "<dl><dt>Farve</dt><dt>Color</dt><dd>Lagets farve.</dd></dl><p>Næste afsnit.</p>"
    assert _blocks(tmp_path, settings, body) == [
        ("text", "Farve\nColor\nLagets farve."),
        ("text", "Næste afsnit."),
    ]


def test_a_term_without_a_definition_before_a_heading_stands_alone(settings, tmp_path):
    body = "<dl><dt>Ctrl + Q</dt></dl><h2>Rediger</h2><p>Fortryd.</p>"
    assert _blocks(tmp_path, settings, body) == [
        ("text", "Ctrl + Q"),
        ("heading", "Rediger"),
        ("text", "Fortryd."),
    ]


# --- text outside tables ----------------------------------------------------------------------


def test_text_between_blocks_is_kept_as_blocks_of_its_own(settings, tmp_path):
    body = "<div>Indledning <p>Afsnit.</p> Afslutning<ul><li>Punkt</li></ul></div>"
    assert _blocks(tmp_path, settings, body) == [
        ("text", "Indledning"),
        ("text", "Afsnit."),
        ("text", "Afslutning"),
        ("text", "Punkt"),
    ]


def test_hidden_elements_are_left_out(settings, tmp_path):
    body = "<p>Synlig<span hidden> skjult</span>.</p><div hidden><p>Skjult afsnit.</p></div>"
    assert _blocks(tmp_path, settings, body) == [("text", "Synlig.")]


def test_preformatted_text_keeps_its_lines(settings, tmp_path):
    body = "<pre>Sub Main\n    MsgBox 1\nEnd Sub</pre>"
    assert _blocks(tmp_path, settings, body) == [("text", "Sub Main\nMsgBox 1\nEnd Sub")]


def test_html_over_the_text_limit_is_refused_with_its_size(tmp_path):
    settings = Settings(data_dir=tmp_path, max_text_mb=0.01, _env_file=None)
    page = tmp_path / "stor.html"
    page.write_text("<p>" + "ord " * 4000 + "</p>", encoding="utf-8")  # 16,007 bytes
    with pytest.raises(IngestError, match=r"HTML of 0\.016 MB is over the limit of 0\.01 MB"):
        HtmlReader().read(page, settings)


# --- real pages: the Danish LibreOffice help (tests/fixtures/real/libreoffice) ------------------

LIBREOFFICE = FIXTURES / "real" / "libreoffice"
PAGES = sorted(p.name for p in LIBREOFFICE.glob("*.html"))
# Title bar, search box, side panels and debug footer of every help page.
CHROME = (
    "LibreOffice 7.4 Hjælp",
    "Indholdsfortegnelse",
    "🔎",
    "Søg i alle moduler",
    "Relaterede emner",
    "Help content debug info",
    "This page is:",
    "Title is:",
    "Noteikon",
    "Advarselsikon",
)


def _read(name: str, settings):
    return HtmlReader().read(LIBREOFFICE / name, settings)


@pytest.mark.parametrize("name", PAGES)
def test_libreoffice_chrome_never_reaches_the_blocks(settings, name):
    blocks = _read(name, settings).blocks
    assert blocks
    for block in blocks:
        assert not any(chrome in block.text for chrome in CHROME), block.text
        assert block.text not in {"Modul", "Indhold"}


def test_libreoffice_related_topics_are_left_out(settings):
    text = "\n".join(b.text for b in _read("shared-guide-doc_save.html", settings).blocks)
    for link in ("Gem dokumenter i andre formater", "Gemme dokumenter automatisk",
                 "XML-filformater", "Brug af Microsoft Office og LibreOffice"):  # fmt: skip
        assert link not in text


def test_libreoffice_headings_paragraphs_notes_and_tables_are_read(settings):
    extracted = _read("shared-guide-doc_save.html", settings)
    blocks = [(b.kind, b.text) for b in extracted.blocks]
    assert extracted.title == "Gem dokumenter"
    assert [t for k, t in blocks if k == "heading"] == [
        "Gem dokumenter",
        "Automatisk udvidelse til filnavnet",
    ]
    texts = [t for k, t in blocks if k == "text"]
    assert any(t.startswith("Når du gemmer en ny fil for første gang") for t in texts)
    # the note, with only the default (not the Mac) variant of the menu path
    assert (
        "Du kan vælge automatisk oprettelse af en sikkerhedskopi under "
        "Funktioner - Indstillinger - Indlæs/Gem - Generelt." in texts
    )
    (table,) = [t for k, t in blocks if k == "table"]
    assert table.split("\n")[:2] == [
        "Du indtaster dette filnavn | Du markerer denne filtype | Filen bliver gemt med dette navn",
        "min fil | ODF tekst | min fil.odt",
    ]


def test_libreoffice_notes_tips_and_warnings_are_content(settings):
    texts = [b.text for b in _read("shared-05-00000002.html", settings).blocks]
    assert texts[-3:] == [
        "Ikonet Vigtigt! peger på vigtig information angående data- og systemsikkerhed.",
        "Ikonet Bemærk peger på ekstra information som for eksempel alternative måder at nå "
        "et bestemt mål på.",
        "Ikonet Tip peger på anbefalinger til at arbejde mere effektivt med programmet.",
    ]


def test_libreoffice_shortcut_table_has_each_cell_once_in_three_columns(settings):
    blocks = _read("swriter-guide-text_nav_keyb.html", settings).blocks
    (table,) = [b.text for b in blocks if b.kind == "table"]
    rows = table.split("\n")
    assert all(row.count(" | ") == 2 for row in rows)
    assert rows[0] == "Tast | Funktion | +Ctrl-tast"
    assert rows[2] == (
        "Pil op og Pil ned | Flytter markøren en linje op eller ned. | "
        "(Ctrl+Alt) flytter det aktuelle afsnit op eller ned."
    )
    assert "Home I en tabel | Flytter markøren til begyndelsen af indholdet" in table
    assert "Æble" not in table


def test_libreoffice_in_page_index_of_methods_is_navigation_not_a_table(settings):
    blocks = _read("sbasic-shared-03-sf_base.html", settings).blocks
    assert not any(b.kind == "table" for b in blocks)
    assert not any("Liste over metoder" in b.text for b in blocks)
    assert ("heading", "CloseFormDocument") in [(b.kind, b.text) for b in blocks]


def test_page_of_screenshots_is_found_by_title_and_image_descriptions(settings, tmp_path):
    # Real help collections have pages that are only screenshots: they are indexed, not
    # refused as empty, and the warning says how.
    page = tmp_path / "skaermbilleder.html"
    page.write_text(
        "<html lang='da'><head><title>Calc-skærmbilleder</title></head><body>"
        "<p><img src='a.png' alt='Dialogen XML-kilde'></p><img src='b.png' alt=''>"
        "<img src='c.png' alt='Dialogen XML-kilde'><img src='d.png' alt='Guiden Pivottabel'>"
        "</body></html>",
        encoding="utf-8",
    )
    extracted = HtmlReader().read(page, settings)
    assert [(b.kind, b.text) for b in extracted.blocks] == [
        ("heading", "Calc-skærmbilleder"),
        ("text", "Dialogen XML-kilde\nGuiden Pivottabel"),
    ]
    assert extracted.warnings == [
        f"{page}: no body text; indexed by its title and its images' descriptions"
    ]


def test_page_with_text_does_not_index_image_descriptions(settings, tmp_path):
    page = tmp_path / "p.html"
    page.write_text(
        "<html><head><title>T</title></head><body><p>Tekst.</p>"
        "<img src='i.png' alt='Ikon Tip'></body></html>",
        encoding="utf-8",
    )
    extracted = HtmlReader().read(page, settings)
    assert [b.text for b in extracted.blocks] == ["Tekst."]
    assert extracted.warnings == []


def test_page_without_title_or_text_is_refused(settings, tmp_path):
    page = tmp_path / "tom.html"
    page.write_text("<html><body><div><img src='x.png'></div></body></html>", encoding="utf-8")
    result = extract(page, settings)
    assert result.error == f"{page}: no text found"


def test_short_page_takes_its_declared_language(settings, tmp_path):
    page = tmp_path / "kort.html"
    page.write_text(
        "<html lang='da-DK'><head><title>YouTube-videoer</title></head><body></body></html>",
        encoding="utf-8",
    )
    assert read_document(page, settings).lang == "da"
