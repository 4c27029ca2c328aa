"""What every API call goes through: the caller's token (on localhost too), one error shape, pages, and the
idempotency key that makes a retried verdict answer as the first one did instead of deciding twice.

The error shape: `{"error": {"message": "...", "kind": "...", "id": null}}`. A curator error (a role that may
not, a suggestion already decided, a file that does not parse) is a 4xx with its sentence; anything else a 500
whose message names the error id the server log has the traceback under.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Annotated, Any, Callable, Optional

from fastapi import Depends, FastAPI, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from knowco.services import (CURATOR_ERRORS, Actor, Database, JobError, PermissionDenied, TooManyAttempts,
                             actor_for_token, earlier_answer, keep_answer, report_internal)

#: the most items one page returns
MAX_PAGE = 500
#: a row id or an offset past this is refused as invalid (the databases' integers stop at 2**31 or 2**63)
MAX_ID = 2**31 - 1
#: a row id in a path, and in a request's body
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="a row id")]
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]

_bearer = HTTPBearer(auto_error=False, description="a token from `python -m knowco token add NAME` or POST /v1/login")


class ApiError(Exception):
    """An answer other than 2xx, with the sentence the caller reads."""

    def __init__(self, status: int, message: str, kind: str = "bad_request",
                 headers: Optional[dict[str, str]] = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.headers = status, message, kind, headers or {}


def error_body(message: str, kind: str, error_id: Optional[str] = None) -> dict:
    return {"error": {"message": message, "kind": kind, "id": error_id}}


def database_of(request: Request) -> Database:
    return request.app.state.database


def caller(request: Request, credentials: Optional[HTTPAuthorizationCredentials] = Depends(_bearer)) -> Actor:
    """The account the request's bearer token acts as; 401 without a live token."""
    if credentials is None:
        raise ApiError(401, "this call needs a token: send 'Authorization: Bearer <token>'", "unauthorized",
                       {"WWW-Authenticate": "Bearer"})
    actor = actor_for_token(database_of(request), credentials.credentials)
    if actor is None:
        raise ApiError(401, "the token is wrong, unknown or revoked", "unauthorized", {"WWW-Authenticate": "Bearer"})
    return actor


def plain(value: Any) -> Any:
    """Dataclasses (the service layer's answers) as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    return jsonable_encoder(value)


def page(items: list, offset: int, limit: int, total: Optional[int] = None) -> dict:
    """One page of `items` (already cut to offset..offset+limit+1: one more than the page says whether a next
    one exists)."""
    more = len(items) > limit
    return {"items": plain(items[:limit]), "offset": offset, "limit": limit, "total": total,
            "next_offset": offset + limit if more else None}


def idempotent(request: Request, actor: Actor, key: Optional[str], decide: Callable[[], Any]) -> JSONResponse:
    """Run `decide` once per (key, caller): a retry with the same key gets the first answer (errors included),
    the same key on another request is refused (409)."""
    database = database_of(request)
    if not key:
        return JSONResponse(plain(decide()))
    if len(key) > 200:
        raise ApiError(400, "an idempotency key has at most 200 characters")
    asked = f"{request.method} {request.url.path} " + hashlib.sha256(
        json.dumps(dict(request.query_params), sort_keys=True).encode()).hexdigest()[:16]
    earlier = earlier_answer(database, key, actor.name)
    if earlier is not None:
        return _replayed(earlier, asked)
    try:
        status, body = 200, plain(decide())
    except CURATOR_ERRORS as exc:
        status, body = _curator_status(exc), error_body(str(exc), _kind(exc))
    if not keep_answer(database, key, actor.name, asked, status, body if isinstance(body, dict) else {"value": body}):
        return _replayed(earlier_answer(database, key, actor.name), asked)  # a concurrent retry answered first
    return JSONResponse(body, status_code=status)


def _replayed(earlier: tuple[str, int, dict], asked: str) -> JSONResponse:
    request, status, body = earlier
    if request != asked:
        raise ApiError(409, "this idempotency key was used for another request", "conflict")
    return JSONResponse(body.get("value", body) if set(body) == {"value"} else body, status_code=status,
                        headers={"Idempotent-Replayed": "true"})


def _kind(exc: Exception) -> str:
    if isinstance(exc, PermissionDenied):
        return "forbidden"
    if isinstance(exc, TooManyAttempts):
        return "too_many_attempts"
    if isinstance(exc, JobError):
        return "conflict"
    return "bad_request"


def _curator_status(exc: Exception) -> int:
    return {"forbidden": 403, "too_many_attempts": 429, "conflict": 409}.get(_kind(exc), 400)


def install_error_handlers(app: FastAPI) -> None:
    """Every answer that is not 2xx has the one error shape."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.message, exc.kind), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
        return JSONResponse(error_body(str(exc.detail), kind), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        return JSONResponse(error_body(f"{where}: {first.get('msg', 'invalid request')}", "invalid"), status_code=422)

    for error in CURATOR_ERRORS:
        @app.exception_handler(error)
        async def curator(_: Request, exc: Exception) -> JSONResponse:
            headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else {}
            return JSONResponse(error_body(str(exc), _kind(exc)), status_code=_curator_status(exc), headers=headers)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        sentence = report_internal(exc, f"answer {request.method} {request.url.path}")
        return JSONResponse(error_body(sentence, "internal", sentence.split("error id ")[1].split(";")[0]),
                            status_code=500)
