"""The answers given to requests with an idempotency key (the HTTP API's verdicts), kept a day so a client that
retries after a timeout gets the first answer instead of deciding twice."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Optional

from storage import api_access
from storage.database import Database
from storage.models import utcnow


def earlier_answer(database: Database, key: str, actor: str) -> Optional[tuple[str, int, dict[str, Any]]]:
    """(request, status code, body) already given to this key and caller, or None."""
    with database.sessions() as session:
        return api_access.earlier_answer(session, key, actor)


#: an answer is kept this long: a client retries within seconds or minutes, not days
KEEP_ANSWERS = timedelta(days=1)


def keep_answer(database: Database, key: str, actor: str, request: str, status_code: int, body: dict) -> bool:
    """Store the answer (and forget those past `KEEP_ANSWERS`, in the same write); False where a concurrent
    request with the same key stored one first."""
    now = utcnow()
    with database.transaction() as session:
        api_access.forget_answers_before(session, now - KEEP_ANSWERS)
        return api_access.keep_answer(session, key, actor, request, status_code, body, now)
