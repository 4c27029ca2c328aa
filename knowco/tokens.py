"""Tokens for the HTTP API: another program (a literature pipeline, a nightly script) acts as one account, with
that account's role, by sending a token. Created on the command line (`python -m knowco token add NAME`) or by
logging in through the API; shown once, stored as its SHA-256, revocable at any time.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional

from sqlalchemy.exc import IntegrityError

from storage import api_access
from storage.api_access import TokenRow
from storage.audit import record_event
from storage.database import Database, StorageError
from storage.models import utcnow

from knowco.access import ROLES, Actor
from knowco.errors import CuratorError

_NAME = re.compile(r"^[\w.@-]{1,64}$")
#: what every token starts with, so one found in a log or a repository is recognisable
PREFIX = "kc_"
#: "last used" is written at most this often per token
USED_EVERY = timedelta(minutes=1)


class TokenError(CuratorError):
    """A token that cannot be made or revoked: one sentence saying why."""


@dataclass(frozen=True)
class NewToken:
    row: TokenRow
    #: the token itself: shown once, never stored
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def add_token(database: Database, name: str, actor: Actor, made_by: str,
              lasts: Optional[timedelta] = None) -> NewToken:
    """A new token that acts as `actor` (its name and role); `name` says what it is for; with `lasts`, it
    expires that long after it is made (a login's token: a changed password or role takes effect by then)."""
    if not _NAME.match(name):
        raise TokenError("a token's name is 1 to 64 letters, digits, '.', '@', '_' or '-'")
    if actor.role not in ROLES:
        raise TokenError(f"the role must be one of {', '.join(ROLES)}")
    secret = PREFIX + secrets.token_urlsafe(32)
    taken = TokenError(f"a token named {name} exists; revoke it first or pick another name")
    try:
        with database.transaction() as session:
            if api_access.live_token_named(session, name) is not None:
                raise taken
            now = utcnow()
            row = api_access.add_token(session, name, actor.name, actor.role, _hash(secret), made_by, now,
                                       now + lasts if lasts else None)
            record_event(session, actor=made_by, action="add_token", target="api_token", target_id=row.id,
                         details={"name": name, "acts_as": actor.name, "role": actor.role})
    except IntegrityError:  # another `token add` of this name committed between the look-up and the insert
        raise taken from None
    return NewToken(row, secret)


def revoke_token(database: Database, name: str, revoked_by: str) -> str:
    with database.transaction() as session:
        row = api_access.live_token_named(session, name)
        if row is None:
            raise TokenError(f"there is no token named {name} (or it is revoked already)")
        api_access.revoke(session, row.id, utcnow())
        record_event(session, actor=revoked_by, action="revoke_token", target="api_token", target_id=row.id,
                     details={"name": name})
    return f"token {name} revoked: programs using it are refused from now on"


def list_tokens(database: Database) -> list[TokenRow]:
    with database.sessions() as session:
        return api_access.tokens(session)


def actor_for_token(database: Database, secret: str) -> Optional[Actor]:
    """The account a live token acts as; None for a wrong, unknown or revoked one."""
    if not secret.startswith(PREFIX):
        return None
    with database.sessions() as session:
        row = api_access.token_by_hash(session, _hash(secret))
    now = utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and _utc(row.expires_at) <= now):
        return None
    if row.last_used_at is None or now - _utc(row.last_used_at) > USED_EVERY:
        try:
            with database.transaction() as session:  # a write a minute at most: every call is a read
                api_access.mark_used(session, row.id, now)
        except StorageError:
            pass  # "last used" is a hint: a busy database must not refuse the call, and the next one tries again
    return Actor(row.actor, row.role)


def revoke_secret(database: Database, secret: str) -> bool:
    """Revoke the token that is this secret (a client logging out); False where it is not a live token."""
    with database.transaction() as session:
        row = api_access.token_by_hash(session, _hash(secret))
        if row is None or row.revoked_at is not None:
            return False
        api_access.revoke(session, row.id, utcnow())
        record_event(session, actor=row.actor, action="revoke_token", target="api_token", target_id=row.id,
                     details={"name": row.name, "by": "logging out"})
    return True


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
