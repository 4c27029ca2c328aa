"""Reading and writing the rows a verdict touches, as plain values: a triple's state, a compare-and-set of its
status, the label a verdict leaves, the audit events undo reads back. The rules that decide which of these
happen (the overlap, adjudication, undo, labels from verdicts) are the service layer's (`knowco/verdicts.py`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, aliased

from storage.models import AuditEvent, Entity, Example, Relation, Triple, Verdict

HEAD, TAIL = aliased(Entity, name="head"), aliased(Entity, name="tail")


@dataclass(frozen=True)
class TripleRow:
    id: int
    head_id: int
    relation_id: int
    tail_id: int
    status: str
    reviewed_by: Optional[str]
    reviewed_at: Optional[datetime]
    reason: Optional[str]
    comment: Optional[str]
    #: "head —relation→ tail" in the entities' and the relation's labels
    words: str
    spot_check_id: Optional[int] = None

    @property
    def key(self) -> tuple[int, int, int]:
        return self.head_id, self.relation_id, self.tail_id

    def state(self) -> dict:
        """What undo restores: the reviewable columns, as JSON."""
        return {"status": self.status, "reviewed_by": self.reviewed_by,
                "reviewed_at": self.reviewed_at.isoformat() if self.reviewed_at else None,
                "reason": self.reason, "comment": self.comment, "spot_check_id": self.spot_check_id}


def _row(session: Session, triple: Triple) -> TripleRow:
    """The triple as plain values, its words read in one query (its entities and relation one by one were three
    queries, twice per verdict)."""
    head, relation, tail = session.execute(
        select(HEAD.label, Relation.label, TAIL.label).select_from(Triple).join(HEAD, Triple.head_id == HEAD.id)
        .join(TAIL, Triple.tail_id == TAIL.id).join(Relation, Triple.relation_id == Relation.id)
        .where(Triple.id == triple.id)).one()
    return TripleRow(triple.id, triple.head_id, triple.relation_id, triple.tail_id, triple.status,
                     triple.reviewed_by, triple.reviewed_at, triple.reason, triple.comment,
                     f"{head} —{relation}→ {tail}", triple.spot_check_id)


def triple_row(session: Session, triple_id: int, lock: bool = False) -> Optional[TripleRow]:
    """The triple; with `lock`, its row locked until the transaction ends (PostgreSQL: two curators' verdicts
    on one suggestion are counted one after the other; SQLite serialises writers anyway)."""
    triple = session.get(Triple, triple_id, with_for_update=lock)
    return _row(session, triple) if triple is not None else None


def ids_named(session: Session, head: str, relation: str, tail: str
              ) -> tuple[Optional[int], Optional[int], Optional[int]]:
    """The ids of the entities and the relation named so (None for a name that is not there)."""
    def one(model, name: str) -> Optional[int]:
        return session.scalar(select(model.id).where(model.name == name))

    return one(Entity, head), one(Relation, relation), one(Entity, tail)


def triple_with(session: Session, key: tuple[int, int, int]) -> Optional[TripleRow]:
    triple = session.scalar(select(Triple).where(Triple.head_id == key[0], Triple.relation_id == key[1],
                                                 Triple.tail_id == key[2]))
    return _row(session, triple) if triple is not None else None


def status_of(session: Session, triple_id: int) -> Optional[str]:
    return session.scalar(select(Triple.status).where(Triple.id == triple_id))


def set_status(session: Session, row: TripleRow, status: str, user: str, now: datetime, *,
               reason: Optional[str] = None, comment: Optional[str] = None) -> Optional[TripleRow]:
    """Set the status only if nobody changed it since `row` was read (compare-and-set in the UPDATE's WHERE):
    of two curators deciding on one suggestion at once, exactly one wins. None for the one who lost."""
    done = session.execute(update(Triple).where(Triple.id == row.id, Triple.status == row.status)
                           .values(status=status, reviewed_by=user, reviewed_at=now, reason=reason,
                                   comment=" ".join((comment or "").split()) or None)
                           .execution_options(synchronize_session="fetch"))
    if done.rowcount != 1:
        return None
    return triple_row(session, row.id)


def set_spot_check(session: Session, triple_ids: list[int], spot_check_id: Optional[int]) -> None:
    """Record on these triples the spot check whose stated precision accepted them."""
    for start in range(0, len(triple_ids), 500):
        session.execute(update(Triple).where(Triple.id.in_(triple_ids[start:start + 500]))
                        .values(spot_check_id=spot_check_id).execution_options(synchronize_session="fetch"))


def add_fact(session: Session, key: tuple[int, int, int], user: str, now: datetime) -> TripleRow:
    """A curator's accepted triple (a correction of a suggestion)."""
    triple = Triple(head_id=key[0], relation_id=key[1], tail_id=key[2], status="accepted", source="curator",
                    created_by=user, created_at=now, reviewed_by=user, reviewed_at=now)
    session.add(triple)
    session.flush()
    return _row(session, triple)


def add_label(session: Session, key: tuple[int, int, int], holds: bool, user: str, now: datetime) -> Optional[int]:
    """A triple label; None where the triple already has one (nothing is added)."""
    existing = session.scalar(select(Example.id).where(
        Example.kind == "triple", Example.head_id == key[0], Example.relation_id == key[1],
        Example.tail_id == key[2]))
    if existing is not None:
        return None
    example = Example(kind="triple", label=holds, head_id=key[0], relation_id=key[1], tail_id=key[2],
                      created_by=user, created_at=now)
    session.add(example)
    session.flush()
    return example.id


def positive_label(session: Session, key: tuple[int, int, int]) -> Optional[tuple[int, str]]:
    """(id, status) of the label saying the triple holds, where there is one."""
    found = session.execute(select(Example.id, Example.status).where(
        Example.kind == "triple", Example.head_id == key[0], Example.relation_id == key[1],
        Example.tail_id == key[2], Example.label.is_(True))).first()
    return (found[0], found[1]) if found else None


def set_label(session: Session, example_id: int, holds: bool, status: str) -> None:
    session.execute(update(Example).where(Example.id == example_id).values(label=holds, status=status))


def delete_rows(session: Session, *, verdict: Optional[int] = None, example: Optional[int] = None,
                triple: Optional[int] = None) -> None:
    """Delete the rows named (what undo takes back)."""
    for model, row_id in ((Verdict, verdict), (Example, example), (Triple, triple)):
        if row_id is not None:
            session.execute(delete(model).where(model.id == row_id))


def restore(session: Session, triple_id: int, before: dict, only_if: Optional[str] = None) -> bool:
    """The triple's reviewable columns as `before` says; with `only_if`, only while its status is that
    (compare-and-set). Returns whether the row changed."""
    values = dict(status=before["status"], reviewed_by=before["reviewed_by"], reason=before.get("reason"),
                  comment=before.get("comment"), spot_check_id=before.get("spot_check_id"),
                  reviewed_at=datetime.fromisoformat(before["reviewed_at"]) if before["reviewed_at"] else None)
    query = update(Triple).where(Triple.id == triple_id)
    if only_if is not None:
        query = query.where(Triple.status == only_if)
    return session.execute(query.values(**values).execution_options(synchronize_session="fetch")).rowcount == 1


def exists(session: Session, triple_id: int) -> bool:
    return session.get(Triple, triple_id) is not None


@dataclass(frozen=True)
class EventRow:
    id: int
    action: str
    details: dict


def latest_events(session: Session, user: str, actions: tuple[str, ...], limit: int = 500) -> list[EventRow]:
    """This user's latest events of these actions, newest first."""
    return [EventRow(e.id, e.action, dict(e.details or {})) for e in session.scalars(
        select(AuditEvent).where(AuditEvent.actor == user, AuditEvent.action.in_(actions))
        .order_by(AuditEvent.id.desc()).limit(limit))]
