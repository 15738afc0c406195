"""A persistent cache of passage embeddings, keyed by model and exact input text.

Embedding is the slowest stage by far (≈1.5–3 passages/s per core). With this cache a
changed document re-embeds only its changed passages, ``--rebuild`` re-embeds nothing
that was embedded before, and a crashed run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np


class EmbeddingCache:
    def __init__(self, path: Path, model_key: str, dim: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.model_key = model_key
        self.dim = dim
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB)")

    def _key(self, text: str) -> bytes:
        return hashlib.blake2b(f"{self.model_key}\0{text}".encode(), digest_size=20).digest()

    def embed(
        self, texts: Sequence[str], compute: Callable[[Sequence[str]], np.ndarray]
    ) -> tuple[np.ndarray, int]:
        """Vectors for ``texts``, computing only the missing ones. Returns (vectors, computed)."""
        keys = [self._key(t) for t in texts]
        found: dict[bytes, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            batch = keys[i : i + 500]
            marks = ",".join("?" * len(batch))
            for key, blob in self.db.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({marks})", batch
            ):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        missing = [i for i, k in enumerate(keys) if k not in found]
        if missing:
            computed = np.asarray(compute([texts[i] for i in missing]), dtype=np.float32)
            with self.db:
                self.db.executemany(
                    "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                    [(keys[i], computed[j].tobytes()) for j, i in enumerate(missing)],
                )
            for j, i in enumerate(missing):
                found[keys[i]] = computed[j]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            out[i] = found[key]
        return out, len(missing)

    def close(self) -> None:
        self.db.close()
