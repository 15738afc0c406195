"""Plain text and Markdown: encodings Danish files come in, paragraphs, headings."""

from __future__ import annotations

import pytest

from ingest.text import TextReader
from ops_search.errors import EmptyFile
from tests.conftest import FIXTURES, read_document
from tests.fixtures import build_fixtures as fx


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("windows-1252.txt", fx.WINDOWS_1252_TEXT),
        ("utf8-bom.txt", fx.UTF8_BOM_TEXT),
        ("latin1.txt", fx.LATIN1_TEXT),
    ],
)
def test_encodings_are_detected_and_danish_letters_survive(settings, name, expected):
    doc = read_document(FIXTURES / name, settings)
    assert " ".join(doc.text.split()) == " ".join(expected.split())
    assert "\ufeff" not in doc.text


def test_windows_1252_specials_are_decoded(settings):
    text = read_document(FIXTURES / "windows-1252.txt", settings).text
    assert "Århus" in text and "2024–2025" in text and "€" in text


def test_empty_text_file_is_refused(settings):
    with pytest.raises(EmptyFile, match="empty file"):
        TextReader().read(FIXTURES / "empty.txt", settings)


def test_markdown_headings_become_sections(settings, tmp_path):
    path = tmp_path / "notat.md"
    path.write_text("# Takster\n\nTaksten er 1.250 kr.\n\n## Kvalitet\n\nTekst.\n", "utf-8")
    doc = read_document(path, settings)
    assert [(b.kind, b.level, b.text) for b in doc.blocks] == [
        ("heading", 1, "Takster"),
        ("text", 0, "Taksten er 1.250 kr."),
        ("heading", 2, "Kvalitet"),
        ("text", 0, "Tekst."),
    ]


def test_form_feeds_are_page_breaks(settings, tmp_path):
    path = tmp_path / "sider.txt"
    path.write_text("Første side.\n\fAnden side.\n", "utf-8")
    doc = read_document(path, settings)
    assert doc.page_count == 2
    assert doc.page_text(2) == "Anden side."
