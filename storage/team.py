"""Curating as a team, its rows: how many curators decide each suggestion (the overlap setting), their verdicts,
the disputed suggestions, and "my next items" (claims, so two curators are not handed
the same suggestion beyond the overlap).

With an overlap of 1 a verdict decides at once, as it always did; each verdict given on one suggestion is kept
either way (the shortcuts of a lone curator, accepting in bulk and correcting, write none), so agreement can be
measured once a team raises the overlap.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import Select, delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from storage.audit import record_event
from storage.models import Entity, ProjectSetting, Relation, ReviewClaim, Triple, Verdict

OVERLAP = "review_overlap"
MAX_OVERLAP = 5
#: a claim older than this is free again (the curator went away)
CLAIM_MINUTES = 15


class TeamError(ValueError):
    """A team action that cannot be done: one sentence saying why."""


def overlap(session: Session) -> int:
    """How many curators must decide each suggestion (1: the first verdict decides)."""
    value = session.get(ProjectSetting, OVERLAP)
    return int(value.value) if value is not None else 1


def set_count(session: Session, key: str, value: int, user: str, action: str, per: str) -> int:
    """A project's "how many curators" setting (`per` names what each counts for), with its audit event."""
    if not 1 <= value <= MAX_OVERLAP:
        raise TeamError(f"the overlap must be between 1 and {MAX_OVERLAP} curators per {per}")
    before = session.get(ProjectSetting, key)
    session.merge(ProjectSetting(key=key, value=value))
    record_event(session, actor=user, action=action, target="project_setting", target_id=None,
                 details={"before": int(before.value) if before is not None else 1, "after": value})
    return value


def set_overlap(session: Session, value: int, user: str) -> int:
    return set_count(session, OVERLAP, value, user, "set_overlap", "suggestion")


def add_verdict(session: Session, triple_id: int, user: str, decision: str, now: datetime, *,
                reason: Optional[str] = None, comment: Optional[str] = None) -> tuple[int, Optional[str]]:
    """This curator's verdict row (one per curator and suggestion) and its comment as kept; their claim on the
    suggestion ends."""
    if session.scalar(select(Verdict.id).where(Verdict.triple_id == triple_id, Verdict.curator == user)):
        raise TeamError("you already gave your verdict on this suggestion; it waits for the other curators")
    verdict = Verdict(triple_id=triple_id, curator=user, decision=decision, reason=reason,
                      comment=" ".join((comment or "").split()) or None, created_at=now)
    session.add(verdict)
    try:  # no savepoint: on SQLite's driver releasing the outermost one commits; the whole verdict rolls back
        session.flush()
    except IntegrityError:
        raise TeamError("your verdict on this suggestion is already recorded, or it was replaced meanwhile; reload "
                        "the queue") from None
    session.execute(delete(ReviewClaim).where(ReviewClaim.triple_id == triple_id, ReviewClaim.curator == user))
    return verdict.id, verdict.comment


def decisions_of(session: Session, triple_id: int) -> list[str]:
    """Every curator's decision on the suggestion, in the order given."""
    return list(session.scalars(select(Verdict.decision).where(Verdict.triple_id == triple_id).order_by(Verdict.id)))


def pending_in_review(session: Session) -> list[int]:
    """Pending suggestions that already have a verdict, locked (PostgreSQL) in one order."""
    return list(session.scalars(select(Triple.id).where(Triple.status == "suggested", Triple.id.in_(in_review()))
                                .order_by(Triple.id).with_for_update()))


def in_review() -> Select:
    """Pending suggestions that already have a verdict: a new suggest pass re-scores them but never removes
    them."""
    return select(Verdict.triple_id).join(Triple, Triple.id == Verdict.triple_id).where(Triple.status == "suggested")


def judged_by(user: str) -> Select:
    return select(Verdict.triple_id).where(Verdict.curator == user)


def taken_by_others(session: Session, user: str, now: datetime, among: Optional[list[int]] = None) -> Select:
    """Suggestions whose seats are all taken by other curators' verdicts and fresh claims."""
    fresh = now - timedelta(minutes=CLAIM_MINUTES)
    verdicts = (select(Verdict.triple_id.label("triple_id")).join(Triple, Triple.id == Verdict.triple_id)
                .where(Verdict.curator != user, Triple.status == "suggested"))
    claims = select(ReviewClaim.triple_id.label("triple_id")).where(ReviewClaim.curator != user,
                                                                     ReviewClaim.claimed_at >= fresh)
    if among is not None:
        verdicts = verdicts.where(Verdict.triple_id.in_(among))
        claims = claims.where(ReviewClaim.triple_id.in_(among))
    seats = verdicts.union_all(claims).subquery()
    return select(seats.c.triple_id).group_by(seats.c.triple_id).having(func.count() >= overlap(session))


def claim(session: Session, triple_ids: list[int], user: str, now: datetime) -> list[int]:
    """Claim these suggestions for `user`; returns those that are still free for them (a curator who asked at
    the same moment may have taken the last seat)."""
    # only one's own stale claims go (others' are ignored once stale): deleting rows another transaction holds
    # could deadlock with it
    session.execute(delete(ReviewClaim).where(ReviewClaim.curator == user,
                                              ReviewClaim.claimed_at < now - timedelta(minutes=CLAIM_MINUTES)))
    # locked in one order (PostgreSQL): two curators claiming the same suggestions count each other's seats one
    # after the other, and a suggest pass cannot remove them meanwhile; SQLite serialises writers anyway
    triple_ids = list(session.scalars(select(Triple.id).where(Triple.id.in_(triple_ids), Triple.status == "suggested")
                                      .order_by(Triple.id).with_for_update()))
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for triple_id in triple_ids:
        session.execute(insert(ReviewClaim).values(triple_id=triple_id, curator=user, claimed_at=now)
                        .on_conflict_do_update(index_elements=["triple_id", "curator"], set_={"claimed_at": now}))
    taken = set(session.scalars(taken_by_others(session, user, now, among=triple_ids)))
    lost = [i for i in triple_ids if i in taken]
    if lost:
        session.execute(delete(ReviewClaim).where(ReviewClaim.curator == user, ReviewClaim.triple_id.in_(lost)))
    return [i for i in triple_ids if i not in taken]


@dataclass
class VerdictView:
    curator: str
    decision: str
    reason: Optional[str]
    comment: Optional[str]
    at: datetime


@dataclass
class Disputed:
    """A suggestion the curators disagreed on, with each verdict side by side."""

    triple_id: int
    head: str
    relation: str
    tail: str
    confidence: Optional[float]
    verdicts: list[VerdictView] = field(default_factory=list)


def _views(verdicts) -> list[VerdictView]:
    return [VerdictView(v.curator, v.decision, v.reason, v.comment, v.created_at) for v in verdicts]


def disputed(session: Session, limit: int = 200) -> list[Disputed]:
    head, tail = aliased(Entity), aliased(Entity)
    rows = session.execute(
        select(Triple.id, head.label, Relation.label, tail.label, Triple.confidence)
        .join(head, Triple.head_id == head.id).join(tail, Triple.tail_id == tail.id)
        .join(Relation, Triple.relation_id == Relation.id)
        .where(Triple.status == "disputed").order_by(Triple.id).limit(limit)).all()
    by_triple: dict[int, list[Verdict]] = {}
    for verdict in session.scalars(select(Verdict).where(Verdict.triple_id.in_([r[0] for r in rows]))
                                   .order_by(Verdict.id)):
        by_triple.setdefault(verdict.triple_id, []).append(verdict)
    return [Disputed(i, h, r, t, c, _views(by_triple.get(i, []))) for i, h, r, t, c in rows]


def verdicts_of(session: Session, triple_id: int) -> list[VerdictView]:
    return _views(session.scalars(select(Verdict).where(Verdict.triple_id == triple_id).order_by(Verdict.id)))


@dataclass
class JudgedItem:
    """One suggestion (or label task) two or more curators judged: what agreement is computed from."""

    item_id: int
    relation: str
    text: str
    status: str
    #: curator → their answer (a verdict, or a label task's answer)
    decisions: dict[str, str]


def judged_items(session: Session) -> list[JudgedItem]:
    """Every suggestion with at least two verdicts and no more to come (while others are still asked, showing
    the verdicts would unblind them), with each curator's decision."""
    several = (select(Verdict.triple_id).group_by(Verdict.triple_id).having(func.count() >= 2)).subquery()
    head, tail = aliased(Entity), aliased(Entity)
    rows = session.execute(
        select(Triple.id, Relation.name, head.label, Relation.label, tail.label, Triple.status, Verdict.curator,
               Verdict.decision)
        .join(Verdict, Verdict.triple_id == Triple.id)
        .join(several, several.c.triple_id == Triple.id)
        .join(head, Triple.head_id == head.id).join(tail, Triple.tail_id == tail.id)
        .join(Relation, Triple.relation_id == Relation.id).where(Triple.status != "suggested")
        .order_by(Triple.id, Verdict.id)).all()
    items: dict[int, JudgedItem] = {}
    for triple_id, relation, h, r, t, status, curator, decision in rows:
        item = items.setdefault(triple_id, JudgedItem(triple_id, relation, f"{h} —{r}→ {t}", status, {}))
        item.decisions[curator] = decision
    return list(items.values())


def verdict_counts(session: Session) -> list[tuple[str, str, int]]:
    """(curator, decision, count) over every verdict."""
    return [tuple(row) for row in session.execute(
        select(Verdict.curator, Verdict.decision, func.count()).group_by(Verdict.curator, Verdict.decision)
        .order_by(Verdict.curator, Verdict.decision))]


def verdicts_for_export(session: Session) -> dict[tuple[str, str, str], list[VerdictView]]:
    """(head, relation, tail) names → every verdict on it: the exported provenance of a team decision."""
    head, tail = aliased(Entity), aliased(Entity)
    rows = session.execute(
        select(head.name, Relation.name, tail.name, Verdict)
        .join(Triple, Verdict.triple_id == Triple.id)
        .join(head, Triple.head_id == head.id).join(tail, Triple.tail_id == tail.id)
        .join(Relation, Triple.relation_id == Relation.id).order_by(Verdict.id)).all()
    out: dict[tuple[str, str, str], list[VerdictView]] = {}
    for h, r, t, verdict in rows:
        out.setdefault((h, r, t), []).extend(_views([verdict]))
    return out
