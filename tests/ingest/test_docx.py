"""DOCX: heading styles make sections, lists keep their items, tables their cells."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest

from ingest.chunk import Chunker
from ingest.docx import DocxReader
from ops_search.config import Settings
from ops_search.errors import CorruptFile, IngestError
from tests.conftest import CORPUS

DOCX = CORPUS / "kkr-sjaelland-rammeaftale-2018-proces.docx"


@pytest.fixture(scope="module")
def doc(corpus_document):
    return corpus_document(DOCX.name)


def test_heading_styles_become_headings(doc):
    headings = [b for b in doc.blocks if b.kind == "heading"]
    assert len(headings) > 10
    assert {b.level for b in headings} >= {1, 2}


def test_list_items_are_one_block_a_line_each(doc):
    lists = [b for b in doc.blocks if b.kind == "text" and "\n" in b.text]
    assert any(
        "Styrket samarbejde\nBrugerinddragelse\nStyring\nRammeaftalens form" in b.text
        for b in lists
    )


def test_tables_are_table_blocks(doc):
    tables = [b for b in doc.blocks if b.kind == "table"]
    assert tables and all(" | " in t.text for t in tables)


def test_decisions_are_tagged_in_the_docx(doc, tmp_path):
    settings = Settings(data_dir=tmp_path, _env_file=None)
    decisions = [c for c in Chunker(settings).chunk(doc) if c.kind == "decision"]
    assert any("KKR Sjælland besluttede" in c.text for c in decisions)
    assert all(c.decision_body for c in decisions)


def test_dates_and_type(doc):
    assert doc.lang == "da"
    assert doc.date is not None and doc.date.startswith("201")


def _saved(document, tmp_path: Path, name: str = "tabel.docx") -> Path:
    path = tmp_path / name
    document.save(str(path))
    return path


def test_a_merged_cell_is_read_once_and_a_nested_table_in_its_cell(tmp_path, settings):
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    merged.text = "Kommune og takst"
    table.cell(0, 2).text = "Note"
    table.cell(1, 0).text = "Roskilde"
    table.cell(1, 1).text = "1.250 kr."
    inner = table.cell(1, 2).add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "Gyldig fra"
    inner.cell(0, 1).text = "2025"
    blocks = DocxReader().read(_saved(document, tmp_path), settings).blocks
    assert [b.text for b in blocks if b.kind == "table"] == [
        "Kommune og takst | Note\nRoskilde | 1.250 kr. | Gyldig fra / 2025"
    ]


def test_table_of_contents_entries_are_not_read_but_their_page_breaks_count(tmp_path, settings):
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    for name in ("TOC Heading", "toc 1", "toc 2"):
        if name not in [s.name for s in document.styles]:
            document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("Indhold", style="TOC Heading")
    document.add_paragraph("1 Indledning\t2", style="toc 1")
    last = document.add_paragraph("1.1 Takster\t2", style="toc 2")
    last.add_run().add_break(WD_BREAK.PAGE)
    document.add_heading("1 Indledning", level=1)
    document.add_paragraph("Taksterne fastsættes hvert år i rammeaftalen.")
    blocks = DocxReader().read(_saved(document, tmp_path, "rapport.docx"), settings).blocks
    assert [(b.kind, b.text, b.page) for b in blocks] == [
        ("heading", "1 Indledning", 2),
        ("text", "Taksterne fastsættes hvert år i rammeaftalen.", 2),
    ]


def test_docx_text_over_the_limit_is_refused_with_its_size(tmp_path):
    settings = Settings(data_dir=tmp_path, max_text_mb=0.01, _env_file=None)
    document = docx.Document()
    document.add_paragraph("ord " * 5_000)
    with pytest.raises(IngestError, match=r"text of 0\.02 MB is over the limit of 0\.01 MB"):
        DocxReader().read(_saved(document, tmp_path, "stor.docx"), settings)


def test_a_damaged_part_is_named_in_plain_words(tmp_path, settings):
    good = tmp_path / "god.docx"
    docx.Document().save(str(good))
    with zipfile.ZipFile(good) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    members["word/styles.xml"] = b"<w:styles><w:style></w:styles>"  # tags do not match
    damaged = tmp_path / "skadet.docx"
    with zipfile.ZipFile(damaged, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in members.items():
            target.writestr(name, data)
    with pytest.raises(CorruptFile, match=r"DOCX part word/styles\.xml is damaged \(XML error"):
        DocxReader().read(damaged, settings)
