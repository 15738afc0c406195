"""The index as a whole: store, embedder, sparse encoder, catalog and embedding cache,
and the indexer that writes documents into it.

Order of writes per document (what makes re-runs converge after a crash):
1. record it in the catalog as ``indexing``: a killed run leaves a note of what to undo,
2. delete any points of this document id (leftovers of an interrupted run),
3. upsert its chunks (deterministic ids: writing twice changes nothing),
4. mark its record ``complete`` — only now does the document count as indexed,
5. remove the previous version of the same file, if its content changed.

Every document is in one collection (``ops_search.access``), recorded in its catalog record and
in each chunk's payload. The same content (same document id) ingested into another collection
**moves** there: its record is marked ``indexing`` (invisible), its chunks' payloads are
changed, its record is marked ``complete`` again. Nothing is embedded anew, and a run killed
in between leaves a record that recovery removes with its passages, never a document visible
in its old collection through one half and in the new one through the other.

Opening the index for writing first undoes what a killed writer left behind
(:mod:`search.recovery`); a document that fails half-way in this process is undone at once,
so ``ingest`` on an open index has nothing more to recover.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ingest.document import sha256_of
from ingest.driver import ReaderPool, ingest_log
from ingest.pipeline import Summary, describe, report_read, source_name, start_batch
from ops_search.access import DEFAULT_COLLECTION, check_collection
from ops_search.config import Settings
from ops_search.models import Chunk, Document
from ops_search.progress import Reporter
from search.catalog import Catalog, CatalogEntry, open_catalog
from search.centering import Centering
from search.database import Database
from search.embed import Embedder, make_embedder
from search.embed_cache import EmbeddingCache
from search.glossary import GLOSSARY_PATH, Glossary, glossary_for
from search.jobs import JobStore
from search.recovery import recover
from search.sparse import SparseEncoder, danish_encoder
from search.spelling import QuestionSpelling, question_spelling_for, spelling_for
from search.store import IndexInfo, Store
from search.windows import window_inputs

CATALOG_FILE = "catalog.sqlite"
# A Qdrant server takes no folder lock, so there only the writers recover: a `search` beside
# a running server must not take the document it is writing for a killed run's leftovers.
WRITER_ROLES = ("server", "ingest")

# Chunks embedded and written per store call: large enough to batch well, small enough
# that progress moves and a crash loses little.
WRITE_BATCH = 32


class PassageProgress(Protocol):
    """What ``add_document`` reports to: the CLI's progress bar or an upload job."""

    def passages_done(self, n: int) -> None: ...


def sparse_input(chunk: Chunk, repair: Callable[[str], str] | None = None) -> str:
    """What the keyword channel indexes: the section path's words count too. (Not the
    document's keywords: measured, they lifted every passage of a page alike and cost first
    places on the LibreOffice help; see the README.) ``repair`` mends the OCR damage of a
    passage not in English (search.spelling): a damaged word then meets the query's word
    in full, not only through its folded skeleton at half weight."""
    text = repair(chunk.text) if repair is not None and chunk.lang != "en" else chunk.text
    return f"{chunk.section}\n{text}" if chunk.section else text


@dataclass
class Index:
    settings: Settings
    store: Store
    embedder: Embedder
    sparse: SparseEncoder
    catalog: Catalog
    cache: EmbeddingCache
    centering: Centering  # applied to every stored and query vector
    jobs: JobStore  # upload jobs, in the catalog's database

    @classmethod
    def open(
        cls,
        settings: Settings,
        role: str,
        *,
        embedder: Embedder | None = None,
        rebuild: bool = False,
    ) -> Index:
        """Open (or create) the index at ``settings.data_dir``. ``rebuild`` starts it afresh
        (the embedding cache survives, so a rebuild re-embeds nothing it has seen)."""
        embedder = embedder or make_embedder(settings)
        sparse = danish_encoder(settings.lexicon_path, settings.thesaurus_path)
        centering = Centering.for_model(
            embedder.backend,
            embedder.model,
            settings.dense_centering,
            settings.dense_centering_english,
        )
        info = IndexInfo(
            backend=embedder.backend,
            model=embedder.model,
            dim=embedder.dim,
            normalized=embedder.normalized,
            analyzer=sparse.signature,
            dense_transform=centering.signature,
        )
        store = Store.open(settings, info, role, rebuild=rebuild)
        try:  # from here on under the store's lock (embedded engines)
            db = Database(settings.data_dir / CATALOG_FILE)
            legacy = settings.data_dir / "catalog"  # the JSON folder of earlier versions
            if rebuild:
                shutil.rmtree(legacy, ignore_errors=True)
                catalog = Catalog(db)
                catalog.clear()
            else:
                catalog = open_catalog(db, legacy)
            cache = EmbeddingCache(
                settings.embedding_cache,
                model_key=info.describe(),
                dim=info.dim,
            )
        except BaseException:
            store.close()
            raise
        index = cls(settings, store, embedder, sparse, catalog, cache, centering, JobStore(db))
        try:
            if settings.engine != "server" or role in WRITER_ROLES:
                recover(index)
        except BaseException:
            index.close()
            raise
        return index

    def close(self) -> None:
        self.store.close()
        self.cache.close()
        self.catalog.db.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing ----------------------------------------------------------------------------

    def add_document(
        self,
        document: Document,
        chunks: Sequence[Chunk],
        reporter: PassageProgress | None = None,
        *,
        file: Path,
        uploaded: bool = False,
        collection: str = DEFAULT_COLLECTION,
    ) -> int:
        """Index one document's chunks into ``collection`` and record it. Returns passages
        embedded anew."""
        check_collection(collection)
        entry = CatalogEntry(
            document=document,
            chunks=len(chunks),
            file=str(file.resolve()),
            uploaded=uploaded,
            collection=collection,
        )
        chunks = [c.model_copy(update={"collection": collection}) for c in chunks]
        self.catalog.begin(entry)
        try:
            computed = self._write_chunks(document.id, chunks, reporter)
        except BaseException:
            # Whatever stopped it (a failed batch, a job told to stop), no half of this
            # document stays searchable; if even that fails, the next open recovers it.
            with contextlib.suppress(Exception):
                self.remove_document(document.id)
            raise
        self.catalog.put(entry)
        return computed

    def spelling_repair(self) -> Callable[[str], str] | None:
        """What mends OCR-damaged Danish before embedding (search.spelling), if on and a
        word list is loaded."""
        splitter = self.sparse.splitter
        if not self.settings.spelling_repair or splitter is None:
            return None
        return spelling_for(splitter.words).repair

    def question_spelling(self) -> QuestionSpelling | None:
        """What mends a question typed without æ, ø and å before it is searched
        (search.spelling), if spelling repair is on and a word list is loaded."""
        splitter = self.sparse.splitter
        if not self.settings.spelling_repair or splitter is None:
            return None
        return question_spelling_for(splitter.words, splitter.split)

    def glossary(self) -> Glossary | None:
        """What puts a Danish question into English word by word (search.glossary), if a
        glossary is set and loads."""
        value = self.settings.glossary.strip()
        if value.lower() == "off":
            return None
        path = Path(value) if value else GLOSSARY_PATH
        splitter = self.sparse.splitter
        dictionary = self.settings.dictionary.strip()
        return glossary_for(
            path,
            splitter.split if splitter is not None else None,
            Path(dictionary) if dictionary else None,
        )

    def _write_chunks(
        self, document_id: str, chunks: Sequence[Chunk], reporter: PassageProgress | None
    ) -> int:
        self.store.delete_document(document_id)
        computed = 0
        repair = self.spelling_repair()
        for i in range(0, len(chunks), WRITE_BATCH):
            batch = list(chunks[i : i + WRITE_BATCH])
            inputs = [window_inputs(c, repair=repair) for c in batch]
            flat, n = self.cache.embed(
                [text for group in inputs for text in group], self.embedder.embed_passages
            )
            # Back from one flat batch (embeds best) to one (windows, dim) array per chunk.
            bounds = np.cumsum([0] + [len(group) for group in inputs])
            # The cache keeps the model's own vectors; the index stores them centred.
            flat = self.centering(flat)
            dense = [flat[bounds[j] : bounds[j + 1]] for j in range(len(batch))]
            sparse = [self.sparse.encode_passage(sparse_input(c, repair), c.lang) for c in batch]
            self.store.upsert(batch, dense, sparse)
            computed += n
            if reporter:
                reporter.passages_done(len(batch))
        return computed

    def move_document(self, entry: CatalogEntry, collection: str) -> str:
        """Move an indexed document to ``collection``; returns the collection it was in."""
        check_collection(collection)
        old = entry.collection
        if old == collection:
            return old
        moved = entry.model_copy(update={"collection": collection})
        self.catalog.begin(moved)  # invisible until both halves agree
        self.store.set_collection(entry.document.id, collection)
        self.catalog.put(moved)
        return old

    def remove_document(self, document_id: str) -> None:
        self.store.delete_document(document_id)
        self.catalog.delete(document_id)

    def relocate_document(
        self, entry: CatalogEntry, file: Path, *, collection: str | None = None
    ) -> int | None:
        """Record an indexed document under a new path (its file was renamed or moved).

        Nothing is read or embedded again: the passages are taken from the store, given the
        new source, and written back through ``add_document`` (same ids, vectors from the
        embedding cache; the title stays, as it is part of what was embedded). A kill in
        the middle leaves an ``indexing`` record that recovery undoes; the file is then
        simply new to the next run. Returns the passages embedded anew (0 unless the
        embedding cache lost them), or None when the store does not hold the document's
        passages as recorded: then the caller ingests the file instead."""
        document_id = entry.document.id
        points = self.store.document_chunks(document_id)
        if len(points) != entry.chunks:
            return None
        source = source_name(file)
        document = entry.document.model_copy(update={"source": source})
        chunks = [p.chunk().model_copy(update={"source": source}) for p in points]
        return self.add_document(
            document,
            chunks,
            file=file,
            uploaded=entry.uploaded,
            collection=collection or entry.collection,
        )

    def ingest(
        self,
        paths: Iterable[Path],
        reporter: Reporter,
        *,
        prune: bool = False,
        collection: str = DEFAULT_COLLECTION,
        lock: AbstractContextManager | None = None,
        readers: ReaderPool | None = None,
    ) -> Summary:
        """Index every supported file under ``paths`` into ``collection``; unchanged files are
        skipped by hash (or moved there, if they are in another collection).

        ``lock`` is held around each document's write (a server's writer lock, so that an
        upload or a delete takes turns with it); ``readers`` is a reader pool to read with
        (a server's own, which it closes at shutdown), else one is opened for this run."""
        check_collection(collection)
        lock = lock or nullcontext()
        started = time.monotonic()
        summary = Summary()
        paths = list(paths)
        files = start_batch(paths, reporter, summary)
        known = self.catalog.by_source()

        todo: list[tuple[Path, str | None]] = []  # with the hash, so no file is hashed twice
        for path in files:
            source = source_name(path)
            try:
                sha = sha256_of(path)
            except OSError:
                todo.append((path, None))  # extract() reports the read error properly
                continue
            entry = self.catalog.get(Document.id_for(sha))
            if entry is None:
                todo.append((path, sha))
                continue
            summary.files += 1
            summary.unchanged += 1
            summary.pages += entry.document.page_count
            for _ in range(entry.document.page_count):
                reporter.page_done(False)
            same = "" if entry.document.source == source else f" (same as {entry.document.source})"
            with lock:
                old = self.move_document(entry, collection)
            moved = f", moved from collection {old} to {collection}" if old != collection else ""
            reporter.file_done(source, f"unchanged{same}{moved}")

        written = False
        own = readers is None
        pool = ReaderPool(self.settings, log_file=ingest_log(self.settings)) if own else readers
        assert pool is not None
        # Files are read in worker processes ahead of this loop, which embeds meanwhile.
        try:
            for result in pool.read_all(todo, on_page=lambda _n, ocr: reporter.page_done(ocr)):
                document = report_read(result, reporter, summary)
                if document is None:
                    continue
                reporter.add_passages(len(result.chunks))
                with lock:
                    self.add_document(
                        document, result.chunks, reporter, file=result.path, collection=collection
                    )
                    written = True
                    previous = known.get(result.source)
                    if previous and previous.document.id != document.id:
                        self.remove_document(previous.document.id)
                        known.pop(result.source)
                summary.ingested += 1
                reporter.file_done(result.source, describe(result))
        finally:
            if own:
                pool.close()

        if prune:
            with lock:
                summary.removed = self._prune(paths, known)
            written = written or summary.removed > 0
        if written:
            reporter.stage("optimizing the index …")
            with lock:
                self.store.optimize()
        summary.seconds = time.monotonic() - started
        return summary

    def _prune(self, roots: list[Path], known: dict[str, CatalogEntry]) -> int:
        """Remove documents whose files under ``roots`` no longer exist."""
        root_sources = [source_name(r) for r in roots]
        removed = 0
        for source, entry in known.items():
            inside = any(
                source == r or source.startswith(r.rstrip("/") + "/") for r in root_sources
            )
            if inside and not entry.uploaded and not Path(entry.file).exists():
                self.remove_document(entry.document.id)
                removed += 1
        return removed
