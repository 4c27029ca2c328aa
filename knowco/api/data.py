"""The KG's data over HTTP: import a file, upload a document, list, add and edit labels, export (streamed).
An upload is read whole and checked against the size limit before anything is written, and an import writes in
one transaction, so a client that disconnects mid-upload leaves nothing half-written."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Optional

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from knowco.api.doors import MAX_ID, MAX_PAGE, ApiError, BodyId, caller, database_of, page, plain
from knowco.services import (EXPORT_FORMATS, IMPORT_FORMATS, MAX_UPLOAD_BYTES, Actor, ExampleEdit,
                             add_sentence_label, add_triple_label, edit_labels, export_file, import_document,
                             import_upload, list_examples)

router = APIRouter(prefix="/v1", tags=["data"])
SUFFIX = {"csv": ".csv", "turtle": ".ttl", "nt": ".nt", "jsonld": ".jsonld"}


async def _read(upload: UploadFile) -> bytes:
    """The whole upload, refused past the limit while it is read (never held whole in memory beyond it)."""
    chunks, size = [], 0
    while chunk := await upload.read(1 << 20):
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise ApiError(413, f"{upload.filename} is larger than the {MAX_UPLOAD_BYTES // (1 << 20)} MB an upload "
                                "may have", "too_large")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/imports", summary="import a KG file (TSV, CSV, RDF, JSON lines): all of it or nothing")
async def post_import(request: Request, file: UploadFile = File(...),
                      format: str = Form("auto", description="auto, or one of the import formats"),
                      actor: Actor = Depends(caller)) -> dict:
    if format != "auto" and format not in IMPORT_FORMATS:
        raise ApiError(422, f"unknown format {format!r} (expected auto or one of {', '.join(IMPORT_FORMATS)})",
                       "invalid")
    data = await _read(file)
    report = import_upload(database_of(request), actor, file.filename or "upload", data, format)
    return {**plain(report), "summary": report.summary()}


@router.post("/documents", summary="upload a plain-text document, one sentence or paragraph a line")
async def post_document(request: Request, file: UploadFile = File(...), actor: Actor = Depends(caller)) -> dict:
    added, present = import_document(database_of(request), actor, file.filename or "document.txt",
                                     await _read(file))
    return {"added": added, "already_present": present}


class TripleLabel(BaseModel):
    head: str = Field(min_length=1)
    relation: str = Field(min_length=1)
    tail: str = Field(min_length=1)
    holds: bool = True


#: a token's position in a sentence
Position = Annotated[int, Field(ge=0, le=100_000)]


class SentenceLabel(BaseModel):
    sentence_id: BodyId
    #: token spans [start, end) of the two mentions
    head: tuple[Position, Position]
    tail: tuple[Position, Position]
    #: None: the sentence states no relation between them
    relation: Optional[str] = None


class LabelEdit(BaseModel):
    example_id: BodyId
    delete: bool = False
    holds: Optional[bool] = None
    relation: Optional[str] = None
    no_relation: bool = False
    comment: Optional[str] = None


class LabelEdits(BaseModel):
    edits: list[LabelEdit] = Field(min_length=1)


@router.get("/labels", summary="the curators' labels, oldest first")
def get_labels(request: Request, actor: Actor = Depends(caller), relation: Optional[str] = None,
               offset: int = Query(0, ge=0, le=MAX_ID), limit: int = Query(50, ge=1, le=MAX_PAGE)) -> dict:
    rows = list_examples(database_of(request), relation)
    return page(rows[offset:offset + limit + 1], offset, limit, len(rows))


@router.post("/labels/triples", status_code=201, summary="a triple that holds (or does not)")
def post_triple_label(body: TripleLabel, request: Request, actor: Actor = Depends(caller)) -> dict:
    return {"id": add_triple_label(database_of(request), actor, body.head, body.relation, body.tail, body.holds)}


@router.post("/labels/sentences", status_code=201, summary="the relation a sentence states between two mentions")
def post_sentence_label(body: SentenceLabel, request: Request, actor: Actor = Depends(caller)) -> dict:
    return {"id": add_sentence_label(database_of(request), actor, body.sentence_id, tuple(body.head),
                                     tuple(body.tail), body.relation)}


@router.patch("/labels", summary="edit labels: all of the edits or none (deleting needs an admin)")
def patch_labels(body: LabelEdits, request: Request, actor: Actor = Depends(caller)) -> dict:
    edit_labels(database_of(request), actor, [ExampleEdit(**edit.model_dump()) for edit in body.edits])
    return {"edited": len(body.edits)}


@router.get("/exports/{fmt}", summary="the KG as a file (CSV, Turtle, N-Triples, JSON-LD), streamed",
            response_class=FileResponse)
def get_export(fmt: str, request: Request, actor: Actor = Depends(caller), include_suggested: bool = False,
               include_rejected: bool = False):
    if fmt not in EXPORT_FORMATS:
        raise ApiError(404, f"unknown export format {fmt!r} (expected one of {', '.join(EXPORT_FORMATS)})",
                       "not_found")
    folder = Path(tempfile.mkdtemp(prefix="knowco-export-"))
    out = folder / f"knowco-export{SUFFIX[fmt]}"
    try:
        export_file(database_of(request), actor, out, fmt, include_suggested=include_suggested,
                    include_rejected=include_rejected)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(out, filename=out.name, background=BackgroundTask(shutil.rmtree, folder, True))
