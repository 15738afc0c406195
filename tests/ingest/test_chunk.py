"""Chunking: sentence-bounded passages under sections, exact spans, decisions whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.chunk import Chunker
from ops_search.config import Settings
from tests.conftest import FIXTURES, SEEDS, read_document


@pytest.fixture(scope="module")
def module_settings(tmp_path_factory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("data"), _env_file=None)


@pytest.fixture(scope="module")
def seed_chunks(module_settings, tmp_path_factory):
    """Every seed read as plain text and chunked."""
    out = {}
    for seed in sorted(SEEDS.glob("00*.txt")):
        doc = read_document(seed, module_settings)
        out[seed.name] = (doc, Chunker(module_settings).chunk(doc))
    return out


def test_every_chunk_is_an_exact_slice_of_the_document(seed_chunks):
    for doc, chunks in seed_chunks.values():
        for chunk in chunks:
            assert chunk.text == doc.text[chunk.char_start : chunk.char_end]


def test_chunks_stay_within_the_model_budget(seed_chunks, module_settings):
    cap = int(module_settings.chunk_max_words * 1.5)  # decisions may run a little longer
    for _, chunks in seed_chunks.values():
        assert all(len(c.text.split()) <= cap for c in chunks)


def test_chunks_cover_the_whole_document(seed_chunks):
    for doc, chunks in seed_chunks.values():
        covered = set()
        for c in chunks:
            covered.update(range(c.char_start, c.char_end))
        uncovered = [i for i, ch in enumerate(doc.text) if not ch.isspace() and i not in covered]
        assert uncovered == []


def test_chunks_start_and_end_at_sentence_or_block_boundaries(seed_chunks):
    for _doc, chunks in seed_chunks.values():
        for chunk in chunks:
            assert not chunk.text[0].isspace() and not chunk.text[-1].isspace()


def test_ids_are_deterministic_and_content_derived(module_settings):
    seed = SEEDS / "001_d484550536b64950.txt"
    first = Chunker(module_settings).chunk(read_document(seed, module_settings))
    again = Chunker(module_settings).chunk(read_document(seed, module_settings))
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)


def test_changed_content_gives_new_ids(module_settings, tmp_path: Path):
    original = SEEDS / "001_d484550536b64950.txt"
    changed = tmp_path / "changed.txt"
    changed.write_text(original.read_text(encoding="utf-8") + "\nEn ny sætning.\n", "utf-8")
    a = Chunker(module_settings).chunk(read_document(original, module_settings))
    b = Chunker(module_settings).chunk(read_document(changed, module_settings))
    assert not {c.id for c in a} & {c.id for c in b}


def test_overlap_repeats_only_whole_sentences(seed_chunks):
    _, chunks = seed_chunks["003_a4deeee32cfe0938.txt"]
    overlaps = [
        (a, b) for a, b in zip(chunks, chunks[1:], strict=False) if b.char_start < a.char_end
    ]
    assert overlaps, "consecutive chunks of one section share a little text"
    for a, b in overlaps:
        assert a.text.endswith(a.text[b.char_start - a.char_start :])


def test_decision_passage_in_rammeaftale_material_is_its_own_chunk(seed_chunks):
    _, chunks = seed_chunks["004_44dd6fc1c6d66593.txt"]
    decisions = [c for c in chunks if c.kind == "decision"]
    first = next(c for c in decisions if "KKR Sjælland besluttede sidste år" in c.text)
    assert first.decision_body == "KKR Sjælland"
    # kept whole: the paragraph from its first to its last sentence
    assert "nyt politisk ejerskab til rammeaftalen." in " ".join(first.text.split())
    later = next(c for c in decisions if "som er besluttet og iværksat af KKR Sjælland" in c.text)
    assert later.decision_date == "2017-04-07"  # the meeting the passage announces


def test_decisions_in_minutes_carry_meeting_date_and_body(module_settings):
    doc = read_document(FIXTURES / "minutes.txt", module_settings)
    chunks = Chunker(module_settings).chunk(doc)
    decisions = [c for c in chunks if c.kind == "decision"]
    assert any(c.text.lstrip().startswith("Beslutning") for c in decisions)
    assert any(c.text.lstrip().startswith("Indstilling") for c in decisions)
    for c in decisions:
        assert c.decision_date == "2024-03-14"
    assert any(c.decision_body == "KKR Sjælland" for c in decisions)


def test_procedural_wording_is_not_a_decision(module_settings, tmp_path: Path):
    path = tmp_path / "procedure.txt"
    path.write_text(
        "I rammeaftalen fastsættes taksterne, og i princippet godkendes også oprettelse af "
        "tilbud. De fokusområder, der i fællesskab besluttes, drøftes i udvalget.\n",
        encoding="utf-8",
    )
    chunks = Chunker(module_settings).chunk(read_document(path, module_settings))
    assert [c.kind for c in chunks] == ["text"]


def test_section_paths_follow_the_heading_hierarchy(module_settings, tmp_path: Path):
    path = tmp_path / "doc.md"
    path.write_text(
        "# 3 Resultater\n\nIndledende tekst om resultater.\n\n## 3.2 Takster\n\n"
        "Taksterne for pladser fastsættes i rammeaftalen.\n\n# 4 Perspektiver\n\nMere tekst.\n",
        encoding="utf-8",
    )
    settings = module_settings.model_copy(update={"chunk_min_words": 0})
    chunks = Chunker(settings).chunk(read_document(path, settings))
    by_text = {c.text.split("\n")[-1]: c.section for c in chunks}
    assert by_text["Taksterne for pladser fastsættes i rammeaftalen."] == (
        "3 Resultater > 3.2 Takster"
    )
    assert by_text["Mere tekst."] == "4 Perspektiver"


def test_small_sections_join_a_neighbour(seed_chunks, module_settings):
    _, chunks = seed_chunks["004_44dd6fc1c6d66593.txt"]
    small = [c for c in chunks if c.kind == "text" and len(c.text.split()) < 20]
    assert small == []
