"""KnowCo's HTTP API (`python -m knowco serve-api`): the service layer for other programs, nothing
re-implemented. Versioned paths (`/v1/...`), a bearer token on every call (localhost too), the roles the services
check, pages, idempotency keys on verdicts, one error shape, and an OpenAPI schema (`/v1/openapi.json`,
committed as `docs/openapi.json`). `knowco.client` is its Python client.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, Field

from knowco.api import data, models, review
from knowco.api.doors import ApiError, TokenBeforeBody, caller, database_of, install_error_handlers
from knowco.services import (MAX_UPLOAD_BYTES, Actor, Database, TokenError, add_token, log_in, open_database,
                             revoke_secret, settings)

VERSION = "1"
#: a token from POST /v1/login lasts this long (one from `token add` until it is revoked)
LOGIN_LASTS = timedelta(hours=12)


class Login(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1)


class Me(BaseModel):
    name: str
    role: str


class Token(Me):
    #: the token to send as 'Authorization: Bearer <token>'; shown once, stored hashed
    token: str
    token_name: str


def create_app(database: Database) -> FastAPI:
    """The API over `database` (the app's own, when served beside it)."""
    api = FastAPI(title="KnowCo API", version=VERSION, openapi_url="/v1/openapi.json", docs_url="/v1/docs",
                  redoc_url=None, description=__doc__)
    api.state.database = database
    install_error_handlers(api)
    api.add_middleware(TokenBeforeBody, database=database, max_upload=MAX_UPLOAD_BYTES)

    @api.post("/v1/login", response_model=Token, tags=["access"],
              summary="a new token for an account's name and password (throttled after failed tries)")
    def post_login(body: Login, request: Request) -> Token:
        address = request.client.host if request.client else None
        actor = log_in(database_of(request), body.name, body.password, address)
        if actor is None:
            raise ApiError(401, "unknown name or wrong password", "unauthorized")
        name = f"login-{body.name[:40]}-{secrets.token_hex(4)}"
        try:
            made = add_token(database_of(request), name, actor, body.name, lasts=LOGIN_LASTS)
        except TokenError as error:  # a name clash of random suffixes: one sentence, not a 500
            raise ApiError(409, str(error), "conflict") from None
        return Token(name=actor.name, role=actor.role, token=made.secret, token_name=name)

    @api.get("/v1/me", response_model=Me, tags=["access"], summary="the account the token acts as")
    def get_me(actor: Actor = Depends(caller)) -> Me:
        return Me(name=actor.name, role=actor.role)

    @api.delete("/v1/tokens/current", tags=["access"], summary="log out: revoke the token this call carries")
    def delete_current_token(request: Request, actor: Actor = Depends(caller)) -> dict:
        token = request.headers.get("authorization", "").partition(" ")[2].strip()
        return {"revoked": revoke_secret(database_of(request), token)}

    for router in (review.router, data.router, models.router):
        api.include_router(router)
    return api


def app_from_settings() -> FastAPI:
    """The API over the database the environment names: what each of `serve-api --workers N`'s processes serves
    (uvicorn starts them from an import string, so each opens the database itself)."""
    return create_app(open_database(settings().database, migrate=False))  # `serve-api` migrated it
