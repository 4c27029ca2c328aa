"""The queries behind learning from verdicts (`knowco.relearning`): the judged and the pending suggestions with
their stored opinions, new confidences for the pending ones, and the record of the latest re-rank."""
from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, aliased

from storage.audit import record_event
from storage.models import Entity, Example, ProjectSetting, Relation, Triple

RERANK = "verdict_rerank"
#: ids per IN list where pending suggestions are read back by id
_CHUNK = 500
_TRIPLES = Triple.__table__
_STILL_PENDING = _TRIPLES.c.status == "suggested"


def _judged(query):
    return query.where(Triple.source == "model", Triple.status.in_(("accepted", "rejected", "retracted")),
                       Triple.opinions.is_not(None), Triple.confidence.is_not(None))


def judged_rows(session: Session) -> list[tuple[str, float, dict, bool]]:
    """(relation, confidence, opinions, accepted) of every model suggestion a curator decided (a retracted one
    counts as rejected), in the order they were decided."""
    rows = session.execute(_judged(select(Relation.name, Triple.confidence, Triple.opinions, Triple.status)
                                   .join(Relation)).order_by(Triple.reviewed_at, Triple.id))
    # a JSON column stores Python's None as JSON null, which `is_not(None)` lets through
    return [(name, float(confidence), dict(opinions), status == "accepted")
            for name, confidence, opinions, status in rows if opinions]


def judged_at_most(session: Session) -> int:
    """At least as many as `judged_rows` returns, counted without reading them: it also counts the few whose
    opinions are stored as JSON null. Nine verdicts in ten re-rank nothing, and they need no more than this."""
    return int(session.scalar(_judged(select(func.count(Triple.id)))) or 0)


def pending_rows(session: Session) -> list[tuple[int, str, float, dict]]:
    """(id, relation, confidence, opinions) of every pending suggestion."""
    rows = session.execute(select(Triple.id, Relation.name, Triple.confidence, Triple.opinions).join(Relation)
                           .where(Triple.status == "suggested").order_by(Triple.id))
    return [(i, name, float(confidence or 0.0), dict(opinions or {})) for i, name, confidence, opinions in rows]


def set_confidences(session: Session, confidence: dict[int, float], read: dict[int, float] | None = None) -> int:
    """New confidences of suggestions still pending and, where `read` gives the confidence they had when they
    were read, still at it (a suggestion decided, or re-scored by a suggest pass, meanwhile keeps what it has).
    One statement run for many rows: a re-rank of 4,000 suggestions wrote them one statement each, and held the
    write lock (every verdict waiting) for seconds."""
    read = read or {}
    checked = [{"b_id": i, "b_value": v, "b_read": read[i]} for i, v in confidence.items() if i in read]
    unchecked = [{"b_id": i, "b_value": v} for i, v in confidence.items() if i not in read]
    one = update(_TRIPLES).where(_TRIPLES.c.id == bindparam("b_id"), _STILL_PENDING)
    changed = 0
    if checked:
        changed += session.execute(one.where(_TRIPLES.c.confidence == bindparam("b_read"))
                                   .values(confidence=bindparam("b_value")), checked).rowcount
    if unchecked:
        changed += session.execute(one.values(confidence=bindparam("b_value")), unchecked).rowcount
    return changed


def _pending_opinions(session: Session, ids: list[int]) -> dict[int, dict]:
    """id → stored opinions of those of `ids` still pending."""
    found = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        found.update((i, dict(o or {})) for i, o in session.execute(
            select(Triple.id, Triple.opinions).where(Triple.id.in_(chunk), Triple.status == "suggested")))
    return found


def _write_opinions(session: Session, opinions: dict[int, dict]) -> int:
    if not opinions:
        return 0
    return session.execute(update(_TRIPLES).where(_TRIPLES.c.id == bindparam("b_id"), _STILL_PENDING)
                           .values(opinions=bindparam("b_opinions")),
                           [{"b_id": i, "b_opinions": o} for i, o in opinions.items()]).rowcount


def keep_model_confidence(session: Session, priors: dict[int, float]) -> None:
    """Store the model's own confidence in the opinions of suggestions written before it was kept there, so
    the next re-rank starts from it and not from this one's result."""
    stored = _pending_opinions(session, list(priors))
    _write_opinions(session, {i: {**o, "model": priors[i]} for i, o in stored.items() if "model" not in o})


def last_rerank(session: Session) -> Optional[dict[str, Any]]:
    row = session.get(ProjectSetting, RERANK)
    return dict(row.value) if row is not None else None


def record_rerank(session: Session, user: str, state: dict[str, Any]) -> None:
    session.merge(ProjectSetting(key=RERANK, value=state))
    record_event(session, actor=user, action="rerank", target="project_setting", target_id=None, details=state)


def fact_triples(session: Session) -> list[tuple[str, str, str]]:
    """(head, relation, tail) names of every accepted fact: what the graph's patterns are mined from."""
    head, tail = aliased(Entity), aliased(Entity)
    return [tuple(row) for row in session.execute(
        select(head.name, Relation.name, tail.name).select_from(Triple)
        .join(head, Triple.head_id == head.id).join(tail, Triple.tail_id == tail.id)
        .join(Relation, Triple.relation_id == Relation.id).where(Triple.status == "accepted"))]


def holding_labels(session: Session) -> list[tuple[str, str, str]]:
    """(head, relation, tail) names of every settled triple label that holds: known to hold like a fact."""
    head, tail = aliased(Entity), aliased(Entity)
    return [tuple(row) for row in session.execute(
        select(head.name, Relation.name, tail.name).select_from(Example)
        .join(head, Example.head_id == head.id).join(tail, Example.tail_id == tail.id)
        .join(Relation, Example.relation_id == Relation.id)
        .where(Example.kind == "triple", Example.status == "settled", Example.label.is_(True)))]


def pending_names(session: Session) -> dict[int, tuple[str, str, str]]:
    """id → (head, relation, tail) names of every pending suggestion."""
    head, tail = aliased(Entity), aliased(Entity)
    return {i: (h, r, t) for i, h, r, t in session.execute(
        select(Triple.id, head.name, Relation.name, tail.name).select_from(Triple)
        .join(head, Triple.head_id == head.id).join(tail, Triple.tail_id == tail.id)
        .join(Relation, Triple.relation_id == Relation.id).where(Triple.status == "suggested"))}


def update_opinions(session: Session, changes: dict[int, dict[str, Any]]) -> int:
    """New values of some opinions of suggestions still pending (a value None removes that opinion): the graph's
    best pattern now, whether it is a second value now, stored where the Review card, the exports and the
    re-rank read them."""
    stored = _pending_opinions(session, list(changes))
    return _write_opinions(session, {i: {**{k: v for k, v in o.items() if k not in changes[i]},
                                         **{k: v for k, v in changes[i].items() if v is not None}}
                                     for i, o in stored.items()})


def one_valued_marks(session: Session) -> dict[str, set[str]]:
    """Per side, the relations a curator marked one-valued there ("tail": one tail per head; "head": one head
    per tail)."""
    rows = session.execute(select(Relation.name, Relation.functional, Relation.one_head_per_tail)).all()
    return {"tail": {name for name, functional, _ in rows if functional},
            "head": {name for name, _, one_head in rows if one_head}}


PATTERNS_NOW = "patterns_now"


def patterns_now(session: Session) -> Optional[dict[str, Any]]:
    """The graph's strongest patterns as last mined from the facts of the moment (`record_patterns`)."""
    row = session.get(ProjectSetting, PATTERNS_NOW)
    return dict(row.value) if row is not None else None


def record_patterns(session: Session, state: dict[str, Any]) -> None:
    """Derived from the facts, so no event of its own: the re-rank that mined them has one."""
    session.merge(ProjectSetting(key=PATTERNS_NOW, value=state))
