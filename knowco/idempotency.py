"""The answers given to requests with an idempotency key (the HTTP API's verdicts), kept a day so a client that
retries after a timeout gets the first answer instead of deciding twice. The key is reserved before the request
is decided, so a retry that arrives while the first is still under way is told so instead of deciding again."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Optional

from storage import api_access
from storage.database import Database
from storage.models import utcnow

#: an answer is kept this long: a client retries within seconds or minutes, not days
KEEP_ANSWERS = timedelta(days=1)
#: the status of a key whose request is still under way
UNDER_WAY = 0


def reserve_key(database: Database, key: str, actor: str, request: str) -> Optional[tuple[str, int, dict[str, Any]]]:
    """None where this request now holds the key (and answers older than `KEEP_ANSWERS` are forgotten in the
    same write); else (request, status, body) of the one that holds it (status `UNDER_WAY`: not answered yet)."""
    now = utcnow()
    with database.transaction() as session:
        api_access.forget_answers_before(session, now - KEEP_ANSWERS)
        return api_access.reserve_answer(session, key, actor, request, now)


def keep_answer(database: Database, key: str, actor: str, status_code: int, body: dict) -> None:
    with database.transaction() as session:
        api_access.finish_answer(session, key, actor, status_code, body)


def release_key(database: Database, key: str, actor: str) -> None:
    """The request failed without an answer (a bug, a lost database): a retry may decide."""
    with database.transaction() as session:
        api_access.release_answer(session, key, actor)
