"""The review queue over HTTP: the queue and *my next items*, verdicts (each with an optional idempotency key),
bulk accept, undo, spot checks, and the history. Every route calls the service layer, which checks the role."""
from __future__ import annotations

from typing import Literal, Optional

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field

from knowco.api.doors import (MAX_ID, MAX_PAGE, ApiError, RowId, caller, cursor, database_of, idempotent,
                              page, plain)
from knowco.services import (REJECT_REASONS, Actor, accept, accept_corrected, accept_rest, bulk_accept, history,
                             my_next_items, queue, queue_size, reject, spot_check, start_spot_check, undo_last)

router = APIRouter(prefix="/v1", tags=["review"])
IdempotencyKey = Header(None, alias="Idempotency-Key",
                        description="a retried request with the same key gets the first answer: never decided twice")


class Said(BaseModel):
    """What a verdict did, in words."""

    said: str


class Comment(BaseModel):
    comment: str = ""


class Rejection(BaseModel):
    reason: Literal[REJECT_REASONS] = "false"  # type: ignore[valid-type]
    comment: str = ""


class Correction(BaseModel):
    head: str = Field(min_length=1)
    relation: str = Field(min_length=1)
    tail: str = Field(min_length=1)


class BulkAccept(BaseModel):
    min_confidence: float = Field(ge=0.0, le=1.0)
    relation: Optional[str] = None


class Accepted(BaseModel):
    accepted: int


class SpotCheckAsk(BaseModel):
    relation: Optional[str] = None
    min_confidence: float = Field(0.0, ge=0.0, le=1.0)
    max_confidence: float = Field(1.0, ge=0.0, le=1.0)
    from_text: Optional[bool] = None
    sample_size: int = Field(40, ge=1, le=1000)


@router.get("/queue", summary="the pending suggestions this caller has not judged, most confident first")
def get_queue(request: Request, actor: Actor = Depends(caller), relation: Optional[str] = None,
              min_confidence: float = Query(0.0, ge=0.0, le=1.0), max_confidence: float = Query(1.0, ge=0.0, le=1.0),
              offset: int = Query(0, ge=0, le=MAX_ID), limit: int = Query(50, ge=1, le=MAX_PAGE),
              after: Optional[str] = Query(None, max_length=64, description=(
                  "the previous page's next_after: the page that follows its last suggestion, whatever was decided "
                  "meanwhile (an offset skips as many suggestions as were decided), as fast on page 1,000 as on "
                  "page 1; with it, offset counts from there"))) -> dict:
    database, mine = database_of(request), actor.name  # with second opinions, what this caller has not judged
    found = queue(database, relation=relation, min_confidence=min_confidence, max_confidence=max_confidence,
                  limit=offset + limit + 1, curator=mine, after=cursor(after))
    total = queue_size(database, relation=relation, min_confidence=min_confidence, max_confidence=max_confidence,
                       curator=mine)
    return page(found[offset:], offset, limit, total,
                cursor_of=("next_after", lambda last: f"{last.confidence!r}:{last.id}"))


@router.get("/queue/mine", summary="my next items: suggestions handed to this caller alone for a while")
def get_my_next_items(request: Request, actor: Actor = Depends(caller), relation: Optional[str] = None,
                      limit: int = Query(10, ge=1, le=MAX_PAGE)) -> list[dict]:
    return plain(my_next_items(database_of(request), actor, limit=limit, relation=relation))


@router.post("/suggestions/{triple_id}/accept", response_model=Said, summary="accept a suggestion as a fact")
def post_accept(triple_id: RowId, request: Request, body: Comment = Comment(), actor: Actor = Depends(caller),
                key: Optional[str] = IdempotencyKey):
    return idempotent(request, actor, key, lambda: Said(said=accept(database_of(request), actor, triple_id,
                                                                    body.comment)), body)


@router.post("/suggestions/{triple_id}/reject", response_model=Said, summary="reject a suggestion with a reason")
def post_reject(triple_id: RowId, request: Request, body: Rejection = Rejection(), actor: Actor = Depends(caller),
                key: Optional[str] = IdempotencyKey):
    return idempotent(request, actor, key, lambda: Said(said=reject(database_of(request), actor, triple_id,
                                                                    body.reason, body.comment)), body)


@router.post("/suggestions/{triple_id}/correct", response_model=Said,
             summary="reject the suggestion as stated and accept the corrected triple")
def post_correct(triple_id: RowId, body: Correction, request: Request, actor: Actor = Depends(caller),
                 key: Optional[str] = IdempotencyKey):
    return idempotent(request, actor, key, lambda: Said(said=accept_corrected(
        database_of(request), actor, triple_id, head=body.head, relation=body.relation, tail=body.tail)), body)


@router.post("/suggestions/bulk-accept", response_model=Accepted,
             summary="accept every pending suggestion at or above a confidence")
def post_bulk_accept(body: BulkAccept, request: Request, actor: Actor = Depends(caller),
                     key: Optional[str] = IdempotencyKey):
    return idempotent(request, actor, key, lambda: Accepted(accepted=bulk_accept(
        database_of(request), actor, min_confidence=body.min_confidence, relation=body.relation)), body)


class Undone(BaseModel):
    #: what was taken back, in words (null: nothing was left to undo)
    undone: Optional[str]


@router.post("/undo", response_model=Undone, summary="take back this caller's latest verdict")
def post_undo(request: Request, actor: Actor = Depends(caller), key: Optional[str] = IdempotencyKey):
    return idempotent(request, actor, key, lambda: Undone(undone=undo_last(database_of(request), actor)))


@router.post("/spot-checks", summary="freeze a slice of the queue and draw the sample to judge")
def post_spot_check(body: SpotCheckAsk, request: Request, actor: Actor = Depends(caller)) -> dict:
    if body.min_confidence > body.max_confidence:
        raise ApiError(422, "min_confidence is above max_confidence", "invalid")
    check = start_spot_check(database_of(request), actor, relation=body.relation,
                             min_confidence=body.min_confidence, max_confidence=body.max_confidence,
                             from_text=body.from_text, sample_size=body.sample_size)
    return _check(check)


@router.get("/spot-checks/{check_id}", summary="a spot check: its sample and what it says of the rest")
def get_spot_check(check_id: RowId, request: Request, actor: Actor = Depends(caller)) -> dict:
    return _check(spot_check(database_of(request), check_id))


@router.post("/spot-checks/{check_id}/accept-rest", response_model=Said,
             summary="accept the rest of the slice, signing off on the sample's estimate")
def post_accept_rest(check_id: RowId, request: Request, actor: Actor = Depends(caller),
                     key: Optional[str] = IdempotencyKey):
    return idempotent(request, actor, key, lambda: Said(said=accept_rest(database_of(request), actor, check_id)))


def _check(check) -> dict:
    return {**plain(check), "statement": check.words()}


@router.get("/history", tags=["history"], summary="the audit log, newest first")
def get_history(request: Request, actor: Actor = Depends(caller), offset: int = Query(0, ge=0, le=MAX_ID),
                limit: int = Query(50, ge=1, le=MAX_PAGE),
                before: Optional[int] = Query(None, ge=1, le=MAX_ID, description=(
                    "the previous page's next_before: the events older than its last one, however many were "
                    "logged meanwhile (an offset shows again as many as were logged); with it, offset counts "
                    "from there"))) -> dict:
    rows = history(database_of(request), limit=offset + limit + 1, viewer=actor.name, before=before)
    return page(rows[offset:], offset, limit, cursor_of=("next_before", lambda last: last.id))
