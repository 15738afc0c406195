"""Documents: list, detail with sections, original file, page text, upload, delete."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from api.deps import ReaderDep, StateDep, WriteAuth
from api.problems import ApiProblem
from api.schemas import DocumentDetail, DocumentList, DocumentSummary, Job, PageText, Section
from api.uploads import accept, discard, start_job
from ingest.chunk import sections_of
from ops_search.access import ADMIN, DEFAULT_COLLECTION, Access, check_collection
from ops_search.models import Document
from search.catalog import CatalogEntry, summary

router = APIRouter(prefix="/documents", tags=["documents"])
DocId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{16}$", description="Document id.")]

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}
INLINE_FORMATS = ("pdf", "txt")


def _entry(state, document_id: str, access: Access) -> CatalogEntry:
    """The document, if the reader may see it; a 404 either way it is not there for them (no
    403, which would tell that it exists)."""
    entry = state.index.catalog.get(document_id, access.collections)
    if entry is None:
        raise ApiProblem(404, "Not found", f"No document with id {document_id}")
    return entry


@router.get("", response_model=DocumentList)
def list_documents(
    state: StateDep,
    access: ReaderDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DocumentList:
    docs = state.index.catalog.summaries(access.collections)
    docs = sorted(docs, key=lambda d: d["title"].lower())
    return DocumentList(
        total=len(docs),
        offset=offset,
        limit=limit,
        documents=[DocumentSummary(**d) for d in docs[offset : offset + limit]],
    )


@router.get("/{document_id}", response_model=DocumentDetail)
def get_document(state: StateDep, access: ReaderDep, document_id: DocId) -> DocumentDetail:
    entry = _entry(state, document_id, access)
    doc = entry.document
    return DocumentDetail(
        **summary(entry),
        sha256=doc.sha256,
        sections=[Section(**s) for s in sections_of(doc)],
        ocr_pages=[p.number for p in doc.pages if p.ocr],
        skipped_pages={p.number: p.skipped for p in doc.pages if p.skipped},
        degraded_pages=doc.degraded_pages,
        reader=doc.reader,
        keywords=doc.keywords,
        warnings=doc.warnings,
    )


@router.get("/{document_id}/file", response_class=FileResponse)
def get_file(state: StateDep, access: ReaderDep, document_id: DocId) -> FileResponse:
    entry = _entry(state, document_id, access)
    path = Path(entry.file)
    if not path.is_file():
        raise ApiProblem(
            404, "File missing", f"The original of {document_id} is no longer at {entry.file}"
        )
    fmt = entry.document.format
    media = CONTENT_TYPES.get(fmt, "application/octet-stream")
    # An original is anyone's upload, never one of our pages: only a PDF (the browser's own
    # viewer, at #page=N) and plain text open in the browser; anything else is a download,
    # and nothing of it runs on our origin (sandbox: no script, no same-origin access).
    disposition = "inline" if fmt in INLINE_FORMATS else "attachment"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(path.name)}",
        "Content-Security-Policy": "sandbox",
    }
    return FileResponse(path, media_type=media, headers=headers)


@router.get("/{document_id}/pages/{page}", response_model=PageText)
def get_page(
    state: StateDep, access: ReaderDep, document_id: DocId, page: Annotated[int, PathParam(ge=1)]
) -> PageText:
    doc: Document = _entry(state, document_id, access).document
    if page > doc.page_count:
        raise ApiProblem(
            404, "Not found", f"Document {document_id} has {doc.page_count} page(s), not {page}"
        )
    info = doc.pages[page - 1]
    return PageText(
        document_id=document_id,
        page=page,
        pages=doc.page_count,
        text=doc.text[info.char_start : info.char_end],
        char_start=info.char_start,
        ocr=info.ocr,
        skipped=info.skipped,
        degraded=info.degraded,
    )


@router.delete("/{document_id}", status_code=204, dependencies=[WriteAuth])
def delete_document(state: StateDep, document_id: DocId) -> Response:
    entry = _entry(state, document_id, ADMIN)
    with state.lock:
        state.index.remove_document(document_id)
    if entry.uploaded:
        shutil.rmtree(Path(entry.file).parent, ignore_errors=True)
    return Response(status_code=204)


@router.post("", status_code=202, response_model=Job, dependencies=[WriteAuth])
def upload(
    state: StateDep,
    response: Response,
    files: Annotated[list[UploadFile], File(description="PDF, DOCX, HTML, TXT or MD files.")],
    collection: Annotated[
        str, Form(max_length=200, description="The collection the files go into.")
    ] = DEFAULT_COLLECTION,
) -> Job:
    if not files:
        raise ApiProblem(422, "Invalid request", "files: no file was sent")
    try:
        check_collection(collection)
    except ValueError as err:
        raise ApiProblem(422, "Invalid request", f"collection: {err}") from None
    limit = state.settings.max_upload_mb * 1024 * 1024
    accepted = []
    try:
        for upload_file in files:
            # Read one byte past the limit: enough to know it is too large, no more.
            data = upload_file.file.read(limit + 1)
            accepted.append(accept(state, upload_file.filename or "", data))
    except ApiProblem:
        discard(accepted)  # all or nothing: a bad file leaves no trace of its batch
        raise
    job = start_job(state, accepted, collection)
    response.headers["Location"] = f"/jobs/{job.id}"
    return job
