"""The rows behind the HTTP API's doors: tokens (stored hashed), failed logins per name and address, and the
answers given to requests with an idempotency key. When a token is valid, how long a login is refused and what
a retried request gets are the service layer's rules (`knowco/tokens.py`, `knowco/throttling.py`,
`knowco/api/`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import delete, select, update
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


def _token(row: ApiToken) -> TokenRow:
    return TokenRow(row.id, row.name, row.actor, row.role, row.created_by, row.created_at, row.last_used_at,
                    row.revoked_at)


def add_token(session: Session, name: str, actor: str, role: str, token_hash: str, user: str,
              now: datetime) -> TokenRow:
    row = ApiToken(name=name, actor=actor, role=role, token_hash=token_hash, created_by=user, created_at=now)
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


def attempts(session: Session, keys: list[str]) -> list[Attempts]:
    rows = session.scalars(select(LoginAttempts).where(LoginAttempts.key.in_(keys)))
    return [Attempts(r.key, r.failures, r.last_failure_at, r.blocked_until) for r in rows]


def record_failure(session: Session, key: str, failures: int, now: datetime, blocked_until: Optional[datetime]
                   ) -> None:
    session.merge(LoginAttempts(key=key, failures=failures, last_failure_at=now, blocked_until=blocked_until))


def forget(session: Session, keys: list[str]) -> None:
    session.execute(delete(LoginAttempts).where(LoginAttempts.key.in_(keys)))


def earlier_answer(session: Session, key: str, actor: str) -> Optional[tuple[str, int, dict[str, Any]]]:
    """(request, status code, body) of the answer already given to this key and caller, or None."""
    row = session.get(IdempotentRequest, (key, actor))
    return (row.request, row.status_code, dict(row.body)) if row is not None else None


def keep_answer(session: Session, key: str, actor: str, request: str, status_code: int, body: dict[str, Any],
                now: datetime) -> bool:
    """Store the answer; False where another request with the same key stored one first."""
    try:
        with session.begin_nested():
            session.add(IdempotentRequest(key=key, actor=actor, request=request, status_code=status_code, body=body,
                                          created_at=now))
    except IntegrityError:
        return False
    return True


def forget_answers_before(session: Session, before: datetime) -> int:
    return session.execute(delete(IdempotentRequest).where(IdempotentRequest.created_at < before)).rowcount
