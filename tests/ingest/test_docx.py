"""DOCX: heading styles make sections, lists keep their items, tables their cells."""

from __future__ import annotations

import pytest

from ingest.chunk import Chunker
from ops_search.config import Settings
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
