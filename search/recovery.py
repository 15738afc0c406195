"""Recovery from a writer that was killed: run whenever an index is opened for writing.

What a killed ``ingest`` or server can leave behind, and what becomes of it:

- a document recorded as ``indexing`` (killed inside ``Index.add_document``), with some of
  its passages in the store: the passages and the record are removed. An ingested file is
  read again by the next ingest, as its hash is no longer in the catalog. An upload is
  resumed by the server (below).
- passages of a document the catalog does not know at all: removed, so that no search result
  links to a document that is not there.
- the older version of a changed file, when the run was killed after writing the new
  version and before removing the old one: removed.
- ``files/.incoming-*`` folders of uploads that were being read: removed.

Interrupted uploads are **resumed**, not left for a person to retry: the server marks the
job's unfinished files interrupted, then reads their originals again from ``files/<id>/``
and indexes them in the same job (``api.uploads.resume_jobs``). Passages embedded before the
kill come from the embedding cache, so a resumed job only computes what it had not reached.
A job is resumed once: if the server stops again during the resumed run, the job stays
``interrupted`` and says to upload the file again, so a file that somehow takes the server
down cannot do it on every start.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from search.index import Index

log = logging.getLogger(__name__)


@dataclass
class Recovered:
    interrupted: list[str] = field(default_factory=list)  # half-indexed document ids
    orphans: list[str] = field(default_factory=list)  # ids with passages but no record
    superseded: list[str] = field(default_factory=list)  # old versions left behind
    incoming: int = 0  # upload staging folders removed

    def __bool__(self) -> bool:
        return bool(self.interrupted or self.orphans or self.superseded or self.incoming)

    def describe(self) -> str:
        parts = [
            f"{len(self.interrupted)} half-indexed document(s) removed" if self.interrupted else "",
            f"passages of {len(self.orphans)} unknown document(s) removed" if self.orphans else "",
            f"{len(self.superseded)} replaced version(s) removed" if self.superseded else "",
            f"{self.incoming} unfinished upload folder(s) removed" if self.incoming else "",
        ]
        return "; ".join(p for p in parts if p)


def recover(index: Index) -> Recovered:
    """Bring the store and the catalog back to agreement after a killed writer."""
    store, catalog = index.store, index.catalog
    done = Recovered()
    for entry in catalog.interrupted():
        # Passages first, record last: killed again here, the record still says what to undo.
        store.delete_document(entry.document.id)
        catalog.delete(entry.document.id)
        done.interrupted.append(entry.document.id)
    for document_id in catalog.superseded():
        index.remove_document(document_id)
        done.superseded.append(document_id)
    done.orphans = sorted(store.document_ids() - catalog.ids())
    for document_id in done.orphans:
        store.delete_document(document_id)
    files = index.settings.files_dir
    for folder in files.glob(".incoming-*") if files.is_dir() else []:
        shutil.rmtree(folder, ignore_errors=True)
        done.incoming += 1
    if done:
        store.flush()
        log.warning("recovered from an interrupted run: %s", done.describe())
    return done
