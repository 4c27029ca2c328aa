"""The rows behind the HTTP API's doors: tokens (stored hashed), failed logins per name and address, and the
answers given to requests with an idempotency key. When a token is valid, how long a login is refused and what
a retried request gets are the service layer's rules (`knowco/tokens.py`, `knowco/throttling.py`,
`knowco/api/`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import ApiToken, IdempotentRequest, LoginAttempts


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    actor: str
    role: str
    created_by: str
    created_at: datetime
    last_used_at: Optional[datetime]
    revoked_at: Optional[datetime]
    expires_at: Optional[datetime] = None


def _token(row: ApiToken) -> TokenRow:
    return TokenRow(row.id, row.name, row.actor, row.role, row.created_by, row.created_at, row.last_used_at,
                    row.revoked_at, row.expires_at)


def add_token(session: Session, name: str, actor: str, role: str, token_hash: str, user: str,
              now: datetime, expires_at: Optional[datetime] = None) -> TokenRow:
    row = ApiToken(name=name, actor=actor, role=role, token_hash=token_hash, created_by=user, created_at=now,
                   expires_at=expires_at)
    session.add(row)
    session.flush()
    return _token(row)


def live_token_named(session: Session, name: str) -> Optional[TokenRow]:
    row = session.scalars(select(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))).first()
    return _token(row) if row is not None else None


def token_by_hash(session: Session, token_hash: str) -> Optional[TokenRow]:
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()
    return _token(row) if row is not None else None


def mark_used(session: Session, token_id: int, now: datetime) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


def revoke(session: Session, token_id: int, now: datetime) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(revoked_at=now))


def tokens(session: Session) -> list[TokenRow]:
    return [_token(row) for row in session.scalars(select(ApiToken).order_by(ApiToken.id))]


@dataclass(frozen=True)
class Attempts:
    key: str
    failures: int
    last_failure_at: datetime
    blocked_until: Optional[datetime]


def count_attempt(session: Session, keys: list[str], now: datetime, forget_before: datetime
                  ) -> dict[str, Attempts]:
    """Each key's state before this attempt (times in UTC), with the attempt counted as a failure (a success
    takes it back):
    counted first, under a row lock, so parallel guesses cannot all pass the check before any is recorded.
    A count whose last failure is older than `forget_before` starts again."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for key in keys:  # a write first: SQLite takes its write lock here, PostgreSQL a row lock below
        session.execute(insert(LoginAttempts).values(key=key, failures=0, last_failure_at=now)
                        .on_conflict_do_nothing(index_elements=["key"]))
    before = {}
    for row in session.scalars(select(LoginAttempts).where(LoginAttempts.key.in_(keys)).with_for_update()):
        fresh = _aware(row.last_failure_at, now) >= forget_before
        blocked = _aware(row.blocked_until, now) if fresh and row.blocked_until is not None else None
        before[row.key] = Attempts(row.key, row.failures if fresh else 0, _aware(row.last_failure_at, now), blocked)
        row.failures = before[row.key].failures + 1
        row.last_failure_at = now
    session.execute(delete(LoginAttempts).where(LoginAttempts.last_failure_at < forget_before))
    return before


def block(session: Session, key: str, until: datetime) -> None:
    session.execute(update(LoginAttempts).where(LoginAttempts.key == key).values(blocked_until=until))


def forget(session: Session, keys: list[str]) -> None:
    session.execute(delete(LoginAttempts).where(LoginAttempts.key.in_(keys)))


def _aware(moment: datetime, like: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=like.tzinfo)


def reserve_answer(session: Session, key: str, actor: str, request: str, now: datetime
                   ) -> Optional[tuple[str, int, dict[str, Any]]]:
    """Reserve the key for this request (status 0: under way) and return None; or, where it is taken, return
    (request, status code, body) of what holds it (status 0: still under way)."""
    try:
        with session.begin_nested():
            session.add(IdempotentRequest(key=key, actor=actor, request=request, status_code=0, body={},
                                          created_at=now))
        return None
    except IntegrityError:
        row = session.get(IdempotentRequest, (key, actor), populate_existing=True)
        return (row.request, row.status_code, dict(row.body)) if row is not None else ("", 0, {})


def finish_answer(session: Session, key: str, actor: str, status_code: int, body: dict[str, Any]) -> None:
    session.execute(update(IdempotentRequest).where(IdempotentRequest.key == key, IdempotentRequest.actor == actor)
                    .values(status_code=status_code, body=body))


def release_answer(session: Session, key: str, actor: str) -> None:
    session.execute(delete(IdempotentRequest).where(IdempotentRequest.key == key, IdempotentRequest.actor == actor))


def forget_answers_before(session: Session, before: datetime) -> int:
    return session.execute(delete(IdempotentRequest).where(IdempotentRequest.created_at < before)).rowcount
