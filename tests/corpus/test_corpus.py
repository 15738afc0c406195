"""The sample corpus: every word of every seed survives the round trip through our readers,
and the build script regenerates the files byte for byte."""

from __future__ import annotations

import subprocess
import sys

import pytest

from corpus.build import CORPUS, expected_text
from tests.conftest import CORPUS as CORPUS_DIR
from tests.conftest import ROOT, read_document


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_extracted_words_equal_the_seed_words(settings, name):
    doc = read_document(CORPUS_DIR / name, settings)
    words = [w for w in doc.text.split() if w != "|"]  # "|" separates table cells
    assert words == expected_text(name).split()


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_corpus_file_is_danish(settings, name):
    assert read_document(CORPUS_DIR / name, settings).lang == "da"


def test_ocr_damage_is_kept_in_the_press_release(settings):
    doc = read_document(
        CORPUS_DIR / "kkr-sjaelland-pressemeddelelse-partnerskab-2025.pdf", settings
    )
    assert "gkonomisk" in doc.text and "feelles" in doc.text
    assert doc.doc_type == "pressemeddelelse"


@pytest.mark.slow
def test_build_script_regenerates_identical_files():
    proc = subprocess.run(
        [sys.executable, "corpus/build.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
