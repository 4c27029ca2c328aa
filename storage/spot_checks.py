"""The rows of a spot check (`SpotCheck`): a frozen slice of the queue, its sample, and the sign-off; and the
statuses of its suggestions now. What the sample says and when the rest may be accepted are the service
layer's (`knowco/spot_checks.py`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from storage.models import Entity, Relation, SpotCheck, Triple


@dataclass(frozen=True)
class SpotCheckRow:
    id: int
    slice: dict[str, Any]
    #: triple id → its confidence band when the slice was frozen
    members: dict[int, int]
    sample: list[int]
    status: str
    created_by: str
    created_at: datetime
    estimate: Optional[dict[str, Any]]
    signed_off_by: Optional[str]
    signed_off_at: Optional[datetime]


def _row(check: SpotCheck) -> SpotCheckRow:
    return SpotCheckRow(check.id, dict(check.slice), {int(i): int(b) for i, b in check.members}, list(check.sample),
                        check.status, check.created_by, check.created_at, check.estimate, check.signed_off_by,
                        check.signed_off_at)


def create(session: Session, slice_: dict[str, Any], members: dict[int, int], sample: list[int], user: str,
           now: datetime) -> SpotCheckRow:
    check = SpotCheck(slice=slice_, members=[[i, b] for i, b in sorted(members.items())], sample=sample,
                      status="open", created_by=user, created_at=now)
    session.add(check)
    session.flush()
    return _row(check)


def get(session: Session, check_id: int, lock: bool = False) -> Optional[SpotCheckRow]:
    check = session.get(SpotCheck, check_id, with_for_update=lock)
    return _row(check) if check is not None else None


def open_checks(session: Session) -> list[SpotCheckRow]:
    return [_row(c) for c in session.scalars(select(SpotCheck).where(SpotCheck.status == "open")
                                             .order_by(SpotCheck.id.desc()))]


def statuses(session: Session, triple_ids: list[int]) -> dict[int, str]:
    """The status of each of these triples that still exists."""
    out: dict[int, str] = {}
    for start in range(0, len(triple_ids), 500):
        out.update(session.execute(select(Triple.id, Triple.status)
                                   .where(Triple.id.in_(triple_ids[start:start + 500]))).all())
    return out


def items(session: Session, triple_ids: list[int]) -> dict[int, tuple[str, float, str]]:
    """(head —relation→ tail in labels, confidence, status) of each of these triples that still exists."""
    head, tail = aliased(Entity), aliased(Entity)
    out = {}
    for start in range(0, len(triple_ids), 500):
        for i, h, r, t, confidence, status in session.execute(
                select(Triple.id, head.label, Relation.label, tail.label, Triple.confidence, Triple.status)
                .join(head, Triple.head_id == head.id).join(tail, Triple.tail_id == tail.id)
                .join(Relation, Triple.relation_id == Relation.id)
                .where(Triple.id.in_(triple_ids[start:start + 500]))):
            out[i] = (f"{h} —{r}→ {t}", confidence or 0.0, status)
    return out


def sign_off(session: Session, check_id: int, estimate: dict[str, Any], user: str, now: datetime) -> bool:
    """Mark the check accepted with its stated estimate, only if it is still open (compare-and-set)."""
    done = session.execute(update(SpotCheck).where(SpotCheck.id == check_id, SpotCheck.status == "open")
                           .values(status="accepted", estimate=estimate, signed_off_by=user, signed_off_at=now))
    return done.rowcount == 1


def reopen(session: Session, check_id: int) -> None:
    """Undo of a sign-off: the check is open again, with no estimate stated."""
    session.execute(update(SpotCheck).where(SpotCheck.id == check_id)
                    .values(status="open", estimate=None, signed_off_by=None, signed_off_at=None))


def for_export(session: Session) -> dict[int, SpotCheckRow]:
    """Every signed-off check, by id: the provenance an export gives the triples it accepted."""
    return {c.id: _row(c) for c in session.scalars(select(SpotCheck).where(SpotCheck.status == "accepted"))}
