"""Hostile files (tests/fixtures/hostile.py): the DOCX, HTML and text readers refuse what
they cannot read with an IngestError naming the file and the problem, never another
exception; they do so quickly and in little memory; and they read what they can."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.chunk import Chunker
from ingest.readers import reader_for
from ops_search.config import Settings
from ops_search.errors import IngestError
from tests.conftest import ROOT, read_document
from tests.fixtures.hostile import SPECS, HostileSet, Spec, build_hostile

OURS = {".docx", ".html", ".txt"}  # the PDF reader has tests of its own
SECONDS = 10  # generous on a busy 2-core machine; the slowest case takes about one second


def _ours(expect: str) -> list[Spec]:
    return [s for s in SPECS if s.expect == expect and Path(s.name).suffix in OURS]


def _ids(spec: Spec) -> str:
    return spec.kind


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> HostileSet:
    return build_hostile(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def module_settings(tmp_path_factory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("data"), _env_file=None)


@pytest.mark.parametrize("spec", _ours("refuse"), ids=_ids)
def test_a_hostile_file_is_refused_quickly_with_a_message_naming_it_and_the_problem(
    hostile, module_settings, spec
):
    path = hostile[spec.kind].path
    started = time.monotonic()
    with pytest.raises(IngestError) as refused:
        reader_for(path).read(path, module_settings)
    assert time.monotonic() - started < SECONDS
    message = str(refused.value)
    assert message.startswith(f"{path}: ")
    assert re.search(spec.problem, message), message


@pytest.mark.parametrize("spec", _ours("read"), ids=_ids)
def test_a_good_or_merely_odd_file_is_read_and_chunked(hostile, module_settings, spec):
    path = hostile[spec.kind].path
    started = time.monotonic()
    doc = read_document(path, module_settings)
    chunks = Chunker(module_settings).chunk(doc)
    assert time.monotonic() - started < SECONDS
    assert doc.text.strip() and chunks


@pytest.mark.parametrize("spec", _ours("survive"), ids=_ids)
def test_a_damaged_file_is_read_or_refused_but_never_crashes(hostile, module_settings, spec):
    path = hostile[spec.kind].path
    try:
        reader_for(path).read(path, module_settings)
    except IngestError as err:
        assert str(err).startswith(f"{path}: ")


# --- memory: measured in a fresh process, where the peak RSS means something -------------------

_PROBE = """
import json, resource, sys
from pathlib import Path
from ingest.readers import reader_for
from ops_search.config import Settings
from ops_search.errors import IngestError
settings = Settings(_env_file=None)
reader_for(Path("x.docx")), reader_for(Path("x.html"))  # imports done before measuring
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for name in sys.argv[1:]:
    path = Path(name)
    try:
        reader_for(path).read(path, settings)
        outcome = "read"
    except IngestError as err:
        outcome = str(err)
    # The peak only rises: growth after each file bounds what that file cost.
    grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(json.dumps({"outcome": outcome, "grew_mb": grew}))
"""


def _probe(*paths: Path) -> list[dict]:
    """Read ``paths`` one after another in a fresh process: outcome and peak memory growth."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.strip().splitlines()]


BOMBS = {
    "docx-bomb": "word/document.xml expands to over 200 MB (zip bomb?)",
    "docx-bomb-lying": "word/document.xml is damaged",
    # passes every declared limit, so it is inflated, as a stream, before being refused
    "docx-bomb-lying-150mb": "word/document.xml is damaged",
    "docx-bomb-ratio": "zip bomb",
    "docx-billion-laughs": "declares a DTD",
}


@pytest.fixture(scope="module")
def bomb_probes(hostile) -> dict[str, dict]:
    return dict(zip(BOMBS, _probe(*(hostile[kind].path for kind in BOMBS)), strict=True))


@pytest.mark.parametrize("kind", BOMBS)
def test_a_docx_bomb_is_refused_without_inflating_it_in_memory(bomb_probes, kind):
    probe = bomb_probes[kind]
    assert BOMBS[kind] in probe["outcome"]
    assert probe["grew_mb"] < 50, probe  # python-docx alone grew 2 GB in 4 s


def test_fifty_thousand_nested_divs_read_in_seconds_and_little_memory(hostile):
    started = time.monotonic()
    (probe,) = _probe(hostile["html-deep-divs"].path)
    assert time.monotonic() - started < SECONDS  # was 170 s
    assert probe["outcome"] == "read"
    assert probe["grew_mb"] < 150, probe


def test_fifty_thousand_nested_divs_keep_their_text_and_say_they_were_flattened(
    hostile, module_settings
):
    path = hostile["html-deep-divs"].path
    extracted = reader_for(path).read(path, module_settings)
    assert [b.text for b in extracted.blocks] == ["Dybt inde i siden."]
    assert any("nested more than" in w for w in extracted.warnings)


def test_two_hundred_fifty_nested_tables_give_a_few_chunks(hostile, module_settings):
    doc = read_document(hostile["html-nested-tables"].path, module_settings)
    chunks = Chunker(module_settings).chunk(doc)
    assert len(chunks) <= 10  # was 21,369
    for level in (0, 1, 125, 249):  # each cell once: no table re-emits what it holds
        assert len(re.findall(rf"\bCelle {level}\b", doc.text)) == 1
    assert doc.text.count("Inderst") == 1


def test_thirty_megabytes_on_one_line_are_refused_before_any_work(hostile, module_settings):
    path = hostile["txt-long-line"].path
    started = time.monotonic()
    with pytest.raises(IngestError, match=r"text of 31\.5 MB is over the limit of 20 MB"):
        reader_for(path).read(path, module_settings)
    assert time.monotonic() - started < 3
