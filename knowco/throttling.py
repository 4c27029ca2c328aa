"""Login throttling, shared by the app's login form and the API's login through the database: after
`FREE_FAILURES` failed tries in a row for a name, or from an address, the next try is refused for a while that
doubles with each further failure (1 s, 2 s, 4 s, ... at most `MAX_WAIT`). Nothing sleeps: a refused try is
answered at once with how long to wait ("too many attempts", HTTP 429 and Retry-After on the API). Nothing locks
for good either, so an attacker who guesses at the admin's name can delay the admin by `MAX_WAIT` at most,
never lock them out; a success for a name clears that name's count, and a failure older than `FORGET_AFTER`
no longer counts.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Optional

from storage import api_access
from storage.database import Database
from storage.models import utcnow

from knowco.access import Actor
from knowco.accounts import authenticate
from knowco.errors import CuratorError

FREE_FAILURES = 5
MAX_WAIT = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)


class TooManyAttempts(CuratorError):
    """A login refused without checking the password: too many failed tries just now."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed attempts: try again in {retry_after} s")
        self.retry_after = retry_after


def _keys(name: str, address: Optional[str]) -> list[str]:
    return [f"name:{name.lower()}"] + ([f"address:{address}"] if address else [])


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


def wait_for(failures: int) -> timedelta:
    """How long the next try is refused after this many failures in a row."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return timedelta(seconds=min(MAX_WAIT.total_seconds(), 2.0 ** min(failures - FREE_FAILURES, 30)))


def log_in(database: Database, name: str, password: str, address: Optional[str] = None) -> Optional[Actor]:
    """The account when the password matches; None when it does not; `TooManyAttempts` (with the seconds to
    wait) where the name or the address failed too often just now, without looking at the password."""
    now = utcnow()
    keys = _keys(name, address)
    with database.sessions() as session:
        seen = api_access.attempts(session, keys)
    blocked = [_aware(a.blocked_until) for a in seen if a.blocked_until is not None and _aware(a.blocked_until) > now]
    if blocked:
        raise TooManyAttempts(math.ceil((max(blocked) - now).total_seconds()))
    actor = authenticate(name, password)
    with database.transaction() as session:
        if actor is not None:
            api_access.forget(session, keys[:1])
            return actor
        counts = {a.key: a for a in api_access.attempts(session, keys)}
        for key in keys:
            earlier = counts.get(key)
            fresh = earlier is not None and now - _aware(earlier.last_failure_at) < FORGET_AFTER
            failures = (earlier.failures if fresh else 0) + 1
            wait = wait_for(failures)
            api_access.record_failure(session, key, failures, now, now + wait if wait else None)
    return None
