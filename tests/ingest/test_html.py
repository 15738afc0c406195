"""HTML: the article without navigation, sidebar, comment form and footer."""

from __future__ import annotations

from ingest.html import HtmlReader
from tests.conftest import CORPUS, read_document

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
