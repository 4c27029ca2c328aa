"""The audit log as the History page reads it: newest first, filtered by who, what and when."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional, Sequence

from sqlalchemy import distinct, select
from sqlalchemy.orm import Session

from storage.models import AuditEvent


@dataclass
class HistoryRow:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    target_id: Optional[int]
    details: dict[str, Any]


def history(session: Session, *, actors: Sequence[str] = (), actions: Sequence[str] = (),
            since: Optional[datetime] = None, limit: int = 500) -> list[HistoryRow]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if actors:
        query = query.where(AuditEvent.actor.in_(list(actors)))
    if actions:
        query = query.where(AuditEvent.action.in_(list(actions)))
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    return [HistoryRow(e.id, e.at, e.actor, e.action, e.target, e.target_id, dict(e.details or {}))
            for e in session.scalars(query)]


def history_choices(session: Session) -> tuple[list[str], list[str]]:
    """The actors and actions that occur, for the filters."""
    actors = sorted(session.scalars(select(distinct(AuditEvent.actor))))
    actions = sorted(session.scalars(select(distinct(AuditEvent.action))))
    return actors, actions
