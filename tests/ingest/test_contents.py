"""Tables of contents are dropped before chunking; price lists and forms with leaders stay."""

from __future__ import annotations

import io

from ingest.contents import (
    contents_pages,
    drop_contents,
    is_leader_entry,
    plain_contents_pages,
)
from ops_search.models import Block
from tests.conftest import read_document


def text(page: int, s: str, kind: str = "text", level: int = 0) -> Block:
    return Block(kind=kind, text=s, page=page, level=level)


def test_a_leader_entry_is_a_title_with_dots_and_perhaps_a_page_number():
    assert is_leader_entry("3.1 Netværk . . . . . . . . . . . 8")
    assert is_leader_entry("Indledning .................. 3")
    assert is_leader_entry(". . . . . . . . . . . . . 12")
    assert not is_leader_entry("Se side 3. Der er flere detaljer i bilaget.")
    assert not is_leader_entry("Vent... og se.")


def test_a_named_contents_page_loses_its_entries_and_keeps_its_prose():
    foreword = (
        "Forord. Denne rapport samler erfaringerne fra tre års offentlig-privat samarbejde "
        "om hjemmepleje i kommunerne i regionen, og den beskriver hvad der virkede."
    )
    blocks = [
        text(1, "Rapport om samarbejde", "heading", 1),
        text(2, "Indholdsfortegnelse", "heading", 1),
        text(2, "1 Indledning . . . . . . . . . . . . 3"),
        text(2, "2 Metode", "heading", 2),  # an entry the layout split off its leader
        text(2, "2.1 Data . . . . . . . . . . . . . . 6"),
        text(2, "3 Resultater . . . . . . . . . . . . 8"),
        text(2, "4 Opfølgning 11", "heading", 2),  # an entry without leader, below them
        text(2, "ii"),
        text(2, foreword),
        text(3, "1 Indledning", "heading", 1),
        text(3, "Kommunerne indgik aftalen i 2021 . . . og fulgte den op."),
    ]
    assert contents_pages(blocks, page_count=12) == {2}
    kept = [b.text for b in drop_contents(blocks, page_count=12)]
    assert kept == [
        "Rapport om samarbejde",
        foreword,
        "1 Indledning",
        "Kommunerne indgik aftalen i 2021 . . . og fulgte den op.",
    ]


def test_a_title_page_above_the_listing_and_a_chapter_below_it_stay():
    """LaTeX sets title, author and listing on page 1 and may start the first chapter below
    it: only the listing goes."""
    blocks = [
        text(1, "The pdflscape package", "heading", 1),
        text(1, "Heiko Oberdiek 2022-10-28 v0.13", "heading", 2),
        text(1, "Contents", "heading", 2),
        text(1, "1 Documentation . . . . . . . . . . . 1"),
        text(1, "1.1 Supported drivers . . . . . . . . 1"),
        text(1, "2 Implementation . . . . . . . . . . 2"),
        text(1, "1 Documentation", "heading", 1),
        text(1, "1 \\NeedsTeXFormat{LaTeX2e} 2 \\ProvidesPackage{pdflscape}"),
        text(1, "1"),  # the page's own number
    ]
    kept = [b.text for b in drop_contents(blocks, page_count=4)]
    assert kept == [b.text for b in blocks[:2]] + [b.text for b in blocks[6:8]]


def test_a_contents_listing_continues_onto_the_next_pages():
    blocks = [text(2, "Indhold", "heading", 1)]
    for page in (2, 3):
        blocks += [
            text(page, f"{page}.{i} Afsnit . . . . . . . . {10 * page + i}") for i in range(4)
        ]
    blocks.append(text(4, "4.1 Afsnit . . . . . . . . . 9"))  # one leader line is no listing
    assert contents_pages(blocks, page_count=40) == {2, 3}


def test_an_unnamed_listing_counts_only_when_its_numbers_are_page_numbers():
    listing = [text(2, f"{i} Kapitel . . . . . . . . . . {2 * i + 1}") for i in range(1, 6)]
    assert contents_pages(listing, page_count=20) == {2}
    # A price list has leaders too, but its numbers are no pages of this document.
    prices = [
        text(4, "Timepris, hverdage . . . . . . . . . 450"),
        text(4, "Timepris, weekend . . . . . . . . . 610"),
        text(4, "Kørsel pr. km . . . . . . . . . . . 4"),
    ]
    assert contents_pages(prices, page_count=20) == set()
    assert drop_contents(prices, page_count=20) == prices


def test_a_listing_without_leaders_under_a_contents_title_goes_up_to_the_first_chapter():
    """LaTeX's article class sets sections without leaders; the layout may also split the
    titles from their column of page numbers."""
    body = "This document describes the package. It implements some odds and ends features."
    blocks = [
        text(1, "The xltxtra package"),
        text(1, "Contents", "heading", 2),
        text(1, "1 Introduction 1", "heading", 2),
        text(1, "1.1 Usage 1"),
        text(1, "2 Features 2", "heading", 2),
        text(1, "2.1 Superscripts 2 2.2 Logos 2 2.3 Vulgar fractions 3 2.4 Named glyphs 3"),
        text(1, "3 Logos 5", "heading", 2),
        text(1, "1 Introduction", "heading", 1),  # the first chapter begins here
        text(1, body),
        text(2, "Contents", "heading", 2),
        text(2, "1 Fancy frames", "heading", 2),
        text(2, "2 A short course on boxes", "heading", 2),
        text(2, "3"),
        text(2, "4"),
        text(2, "9"),
        text(2, "12"),
    ]
    assert plain_contents_pages(blocks, page_count=14) == {1, 2}
    assert [b.text for b in drop_contents(blocks, page_count=14)] == [
        "The xltxtra package",
        "1 Introduction",
        body,
    ]


def test_a_contents_title_over_prose_or_numbers_that_are_no_pages_drops_nothing():
    prose = [
        text(1, "Indhold", "heading", 2),
        text(1, "Aftalen omfatter hjemmepleje, madservice og rehabilitering i kommunen."),
        text(1, "Ydelse 1"),
        text(1, "Ydelse 2"),
        text(1, "Ydelse 3"),
        text(1, "Ydelse 4"),
    ]
    # Numbers that fall (an index of terms) or exceed the page count (prices) are no listing.
    falling = [text(1, "Contents", "heading", 2)] + [text(1, f"Term {n}") for n in (7, 3, 9, 2, 5)]
    prices = [text(1, "Indhold", "heading", 2)] + [
        text(1, f"Timepris {n}") for n in (450, 610, 700, 820)
    ]
    for blocks in (prose, falling, prices):
        assert plain_contents_pages(blocks, page_count=12) == set()
        assert drop_contents(blocks, page_count=12) == blocks


def _chapters(first_page: int) -> list[Block]:
    prose = "Kommunen og leverandøren aftalte at følge op hvert kvartal på kvalitet og pris."
    titles = [
        "Indledning",
        "Metode og data",
        "Resultater af analysen",
        "Anbefalinger til kommunerne",
    ]
    out: list[Block] = []
    for n, title in enumerate(titles, start=1):
        out += [text(first_page + n, f"{n} {title}", "heading", 1), text(first_page + n, prose)]
    return out


def test_a_listing_without_page_numbers_is_known_by_the_headings_it_repeats():
    listing = [
        text(2, "Indhold", "heading", 1),
        text(2, "Indledning Metode og data", "heading", 2),
        text(2, "Resultater af analysen"),
        text(2, "Anbefalinger til kommunerne Litteratur"),
    ]
    blocks = [text(1, "Rapport om samarbejde", "heading", 1), *listing, *_chapters(2)]
    assert plain_contents_pages(blocks, page_count=6) == {2}
    assert drop_contents(blocks, page_count=6) == [blocks[0], *_chapters(2)]


def test_under_a_contents_title_lines_that_repeat_no_headings_stay():
    """A contract's section "Indhold" (what the agreement covers) is no listing."""
    blocks = [
        text(1, "Indhold", "heading", 2),
        text(1, "Hjemmepleje og madservice"),
        text(1, "Rehabilitering efter sygehusophold"),
        text(1, "Hjælpemidler og boligindretning"),
        text(1, "Akut sygepleje i eget hjem"),
        *_chapters(1),
    ]
    assert plain_contents_pages(blocks, page_count=6) == set()
    assert drop_contents(blocks, page_count=6) == blocks


def _report_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    canv = Canvas(buf, pagesize=A4, invariant=1)
    canv.setFont("Helvetica-Bold", 26)
    canv.drawString(72, 700, "Rapport om hjemmepleje")
    canv.drawString(72, 660, "Udgivet 12.03.2024")
    canv.showPage()
    canv.setFont("Helvetica-Bold", 16)
    canv.drawString(72, 760, "Indhold")
    canv.setFont("Helvetica", 11)
    chapters = ["Indledning", "Takster og betaling", "Opfølgning"]
    for i, title in enumerate(chapters, start=1):
        canv.drawString(72, 730 - 18 * i, f"{i} {title} " + ". " * 30 + str(i + 2))
    canv.showPage()
    for i, title in enumerate(chapters, start=1):
        canv.setFont("Helvetica-Bold", 16)
        canv.drawString(72, 760, f"{i} {title}")
        canv.setFont("Helvetica", 11)
        canv.drawString(72, 730, f"Kapitel {i} beskriver {title.lower()} i aftalen mellem")
        canv.drawString(72, 715, "kommunen og leverandøren, og hvordan parterne følger op.")
        canv.showPage()
    canv.save()
    return buf.getvalue()


def test_a_pdf_report_indexes_neither_its_contents_nor_its_cover_as_sections(settings, tmp_path):
    pdf = tmp_path / "rapport.pdf"
    pdf.write_bytes(_report_pdf())
    doc = read_document(pdf, settings)
    assert ". . . ." not in doc.text
    assert doc.page_text(2).strip() == ""
    assert "Kapitel 2 beskriver takster og betaling" in " ".join(doc.text.split())
    headings = [b.text for b in doc.blocks if b.kind == "heading"]
    # The cover's lettering is no section: the chapters are the top level.
    assert headings == ["1 Indledning", "2 Takster og betaling", "3 Opfølgning"]
    assert all(b.level == 1 for b in doc.blocks if b.kind == "heading")
