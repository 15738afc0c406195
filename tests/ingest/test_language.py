"""Language tags: Danish stays Danish (also short, upper-case and OCR-damaged text)."""

from pathlib import Path

import pytest

from ingest.language import detect_chunk_language, detect_document_language

SEEDS = Path(__file__).parents[2] / "corpus" / "seeds"


@pytest.mark.parametrize("seed", sorted(p.name for p in SEEDS.glob("00*.txt")))
def test_every_seed_is_danish(seed):
    assert detect_document_language((SEEDS / seed).read_text(encoding="utf-8")) == "da"


def test_ocr_damaged_press_release_chunks_are_danish():
    text = (SEEDS / "000_fed949171b11b3aa.txt").read_text(encoding="utf-8")
    windows = [text[i : i + 400] for i in range(0, len(text) - 400, 200)]
    assert {detect_chunk_language(w, "da") for w in windows} == {"da"}


def test_all_caps_danish_is_not_german():
    line = (
        "KONKURRENCEUDSÆTTELSE: FORTSÆT DEN BEGRÆNSEDE UDVIKLING ELLER INTENSIVÉR INDSATSEN "
        "PÅ DET SPECIALISEREDE SOCIALOMRÅDE I KOMMUNERNE OG REGIONERNE I DANMARK"
    ) * 2
    assert detect_chunk_language(line, "da") == "da"


def test_short_chunk_inherits_document_language():
    assert detect_chunk_language("Vel mødt!", "da") == "da"
    assert detect_chunk_language("Tak.", "en") == "en"


def test_english_passage_is_english():
    text = (
        "Denmark's competitiveness has developed second worst among all OECD countries since "
        "the mid-1990s, according to the report, and productivity growth in the public sector "
        "has been weak. Public-private partnerships are proposed as one part of the answer."
    )
    assert detect_chunk_language(text, "da") == "en"


def test_detection_is_deterministic():
    text = (SEEDS / "004_44dd6fc1c6d66593.txt").read_text(encoding="utf-8")[:600]
    assert len({detect_chunk_language(text, "da") for _ in range(5)}) == 1
