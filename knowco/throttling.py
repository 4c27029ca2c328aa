"""Login throttling, shared by the app's login form and the API's login through the database.

Failures are counted per name *from one address* and per address: after `FREE_FAILURES` in a row, the next try
from there is refused for a while that doubles with each further failure (1 s, 2 s, 4 s, ... at most
`MAX_WAIT`). Failures per name from any address count too, but only from `NAME_FREE_FAILURES` and for at most
`NAME_MAX_WAIT`: guessing from many addresses is slowed, yet nobody can lock the admin out by failing in their
name (the longest an attacker can hold a name is `NAME_MAX_WAIT` at a time, and the admin's own address stays
open). Nothing sleeps: a refused try is answered at once with how long to wait ("too many attempts", HTTP 429
and Retry-After on the API). Each try is counted before the password is checked, under a row lock, so
parallel guesses cannot slip past the count; a success takes its count back and clears its name's counts; a
failure older than `FORGET_AFTER` no longer counts.
"""
from __future__ import annotations

import math
from datetime import timedelta
from typing import Optional

from storage import api_access
from storage.database import Database
from storage.models import utcnow

from knowco.access import Actor
from knowco.accounts import authenticate
from knowco.errors import CuratorError

FREE_FAILURES = 5
MAX_WAIT = timedelta(minutes=15)
NAME_FREE_FAILURES = 25
NAME_MAX_WAIT = timedelta(minutes=1)
FORGET_AFTER = timedelta(hours=1)


class TooManyAttempts(CuratorError):
    """A login refused without checking the password: too many failed tries just now."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed attempts: try again in {retry_after} s")
        self.retry_after = retry_after


def wait_for(failures: int, free: int = FREE_FAILURES, longest: timedelta = MAX_WAIT) -> timedelta:
    """How long the next try is refused after this many failures in a row."""
    if failures < free:
        return timedelta(0)
    return timedelta(seconds=min(longest.total_seconds(), 2.0 ** min(failures - free, 30)))


def _rules(name: str, address: Optional[str]) -> dict[str, tuple[int, timedelta]]:
    """Each key this try counts against, with its free failures and longest wait."""
    name = name.lower()
    rules = {f"name:{name}": (NAME_FREE_FAILURES, NAME_MAX_WAIT)}
    if address:
        rules[f"name:{name}@{address}"] = (FREE_FAILURES, MAX_WAIT)
        rules[f"address:{address}"] = (FREE_FAILURES, MAX_WAIT)
    else:  # no address (a local session): the name's own count is the only guard
        rules[f"name:{name}@-"] = (FREE_FAILURES, MAX_WAIT)
    return rules


def log_in(database: Database, name: str, password: str, address: Optional[str] = None) -> Optional[Actor]:
    """The account when the password matches; None when it does not; `TooManyAttempts` (with the seconds to
    wait) where the name or the address failed too often just now, without looking at the password."""
    now = utcnow()
    rules = _rules(name, address)
    with database.transaction() as session:
        before = api_access.count_attempt(session, list(rules), now, now - FORGET_AFTER)
        blocked = [a.blocked_until for a in before.values() if a.blocked_until is not None and a.blocked_until > now]
        if blocked:  # raised inside: the transaction rolls back, so a refused try is not counted
            raise TooManyAttempts(math.ceil((max(blocked) - now).total_seconds()))
        for key, (free, longest) in rules.items():
            delay = wait_for(before[key].failures + 1, free, longest)
            if delay:
                api_access.block(session, key, now + delay)
    actor = authenticate(name, password)
    if actor is not None:
        with database.transaction() as session:
            api_access.forget(session, list(rules))
    return actor
