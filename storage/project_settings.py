"""Project-wide choices an admin makes in the app, one JSON value a key (`ProjectSetting`), each change an
audit event."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from storage.audit import record_event
from storage.models import ProjectSetting


def value_of(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(ProjectSetting, key)
    return row.value if row is not None else default


def set_value(session: Session, key: str, value: Any, user: str, action: str, details: dict) -> None:
    session.merge(ProjectSetting(key=key, value=value))
    record_event(session, actor=user, action=action, target="project_setting", target_id=None, details=details)
