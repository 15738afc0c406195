"""Plain text and Markdown: encodings Danish files come in, paragraphs, headings."""

from __future__ import annotations

import re
import time

import pytest

from ingest.chunk import Chunker
from ingest.clean import join_lines
from ingest.text import TextReader
from ops_search.config import Settings
from ops_search.errors import EmptyFile, IngestError
from tests.conftest import FIXTURES, read_document
from tests.fixtures import build_fixtures as fx
from tests.fixtures.hostile import long_line


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


# --- size and time ----------------------------------------------------------------------------


def test_text_over_the_limit_is_refused_with_its_size_and_the_limit(tmp_path):
    settings = Settings(data_dir=tmp_path, max_text_mb=1, _env_file=None)
    path = tmp_path / "stor.txt"
    path.write_bytes(long_line(2_000_000))
    with pytest.raises(
        IngestError,
        match=r"stor\.txt: text of 2\.0 MB is over the limit of 1 MB \(OPS_MAX_TEXT_MB\)",
    ):
        TextReader().read(path, settings)


def _join_by_rescanning(lines, vocabulary):
    """join_lines as it was first written (rescanning all it joined at every line): the
    specification the linear version must keep."""
    from ingest.clean import _SUSPENDED_NEXT, _hyphen_is_real, normalize_line

    out = ""
    for raw in lines:
        line = normalize_line(raw)
        if not line:
            continue
        if not out:
            out = line
            continue
        end = re.search(r"(\w+)-$", out)
        start = re.match(r"^(\w+)", line)
        if end and start:
            head, tail = end.group(1), start.group(1)
            if _hyphen_is_real(head, tail, vocabulary):
                out = out + line if tail.lower() not in _SUSPENDED_NEXT else out + " " + line
            else:
                out = out[:-1] + line
        else:
            out = out + " " + line
    return out


def test_a_paragraph_of_many_lines_joins_as_join_lines_does(tmp_path):
    vocabulary = {"offentlig-privat", "samarbejde"}
    for lines in (
        ["Et samar-", "bejde mellem kommu-", "nerne om bo-", "og døgntilbud og OPS-", "modellen."],
        ["offentlig-", "privat samarbejde", "", "  mellem  ", "Region-", "Sjælland"],
        ["x" * 200 + "-", "y", "kort"],
        ["samar-", "bejde-", "aftale-", "Region", "ord-", "og"],
    ):
        assert join_lines(lines, vocabulary) == _join_by_rescanning(lines, vocabulary)


def test_a_paragraph_of_many_lines_joins_in_linear_time():
    # join_lines rescans all it has joined at every line: 2,000 such lines took 47 s.
    line = "kommunen leverer ydelser til borgerne på det specialiserede socialområde, og "
    started = time.monotonic()
    joined = join_lines([line] * 20_000, set())
    assert time.monotonic() - started < 5
    assert len(joined.split()) == 20_000 * len(line.split())


def test_ten_megabytes_on_one_line_read_and_chunk_in_seconds_under_a_raised_limit(tmp_path):
    settings = Settings(data_dir=tmp_path, max_text_mb=40, _env_file=None)
    path = tmp_path / "lang-linje.txt"
    path.write_bytes(long_line(10_000_000))
    started = time.monotonic()
    doc = read_document(path, settings)
    chunks = Chunker(settings).chunk(doc)
    assert time.monotonic() - started < 30  # measured ≈ 5 s; the chunker alone took 290 s on 30 MB
    assert all(len(c.text.split()) <= settings.chunk_max_words for c in chunks)
    assert chunks[-1].char_end == len(doc.text)
