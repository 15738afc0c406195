"""The real app on a real index: a read-only client on the shared corpus index, and a
writable one (API key set) on a private copy."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app

API_KEY = "test-key-123"


@pytest.fixture(scope="module")
def client(corpus_index, embedder):
    with TestClient(create_app(corpus_index, embedder=embedder)) as c:
        yield c


@pytest.fixture
def writer(corpus_index_copy, embedder):
    settings = corpus_index_copy.model_copy(update={"api_keys": f"another-key,{API_KEY}"})
    with TestClient(create_app(settings, embedder=embedder)) as c:
        c.headers["X-API-Key"] = API_KEY
        yield c
