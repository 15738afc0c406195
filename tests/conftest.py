"""Shared fixtures: settings pointing at a temporary data dir, paths of corpus and fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops_search.config import Settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
SEEDS = CORPUS / "seeds"
FIXTURES = ROOT / "tests" / "fixtures"
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", _env_file=None)


def read_document(path: Path, settings: Settings):
    """Read and assemble one file the way ingest does."""
    from ingest.document import build_document, sha256_of
    from ingest.readers import reader_for

    extracted = reader_for(path).read(path, settings)
    return build_document(path, extracted, sha256_of(path), path.name)
