"""No input gets a 5xx: every route swept with hostile values (Hypothesis), the cases the
tester measured, and every hostile file of tests/fixtures/hostile.py sent as an upload.

A 4xx must be problem+json; a 5xx fails the test with the request that caused it."""

from __future__ import annotations

import shutil
import time
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.problems import PROBLEM_JSON
from api.uploads import STEM_BYTES, safe_name
from tests.api.conftest import API_KEY

KORA = "kora-2013-ops-specialiserede-socialomraade.pdf"
TEXT = (
    "Referat af mødet i Kommunekontaktrådet. Rådet drøftede rammeaftalen for det "
    "specialiserede socialområde og taksterne for 2025, og godkendte indstillingen."
).encode()

NASTY = [
    "", " ", "\x00", "\n", "0", "-1", "00", "0000", "1e309", "NaN", "inf", "true", "null",
    "9" * 30, "-" + "9" * 30, "2013-02-30", "2013-00-00", "2013-13-99", "2013-02-29",
    "9999-12", "9999-12-31", "0001-01", "2013-1-1", "²⁰¹³", "٢٠١٣", "2013\x00", "../../x",
    "..", "%2e%2e%2f", "a/b", "\\", "<script>alert(1)</script>", "'; DROP TABLE entries;--",
    "𝐀" * 100, "æøå" * 200, "x" * 5000, " " * 3000, "\u202e\u200b\ufeff", "0000000000000000",
    "ffffffffffffffff", "FFFFFFFFFFFFFFFF",
]  # fmt: skip
printable = st.characters(exclude_categories=("Cs",))  # lone surrogates cannot be sent
# Valid values too, so that one bad parameter is often the only one and reaches its check.
VALID = ["2013", "2013-01", "2013-06-30", "1", "10", "rapport", "da", "text", "decision",
         "sparse", "true", "takster", "kora"]  # fmt: skip
values = st.one_of(
    st.sampled_from(VALID),
    st.sampled_from(NASTY),
    st.text(printable, max_size=40),
    st.integers().map(str),
    st.from_regex(r"\A[0-9]{4}(-[0-9]{1,2}(-[0-9]{1,2})?)?\Z"),
)

# Each route with its query parameters (list-valued ones may repeat) and path parameters.
ROUTES = {
    "/search": ["q", "limit", "offset", "mode", "doc_type", "lang", "kind", "document_id",
                "source", "date_from", "date_to", "year", "per_document", "facets", "collection"],
    "/documents": ["offset", "limit"],
    "/documents/{id}": [],
    "/documents/{id}/file": [],
    "/documents/{id}/pages/{n}": [],
    "/jobs/{id}": [],
    "/health": [],
    "/stats": [],
    "/": ["q", "doc_type", "lang", "year", "kind", "mode", "limit", "collection"],
    "/dokument/{id}": ["side", "fra", "til", "q"],
    "/dokumenter": [],
}  # fmt: skip
REPEATABLE = {"doc_type", "lang", "kind", "document_id", "year", "collection"}
FILE_PROBLEMS = ("File not accepted", "Unsupported file type", "File too large")
SWEEP_SECONDS = 45  # the whole read sweep; Hypothesis stops at its example count first


def ok_or_problem(r, what: str) -> None:
    assert r.status_code < 500, f"{what} -> {r.status_code}: {r.text[:300]}"
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith(PROBLEM_JSON), (what, r.headers)


def kora_id(client) -> str:
    docs = client.get("/documents").json()["documents"]
    return next(d["id"] for d in docs if d["source"].endswith(KORA))


@pytest.fixture(scope="module")
def writer(corpus_index, embedder, tmp_path_factory):
    """One writable server for the whole module (Hypothesis wants no per-test fixtures)."""
    data = tmp_path_factory.mktemp("hostile") / "data"
    shutil.copytree(corpus_index.data_dir, data)
    settings_ = corpus_index.model_copy(update={"data_dir": data, "api_keys": API_KEY})
    with TestClient(create_app(settings_, embedder=embedder)) as c:
        c.headers["X-API-Key"] = API_KEY
        yield c


@st.composite
def requests(draw, real_id: str):
    route = draw(st.sampled_from(sorted(ROUTES)))
    # A path parameter is hostile or real, so the query parameters behind it are reached.
    segment = draw(st.one_of(st.just(real_id), values))
    path = route.replace("{id}", quote(segment, safe="")).replace(
        "{n}", quote(draw(values), safe="")
    )
    params: list[tuple[str, str]] = []
    for name in draw(st.lists(st.sampled_from(ROUTES[route] or ["_"]), unique=True)):
        repeats = draw(st.integers(1, 3)) if name in REPEATABLE else 1
        params += [(name, draw(values)) for _ in range(repeats)]
    if route in ("/search", "/") and draw(st.booleans()):
        params.append(("q", "takster"))  # a valid query, so the filters are applied too
    return path, params


def test_every_read_route_answers_hostile_values_without_5xx(client):
    real_id = kora_id(client)
    deadline = time.monotonic() + SWEEP_SECONDS

    @settings(max_examples=400, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
    @given(requests(real_id))
    def sweep(request):
        if time.monotonic() > deadline:
            return  # the time budget is spent: the remaining examples pass unsent
        path, params = request
        ok_or_problem(client.get(path, params=params), f"GET {path} {params!r:.300}")

    sweep()


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"date_from": "2013-02-30"}, "date_from"),
        ({"date_from": "2013-00-00"}, "date_from"),
        ({"date_to": "2013-13-99"}, "date_to"),
        ({"date_to": "0000"}, "date_to"),
        ({"year": "0000"}, "year"),
        ({"year": "²⁰¹³"}, "year"),
        ({"document_id": "x" * 5000}, "document_id"),
        ({"doc_type": "x" * 5000}, "doc_type"),
        ({"source": "x" * 5000}, "source"),
        ({"q": " " * 30_000}, "q"),
    ],
)
def test_the_measured_500s_are_422_problems(client, params, word):
    r = client.get("/search", params={"q": "takster", **params})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    assert r.json()["detail"].startswith(word)


def test_partial_and_edge_dates_still_filter(client):
    for params in ({"date_to": "9999-12"}, {"date_from": "2013-02"}, {"year": ["2013", "9999"]},
                   {"date_from": "0001-01-01", "date_to": "2013-02-28"}):  # fmt: skip
        r = client.get("/search", params={"q": "takster", **params})
        assert r.status_code == 200, (params, r.text)


def test_an_overlong_document_path_is_a_422(client):
    for path in ("/dokument/" + "a" * 5000, "/documents/" + "a" * 5000, "/dokument/%00"):
        r = client.get(path)
        assert r.status_code == 422, path
        assert r.headers["content-type"].startswith(PROBLEM_JSON)


@given(st.text(printable, max_size=400), st.sampled_from(["pdf", "docx", "html", "txt", "md"]))
@settings(max_examples=300, deadline=None, database=None)
def test_safe_names_fit_every_file_system(name, fmt):
    safe = safe_name(name, fmt)
    stem, _, ext = safe.rpartition(".")
    assert len(stem.encode()) <= STEM_BYTES and len(safe.encode()) <= 255
    assert stem and not safe.startswith(".") and "/" not in safe and "\\" not in safe
    assert "\x00" not in safe and ext in ("pdf", "docx", "html", "txt", "md")


def test_a_400_byte_name_is_stored_cut_at_a_character(writer):
    data = TEXT + " Et navn på 400 bytes.".encode()
    r = writer.post("/documents", files={"files": ("𝐀" * 100 + ".txt", data, "text/plain")})
    assert r.status_code == 202, r.text
    stored = writer.app.state.ops.settings.files_dir
    names = [p.name for p in stored.rglob("*.txt")]
    assert names and all(len(n.encode()) <= 255 for n in names)
    assert "𝐀" * 50 + ".txt" in names  # 50 × 4 bytes: the 200-byte budget, whole characters


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    name=st.one_of(st.sampled_from(NASTY), st.text(printable, max_size=300)),
    data=st.sampled_from([TEXT, b"", b"   \n", b"PK\x03\x04" + bytes(200), b"%PDF-1.7\n%%EOF",
                          b"<html><body>" + TEXT + b"</body></html>", bytes(range(256))]),
    delete=st.one_of(st.sampled_from(NASTY), st.text(printable, max_size=60)),
)  # fmt: skip
def test_writes_answer_hostile_names_and_ids_without_5xx(writer, name, data, delete):
    r = writer.post("/documents", files={"files": (name, data, "application/octet-stream")})
    ok_or_problem(r, f"POST {name!r:.100} {data[:20]!r}")
    plain = name.isprintable() and not any(c in name for c in '"\\%')  # sent unescaped
    if r.status_code >= 400 and r.json()["title"] in FILE_PROBLEMS and name and plain:
        assert name[:50] in r.json()["detail"]  # the problem names the file
    r = writer.delete("/documents/" + quote(delete, safe=""))
    ok_or_problem(r, f"DELETE {delete!r:.100}")


def test_every_hostile_file_is_a_4xx_naming_it_or_accepted(writer, tmp_path):
    """Damaged DOCX, zip bombs, junk, huge lines: each is refused with a problem that
    names the file (or, if a tolerant reader copes, accepted); never a server error."""
    from tests.fixtures.hostile import build_hostile

    hostile = build_hostile(tmp_path)
    for f in hostile.bad + hostile.damaged:
        r = writer.post("/documents", files={"files": (f.path.name, f.path.read_bytes())})
        ok_or_problem(r, f"{f.kind} ({f.path.name})")
        if r.status_code != 202:
            assert f.path.name in r.json()["detail"], (f.kind, r.text)
