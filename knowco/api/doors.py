"""What every API call goes through: the caller's token (on localhost too), one error shape, pages, and the
idempotency key that makes a retried verdict answer as the first one did instead of deciding twice.

The error shape: `{"error": {"message": "...", "kind": "...", "id": null}}`. A curator error (a role that may
not, a suggestion already decided, a file that does not parse) is a 4xx with its sentence; a database that is
busy, full or read-only a 503 with its sentence and Retry-After; anything else a 500 whose message names the
error id the server log has the traceback under.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Annotated, Any, Callable, Optional

import anyio

from fastapi import Depends, FastAPI, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from knowco.services import (CURATOR_ERRORS, UNDER_WAY, Actor, Database, JobError, PermissionDenied, StorageError,
                             TooManyAttempts, actor_for_token, keep_answer, release_key, report_internal, reserve_key)

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


#: paths answered without a token (the schema, its page, and the login that gives one)
OPEN_PATHS = frozenset({"/v1/login", "/v1/openapi.json", "/v1/docs", "/v1/docs/oauth2-redirect"})
#: the paths that take a file, and the largest JSON body any other takes
UPLOAD_PATHS = frozenset({"/v1/imports", "/v1/documents"})
MAX_JSON_BYTES = 1 << 20
_UNAUTHORIZED = "this call needs a token: send 'Authorization: Bearer <token>'"


class TokenBeforeBody:
    """ASGI middleware: the token is checked, and a declared body size against the limit, before the body is
    read, so an anonymous caller cannot make the server spool a large upload (FastAPI reads the body before
    the route's dependencies run). The actor found is handed to `caller` in the request's state."""

    def __init__(self, app, database: Database, max_upload: int) -> None:
        self.app, self.database, self.max_upload = app, database, max_upload

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        limit = self.max_upload if scope["path"] in UPLOAD_PATHS else MAX_JSON_BYTES
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > limit:
            await _answer(send, 413, error_body(f"the request body is larger than the {limit >> 20} MB this path "
                                                "takes", "too_large"))
            return
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        actor = (await anyio.to_thread.run_sync(actor_for_token, self.database, token.strip())
                 if scheme.lower() == "bearer" and token.strip() else None)
        if actor is None:
            message = _UNAUTHORIZED if not token.strip() else "the token is wrong, unknown or revoked"
            await _answer(send, 401, error_body(message, "unauthorized"), [(b"www-authenticate", b"Bearer")])
            return
        scope.setdefault("state", {})["actor"] = actor
        await self.app(scope, receive, send)


async def _answer(send, status: int, body: dict, headers: Optional[list] = None) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": payload})


def caller(request: Request, credentials: Optional[HTTPAuthorizationCredentials] = Depends(_bearer)) -> Actor:
    """The account the request's bearer token acts as (found by `TokenBeforeBody`); 401 without a live token."""
    found = getattr(request.state, "actor", None)
    if found is not None:
        return found
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


def cursor(after: Optional[str]) -> Optional[tuple[float, int]]:
    """A queue page's `next_after` ("confidence:id") read back, or None; anything else is the caller's error."""
    if after is None:
        return None
    confidence, _, row = after.partition(":")
    try:
        point = (float(confidence), int(row))
    except ValueError:
        point = None
    if point is None or not (0.0 <= point[0] <= 1.0 and 0 < point[1] <= MAX_ID):
        raise ApiError(422, f"after={after!r} is not a page's next_after (a confidence and a suggestion id, "
                            "e.g. 0.93:1204)", "invalid")
    return point


def page(items: list, offset: int, limit: int, total: Optional[int] = None,
         cursor_of: Optional[tuple[str, Callable[[Any], Any]]] = None) -> dict:
    """One page of `items` (already cut to offset..offset+limit+1: one more than the page says whether a next
    one exists); `cursor_of` (name, what of the page's last item starts the next page) adds that cursor."""
    more = len(items) > limit
    out = {"items": plain(items[:limit]), "offset": offset, "limit": limit, "total": total,
           "next_offset": offset + limit if more else None}
    if cursor_of is not None:
        name, of = cursor_of
        out[name] = of(items[limit - 1]) if more else None
    return out


def idempotent(request: Request, actor: Actor, key: Optional[str], decide: Callable[[], Any],
               body: Optional[BaseModel] = None) -> JSONResponse:
    """Run `decide` once per (key, caller): a retry of the same request (method, path, query and body) gets the
    first answer, errors included; one sent while the first is under way is told to retry (409, Retry-After);
    the same key on another request is refused (409)."""
    if not key:
        return JSONResponse(plain(decide()))
    if len(key) > 200:
        raise ApiError(400, "an idempotency key has at most 200 characters")
    database = database_of(request)
    shown = json.dumps([dict(request.query_params), body.model_dump(mode="json") if body is not None else None],
                       sort_keys=True)
    asked = f"{request.method} {request.url.path} " + hashlib.sha256(shown.encode()).hexdigest()[:32]
    held = reserve_key(database, key, actor.name, asked)
    if held is not None:
        return _replayed(held, asked)
    try:
        status, answer = 200, plain(decide())
    except StorageError:
        release_key(database, key, actor.name)  # a busy or full database: the retry decides, it is not told this
        raise
    except CURATOR_ERRORS as exc:
        status, answer = _curator_status(exc), error_body(str(exc), _kind(exc))
    except BaseException:
        release_key(database, key, actor.name)
        raise
    keep_answer(database, key, actor.name, status, answer if isinstance(answer, dict) else {"value": answer})
    return JSONResponse(answer, status_code=status)


def _replayed(held: tuple[str, int, dict], asked: str) -> JSONResponse:
    request, status, body = held
    if request != asked:
        raise ApiError(409, "this idempotency key was used for another request", "conflict")
    if status == UNDER_WAY:
        raise ApiError(409, "the first request with this idempotency key is still under way: retry in a moment",
                       "conflict", {"Retry-After": "1"})
    return JSONResponse(body.get("value", body) if set(body) == {"value"} else body, status_code=status,
                        headers={"Idempotent-Replayed": "true"})


def _kind(exc: Exception) -> str:
    if isinstance(exc, StorageError):
        return "unavailable"
    if isinstance(exc, PermissionDenied):
        return "forbidden"
    if isinstance(exc, TooManyAttempts):
        return "too_many_attempts"
    if isinstance(exc, JobError):
        return "conflict"
    return "bad_request"


def _curator_status(exc: Exception) -> int:
    return {"forbidden": 403, "too_many_attempts": 429, "conflict": 409, "unavailable": 503}.get(_kind(exc), 400)


def install_error_handlers(app: FastAPI) -> None:
    """Every answer that is not 2xx has the one error shape."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.message, exc.kind), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
        return JSONResponse(error_body(str(exc.detail), kind), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        return JSONResponse(error_body(f"{where}: {first.get('msg', 'invalid request')}", "invalid"), status_code=422)

    for error in CURATOR_ERRORS:
        @app.exception_handler(error)
        async def curator(_: Request, exc: Exception) -> JSONResponse:
            headers = ({"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts)
                       else {"Retry-After": "1"} if isinstance(exc, StorageError) else {})
            return JSONResponse(error_body(str(exc), _kind(exc)), status_code=_curator_status(exc), headers=headers)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        sentence = report_internal(exc, f"answer {request.method} {request.url.path}")
        return JSONResponse(error_body(sentence, "internal", sentence.split("error id ")[1].split(";")[0]),
                            status_code=500)
