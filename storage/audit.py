"""The audit trail: one append-only row per write, so nothing a curator did is lost."""
from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AuditEvent, utcnow


def record_event(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    target_id: Optional[int] = None,
    details: Optional[dict[str, Any]] = None,
) -> AuditEvent:
    event = AuditEvent(at=utcnow(), actor=actor, action=action, target=target, target_id=target_id,
                       details=details or {})
    session.add(event)
    return event


def recent_events(session: Session, limit: int = 100, actor: Optional[str] = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    return list(session.scalars(query))
