"""The review queue: suggested triples, the curator's verdicts on them, and undo.

Every verdict is one audit event whose details list what changed (the rows' values before, the rows it
created), so undo restores exactly that and a verdict is never lost. Accepted suggestions become accepted
facts and positive labels; rejected ones stay in the table as `rejected` (so no later run suggests them
again) and become negative labels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Literal, Optional

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from storage import team
from storage.audit import record_event
from storage.history import action_words

from storage.models import (REJECT_REASONS, AuditEvent, Entity, Example, ModelVersion, Relation, Sentence, Triple,
                            Verdict, utcnow)
from storage.models import Evidence as EvidenceRow

REVIEW_ACTIONS = ("accept", "reject", "edit_accept", "bulk_accept", "retract", "adjudicate")
Order = Literal["confidence", "uncertainty"]


class ReviewError(ValueError):
    """A verdict that cannot be applied: one sentence saying why."""


@dataclass
class Suggestion:
    id: int
    head: str
    head_label: str
    head_type: Optional[str]
    relation: str
    relation_label: str
    tail: str
    tail_label: str
    tail_type: Optional[str]
    confidence: float
    model_version: Optional[str]
    type_violation: Optional[str]
    #: the accepted fact `tail relation head` exists: this suggestion states it the other way round
    reverses_fact: bool = False
    #: the separate opinions behind the confidence, e.g. {"text": 0.81, "graph": 0.64, "sentences": 2}
    opinions: dict = field(default_factory=dict)


@dataclass
class Evidence:
    facts: list[tuple[str, str, str]]
    head_facts: list[tuple[str, str, str]]
    tail_facts: list[tuple[str, str, str]]
    #: sentences the model read the triple in: (tokens, head span, tail span, score), best first
    sentences: list[tuple[list[str], tuple[int, int], tuple[int, int], float]] = field(default_factory=list)


def _observed_types(session: Session, relation_ids: set[int]) -> dict[int, tuple[set[str], set[str]]]:
    """Per relation, the entity types its accepted heads and tails have: the constraint where none is declared."""
    head, tail = aliased(Entity), aliased(Entity)
    observed: dict[int, tuple[set[str], set[str]]] = {r: (set(), set()) for r in relation_ids}
    rows = session.execute(select(Triple.relation_id, head.type, tail.type).distinct()
                           .join(head, Triple.head_id == head.id).join(tail, Triple.tail_id == tail.id)
                           .where(Triple.status == "accepted", Triple.relation_id.in_(list(relation_ids))))
    for relation_id, head_type, tail_type in rows:
        if head_type:
            observed[relation_id][0].add(head_type)
        if tail_type:
            observed[relation_id][1].add(tail_type)
    return observed


def _type_violation(relation: Relation, head: Entity, tail: Entity, observed: tuple[set[str], set[str]]
                    ) -> Optional[str]:
    problems = []
    for role, entity, declared, seen in (("head", head, relation.head_type, observed[0]),
                                         ("tail", tail, relation.tail_type, observed[1])):
        allowed = {declared} if declared else seen
        if allowed and entity.type and entity.type not in allowed:
            problems.append(f"{role} is a {entity.type}; the relation's {role}s are {', '.join(sorted(allowed))}")
    return "; ".join(problems) or None


@dataclass
class VerdictBin:
    """Past suggestions of one confidence band and what curators made of them."""

    low: float
    high: float
    accepted: int
    rejected: int

    @property
    def judged(self) -> int:
        return self.accepted + self.rejected

    @property
    def acceptance(self) -> Optional[float]:
        return self.accepted / self.judged if self.judged else None


def verdicts_by_confidence(session: Session, bins: int = 5) -> list[VerdictBin]:
    """The model's suggestions that curators accepted or rejected (or accepted and later retracted, which counts
    as a rejection), by the confidence they were shown with: whether a confidence of 0.8 is accepted about 80 %
    of the time on this KG."""
    rows = session.execute(select(Triple.confidence, Triple.status).where(
        Triple.source == "model", Triple.status.in_(("accepted", "rejected", "retracted")),
        Triple.confidence.is_not(None)))
    out = [VerdictBin(i / bins, (i + 1) / bins, 0, 0) for i in range(bins)]
    for confidence, status in rows:
        band = out[min(bins - 1, max(0, int(confidence * bins)))]
        if status == "accepted":
            band.accepted += 1
        else:
            band.rejected += 1
    return out


def _queue_query(relation: Optional[str], min_confidence: float, max_confidence: float,
                 curator: Optional[str] = None, from_text: Optional[bool] = None):
    """The pending suggestions; for a `curator`, without those they already judged; with `from_text`, only
    those read in a sentence (True) or only those that were not (False)."""
    head, tail = aliased(Entity), aliased(Entity)
    query = (select(Triple, head, Relation, tail, ModelVersion.name)
             .join(head, Triple.head_id == head.id).join(tail, Triple.tail_id == tail.id)
             .join(Relation, Triple.relation_id == Relation.id)
             .outerjoin(ModelVersion, Triple.model_version_id == ModelVersion.id)
             .where(Triple.status == "suggested",
                    func.coalesce(Triple.confidence, 0.0) >= min_confidence,
                    func.coalesce(Triple.confidence, 0.0) <= max_confidence))
    if relation:
        query = query.where(Relation.name == relation)
    if curator is not None:
        query = query.where(Triple.id.not_in(team.judged_by(curator)))
    if from_text is not None:
        read = select(EvidenceRow.id).where(EvidenceRow.triple_id == Triple.id).exists()
        query = query.where(read if from_text else ~read)
    return query


def suggestions(session: Session, *, relation: Optional[str] = None, min_confidence: float = 0.0,
                max_confidence: float = 1.0, order: Order = "confidence", limit: int = 50,
                exclude: Iterable[int] = (), curator: Optional[str] = None, mine: bool = False,
                from_text: Optional[bool] = None) -> list[Suggestion]:
    """The queue, most confident first, or (for active learning) smallest margin between the two likeliest
    answers first. For a `curator`, what they have not judged yet; with `mine`, claimed for them ("my next
    items": suggestions other curators hold every seat of are left out)."""
    query = _queue_query(relation, min_confidence, max_confidence, curator, from_text)
    if mine and curator is not None:
        query = query.where(Triple.id.not_in(team.taken_by_others(session, curator, utcnow())))
    excluded = list(exclude)
    if excluded:
        query = query.where(Triple.id.not_in(excluded))
    confidence = func.coalesce(Triple.confidence, 0.0)
    if order == "uncertainty":  # the stored margin; a suggestion from before margins: its distance from 0.5
        query = query.order_by(func.coalesce(Triple.margin, 2 * func.abs(confidence - 0.5)), Triple.id)
    else:
        query = query.order_by(confidence.desc(), Triple.id)
    rows = session.execute(query.limit(limit)).all()
    if mine and curator is not None:
        kept = set(team.claim(session, [t.id for t, *_ in rows], curator, utcnow()))
        rows = [row for row in rows if row[0].id in kept]
    observed = _observed_types(session, {r.id for _, _, r, _, _ in rows})
    reversed_facts = _accepted_reverses(session, [t for t, *_ in rows])
    return [
        Suggestion(t.id, h.name, h.label, h.type, r.name, r.label, tl.name, tl.label, tl.type,
                   float(t.confidence or 0.0), version, _type_violation(r, h, tl, observed[r.id]),
                   (t.tail_id, t.relation_id, t.head_id) in reversed_facts, dict(t.opinions or {}))
        for t, h, r, tl, version in rows
    ]


def _accepted_reverses(session: Session, triples: list[Triple]) -> set[tuple[int, int, int]]:
    """The accepted facts among the reverses of `triples`, as (head id, relation id, tail id)."""
    if not triples:
        return set()
    rows = session.execute(select(Triple.head_id, Triple.relation_id, Triple.tail_id).where(
        Triple.status == "accepted", Triple.head_id.in_({t.tail_id for t in triples}),
        Triple.tail_id.in_({t.head_id for t in triples}), Triple.relation_id.in_({t.relation_id for t in triples})))
    return {tuple(row) for row in rows}


def count_suggestions(session: Session, *, relation: Optional[str] = None, min_confidence: float = 0.0,
                      max_confidence: float = 1.0, curator: Optional[str] = None,
                      from_text: Optional[bool] = None) -> int:
    query = _queue_query(relation, min_confidence, max_confidence, curator,
                         from_text).with_only_columns(func.count(Triple.id))
    return int(session.scalar(query) or 0)


def evidence(session: Session, triple_id: int, limit: int = 5) -> Evidence:
    """The accepted facts around the pair: what links head and tail already, and a few facts of each."""
    head, tail = aliased(Entity), aliased(Entity)
    triple = session.get(Triple, triple_id)
    if triple is None:
        return Evidence([], [], [])
    base = (select(head.label, Relation.label, tail.label).select_from(Triple)
            .join(head, Triple.head_id == head.id).join(tail, Triple.tail_id == tail.id)
            .join(Relation, Triple.relation_id == Relation.id).where(Triple.status == "accepted"))
    pair = {triple.head_id, triple.tail_id}
    facts = session.execute(base.where(Triple.head_id.in_(pair), Triple.tail_id.in_(pair)).limit(limit)).all()

    def around(entity_id: int):
        return session.execute(base.where(or_(Triple.head_id == entity_id, Triple.tail_id == entity_id))
                               .limit(limit)).all()

    sentences = [(list(tokens), (hs, he), (ts, te), score) for tokens, hs, he, ts, te, score in session.execute(
        select(Sentence.tokens, EvidenceRow.head_start, EvidenceRow.head_end, EvidenceRow.tail_start,
               EvidenceRow.tail_end, EvidenceRow.score).join(Sentence, EvidenceRow.sentence_id == Sentence.id)
        .where(EvidenceRow.triple_id == triple_id).order_by(EvidenceRow.score.desc()).limit(limit))]
    return Evidence([tuple(f) for f in facts], [tuple(f) for f in around(triple.head_id)],
                    [tuple(f) for f in around(triple.tail_id)], sentences)


def _state(triple: Triple) -> dict:
    return {"status": triple.status, "reviewed_by": triple.reviewed_by,
            "reviewed_at": triple.reviewed_at.isoformat() if triple.reviewed_at else None,
            "reason": triple.reason, "comment": triple.comment}


def _example_for(session: Session, triple: Triple, holds: bool, user: str, now: datetime) -> Optional[int]:
    """The label a verdict gives; None when the curator had already labelled this triple."""
    existing = session.scalar(select(Example.id).where(
        Example.kind == "triple", Example.head_id == triple.head_id, Example.relation_id == triple.relation_id,
        Example.tail_id == triple.tail_id))
    if existing is not None:
        return None
    example = Example(kind="triple", label=holds, head_id=triple.head_id, relation_id=triple.relation_id,
                      tail_id=triple.tail_id, created_by=user, created_at=now)
    session.add(example)
    session.flush()
    return example.id


def _pending(session: Session, triple_id: int, lock: bool = False) -> Triple:
    """The suggestion, still pending; with `lock`, its row locked until the transaction ends (PostgreSQL: two
    curators' verdicts on one suggestion are counted one after the other; SQLite serialises writers anyway)."""
    triple = session.get(Triple, triple_id, with_for_update=lock)
    if triple is None:
        raise ReviewError("that suggestion no longer exists (a newer model run replaced it); reload the queue")
    if triple.status != "suggested":
        raise ReviewError(f"that suggestion was already {triple.status} by {triple.reviewed_by or 'someone'}")
    return triple


def _verdict(session: Session, triple: Triple, status: str, user: str, now: datetime, *,
             reason: Optional[str] = None, comment: Optional[str] = None) -> dict:
    """Set the status only if nobody changed it since this session read it (compare-and-set in the UPDATE's
    WHERE): of two curators deciding on one suggestion at once, exactly one wins and the other is told. A
    decision (not a dispute) is also a label."""
    change = {"triple_id": triple.id, "before": _state(triple), "after": status}
    done = session.execute(update(Triple).where(Triple.id == triple.id, Triple.status == triple.status)
                           .values(status=status, reviewed_by=user, reviewed_at=now, reason=reason,
                                   comment=" ".join((comment or "").split()) or None)
                           .execution_options(synchronize_session="fetch"))
    if done.rowcount != 1:
        raise ReviewError("another curator decided on this suggestion a moment ago; reload the queue")
    session.refresh(triple)
    if status in ("accepted", "rejected"):
        change["example_id"] = _example_for(session, triple, status == "accepted", user, now)
    return change


def _label(triple: Triple) -> str:
    return f"{triple.head.label} —{triple.relation.label}→ {triple.tail.label}"


def _decide(session: Session, triple_id: int, user: str, status: str, action: str, *,
            reason: Optional[str] = None, comment: str = "") -> str:
    """This curator's verdict; the suggestion is decided (or disputed) once the overlap's verdicts are in
    (storage.team). Returns the triple in words, with where it stands when it still waits or is disputed."""
    triple, now = _pending(session, triple_id, lock=True), utcnow()
    try:
        verdict = team.add_verdict(session, triple, user, status, now, reason=reason, comment=comment)
    except team.TeamError as exc:
        raise ReviewError(str(exc)) from None
    result = team.outcome(session, triple.id)
    if result.status == "suggested":
        change = {"triple_id": triple.id, "before": _state(triple), "after": "suggested"}
    else:  # the deciding curator; every curator's name is on their verdict
        change = _verdict(session, triple, result.status, user, now, reason=reason if result.status == status
                          else None, comment=comment if result.status == status else None)
    change["verdict_id"] = verdict.id
    details = {"changes": [change], "triple": _label(triple)}
    details.update({k: v for k, v in (("reason", reason), ("comment", verdict.comment)) if v})
    if result.needed > 1:
        details["outcome"] = {"status": result.status, "verdicts": result.verdicts, "needed": result.needed}
    record_event(session, actor=user, action=action, target="triple", target_id=triple_id, details=details)
    return _label(triple) + (f" ({result.words()})" if result.needed > 1 else "")


def set_overlap(session: Session, value: int, user: str) -> int:
    """The new overlap, and every pending suggestion that now has enough verdicts decided (or disputed) by it:
    lowered from 3 to 2, one with two agreeing verdicts must not wait for a third that never comes. Returns how
    many it settled."""
    team.set_overlap(session, value, user)
    settled = 0
    for triple in session.scalars(select(Triple).where(Triple.status == "suggested",
                                                       Triple.id.in_(team.in_review())).with_for_update()):
        result = team.outcome(session, triple.id)
        if result.status != "suggested":
            change = _verdict(session, triple, result.status, user, utcnow())
            record_event(session, actor=user, action="settle", target="triple", target_id=triple.id,
                         details={"changes": [change], "triple": _label(triple),
                                  "outcome": {"status": result.status, "verdicts": result.verdicts,
                                              "needed": result.needed}})
            settled += 1
    return settled


def adjudicate(session: Session, triple_id: int, user: str, decision: str, reason: Optional[str] = None,
               comment: str = "") -> str:
    """An adjudicator's decision on a disputed suggestion; every curator's verdict stays (history, export)."""
    triple = session.get(Triple, triple_id)
    if triple is None or triple.status != "disputed":
        raise ReviewError("that suggestion is not waiting for adjudication (decided meanwhile?); reload the page")
    if decision not in ("accepted", "rejected"):
        raise ReviewError(f"unknown decision {decision!r}")
    if decision == "rejected" and reason not in REJECT_REASONS:
        raise ReviewError(f"unknown reason {reason!r}: say one of {', '.join(REJECT_REASONS)}")
    verdicts = [{"curator": v.curator, "decision": v.decision, "reason": v.reason, "comment": v.comment}
                for v in team.verdicts_of(session, triple_id)]
    change = _verdict(session, triple, decision, user, utcnow(), reason=reason if decision == "rejected" else None,
                      comment=comment)
    record_event(session, actor=user, action="adjudicate", target="triple", target_id=triple_id,
                 details={"changes": [change], "triple": _label(triple), "decision": decision,
                          "verdicts": verdicts, **({"comment": triple.comment} if triple.comment else {})})
    return _label(triple)


def accept(session: Session, triple_id: int, user: str, comment: str = "") -> str:
    return _decide(session, triple_id, user, "accepted", "accept", comment=comment)


def reject(session: Session, triple_id: int, user: str, reason: str = "false", comment: str = "") -> str:
    """Reject a suggestion, saying why (one of REJECT_REASONS): the rejection is exported with its reason."""
    if reason not in REJECT_REASONS:
        raise ReviewError(f"unknown reason {reason!r}: say one of {', '.join(REJECT_REASONS)}")
    return _decide(session, triple_id, user, "rejected", "reject", reason=reason, comment=comment)


def accept_edited(session: Session, triple_id: int, user: str, *, head: str, relation: str, tail: str) -> str:
    """The curator corrects a suggestion: the suggestion as stated is rejected, the corrected triple accepted."""
    triple, now = _pending(session, triple_id), utcnow()
    _one_curator_decides(session, "correcting a suggestion (swap, edit)")

    def named(model, name: str, what: str):
        row = session.scalar(select(model).where(model.name == name))
        if row is None:
            raise ReviewError(f"there is no {what} named {name!r}")
        return row

    new_head, new_relation, new_tail = named(Entity, head, "entity"), named(Relation, relation, "relation"), \
        named(Entity, tail, "entity")
    if new_head.id == new_tail.id:
        raise ReviewError("head and tail are the same entity; pick two different entities")
    if (new_head.id, new_relation.id, new_tail.id) == (triple.head_id, triple.relation_id, triple.tail_id):
        return accept(session, triple_id, user)
    swapped = (new_head.id, new_relation.id, new_tail.id) == (triple.tail_id, triple.relation_id, triple.head_id)
    known = False
    changes = [_verdict(session, triple, "rejected", user, now, reason="wrong direction" if swapped else None)]
    corrected = session.scalar(select(Triple).where(
        Triple.head_id == new_head.id, Triple.relation_id == new_relation.id, Triple.tail_id == new_tail.id))
    if corrected is None:
        corrected = Triple(head_id=new_head.id, relation_id=new_relation.id, tail_id=new_tail.id,
                           status="accepted", source="curator", created_by=user, created_at=now,
                           reviewed_by=user, reviewed_at=now)
        session.add(corrected)
        session.flush()
        changes.append({"created_triple": corrected.id,
                        "example_id": _example_for(session, corrected, True, user, now)})
    elif corrected.status != "accepted":
        changes.append(_verdict(session, corrected, "accepted", user, now))
    else:
        known = True
    record_event(session, actor=user, action="edit_accept", target="triple", target_id=corrected.id,
                 details={"changes": changes, "triple": _label(corrected), "suggested": _label(triple)})
    return _label(corrected) + (" (already a fact: the suggestion is rejected, nothing is added)" if known else "")


def retract(session: Session, user: str, *, head: str, relation: str, tail: str, reason: str) -> str:
    """Take back an accepted fact: kept as `retracted` (never suggested again, a "does not hold" label where
    there was none), with who, when and why in its audit event; undoable like a verdict."""
    reason = " ".join(reason.split())
    if not reason:
        raise ReviewError("say why the fact is retracted (e.g. 'wrong direction', 'imported by mistake')")
    head_row, relation_row, tail_row = (session.scalar(select(model).where(model.name == name))
                                        for model, name in ((Entity, head), (Relation, relation), (Entity, tail)))
    triple = None
    if head_row is not None and relation_row is not None and tail_row is not None:
        triple = session.scalar(select(Triple).where(Triple.head_id == head_row.id,
                                                     Triple.relation_id == relation_row.id,
                                                     Triple.tail_id == tail_row.id))
    if triple is None or triple.status != "accepted":
        state = f"it is {triple.status}" if triple is not None else "there is no such triple"
        raise ReviewError(f"{head} {relation} {tail} is not an accepted fact ({state})")
    change = _verdict(session, triple, "retracted", user, utcnow(), comment=reason)
    # a label saying it holds (made when it was accepted) would keep teaching it as a fact
    positive = session.scalar(select(Example).where(
        Example.kind == "triple", Example.head_id == triple.head_id, Example.relation_id == triple.relation_id,
        Example.tail_id == triple.tail_id, Example.label.is_(True)))
    if positive is not None:  # settled too: answers still to come must not teach a retracted fact again
        change["flipped_example"], change["example_status"] = positive.id, positive.status
        positive.label, positive.status = False, "settled"
    record_event(session, actor=user, action="retract", target="triple", target_id=triple.id,
                 details={"changes": [change], "triple": _label(triple), "reason": reason})
    return _label(triple)


def _one_curator_decides(session: Session, what: str) -> None:
    needed = team.overlap(session)
    if needed > 1:
        raise ReviewError(f"{what} is off while each suggestion needs {needed} curators' verdicts; give your "
                          "verdict on each suggestion instead")


def bulk_accept(session: Session, user: str, *, min_confidence: float, relation: Optional[str] = None) -> int:
    """Accept every pending suggestion at or above `min_confidence` (one undoable step)."""
    _one_curator_decides(session, "accepting in bulk")
    now = utcnow()
    ids = [row.id for row, *_ in session.execute(_queue_query(relation, min_confidence, 1.0))]
    changes = [_verdict(session, session.get(Triple, i), "accepted", user, now) for i in ids]
    if changes:
        record_event(session, actor=user, action="bulk_accept", target="triple", target_id=None,
                     details={"changes": changes, "min_confidence": min_confidence, "relation": relation,
                              "count": len(changes)})
    return len(changes)


def _settled_by_others(session: Session, event: AuditEvent) -> bool:
    """Whether a verdict of this event was built on since: other curators' verdicts or an adjudicator decided
    the suggestion after it (its status is no longer what this verdict left)."""
    for change in event.details.get("changes", []):
        if change.get("verdict_id") is not None:
            status = session.scalar(select(Triple.status).where(Triple.id == change["triple_id"]))
            if status is not None and status != change.get("after", status):
                return True
    return False


def _undoable(session: Session, user: str) -> tuple[Optional[AuditEvent], list[AuditEvent]]:
    """This curator's latest event not yet undone that can be, and the later ones others have built on."""
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.actor == user, AuditEvent.action.in_(REVIEW_ACTIONS + ("undo",)))
        .order_by(AuditEvent.id.desc()).limit(500)).all()
    undone = {event.details.get("undoes") for event in events if event.action == "undo"}
    settled = []
    for event in events:
        if event.action == "undo" or event.id in undone:
            continue
        if not _settled_by_others(session, event):
            return event, settled
        settled.append(event)
    return None, settled


def _restore(session: Session, change: dict) -> None:
    """The suggestion as it was before the change; where the change was a verdict, only if nobody has decided
    on it since (compare-and-set, so an undo racing another curator's verdict or an adjudication loses)."""
    before = change["before"]
    values = dict(status=before["status"], reviewed_by=before["reviewed_by"], reason=before.get("reason"),
                  comment=before.get("comment"),
                  reviewed_at=datetime.fromisoformat(before["reviewed_at"]) if before["reviewed_at"] else None)
    query = update(Triple).where(Triple.id == change["triple_id"])
    if change.get("verdict_id") is not None:
        query = query.where(Triple.status == change.get("after", before["status"]))
    done = session.execute(query.values(**values).execution_options(synchronize_session="fetch"))
    if change.get("verdict_id") is not None and done.rowcount != 1:
        raise ReviewError("another curator decided this suggestion a moment ago; your verdict stays")


def undo_last(session: Session, user: str) -> Optional[str]:
    """Take back this curator's latest verdict not yet undone; returns what was undone, or None. A verdict
    other curators have built on since (they decided the suggestion with it) is passed over and said so."""
    event, settled = _undoable(session, user)
    skipped = ", ".join(e.details.get("triple", "") for e in settled)
    if event is None:
        if settled:
            raise ReviewError(f"your latest verdicts ({skipped}) were decided on by other curators since, so they "
                              "can no longer be taken back alone")
        return None
    for change in reversed(event.details.get("changes", [])):
        if change.get("verdict_id") is not None:
            session.execute(delete(Verdict).where(Verdict.id == change["verdict_id"]))
        if change.get("flipped_example") is not None:
            session.execute(update(Example).where(Example.id == change["flipped_example"]).values(
                label=True, status=change.get("example_status", "settled")))
        if change.get("example_id") is not None:
            session.execute(delete(Example).where(Example.id == change["example_id"]))
        if change.get("created_triple") is not None:
            session.execute(delete(Triple).where(Triple.id == change["created_triple"]))
            continue
        if session.get(Triple, change["triple_id"]) is not None:
            _restore(session, change)
    what = event.details.get("triple") or f"{event.details.get('count', 0)} accepted suggestions"
    record_event(session, actor=user, action="undo", target="audit_event", target_id=event.id,
                 details={"undoes": event.id, "action": event.action, "what": what})
    note = f" (your later verdicts on {skipped} were decided on by other curators since and stay)" if settled else ""
    return f"{action_words(event.action)}: {what}{note}"


def _place(session: Session, key: tuple[int, int, int], found: Optional[tuple[int, str]], confidence: float,
           opinions: dict, model_version_id: int, user: str, now: datetime, keep: set[int], counts: dict[str, int]
           ) -> Optional[Triple]:
    """Insert a new suggestion or re-score a pending one; None for a triple reviewed (meanwhile) by a curator."""
    margin = opinions.get("margin")
    if found is None:
        row = Triple(head_id=key[0], relation_id=key[1], tail_id=key[2], status="suggested", source="model",
                     confidence=confidence, margin=margin, opinions=opinions or None,
                     model_version_id=model_version_id, created_by=user, created_at=now)
        session.add(row)
        session.flush()
        counts["new"] += 1
        return row
    if found[1] != "suggested":
        counts["already reviewed"] += 1
        return None
    keep.add(found[0])
    # only while still pending: a curator may have decided on it since the queue was read
    rescored = session.execute(update(Triple).where(Triple.id == found[0], Triple.status == "suggested")
                               .values(confidence=confidence, margin=margin, opinions=opinions or None,
                                       model_version_id=model_version_id))
    if rescored.rowcount != 1:
        counts["already reviewed"] += 1
        return None
    session.execute(delete(EvidenceRow).where(EvidenceRow.triple_id == found[0]))
    counts["rescored"] += 1
    return session.get(Triple, found[0])


def replace_suggestions(session: Session, model_version_id: int, scored: list[tuple[str, str, str, float]],
                        user: str, relations: Optional[Iterable[str]] = None,
                        evidence: Optional[dict[tuple[str, str, str], list[tuple]]] = None,
                        opinions: Optional[dict[tuple[str, str, str], dict]] = None) -> dict[str, int]:
    """Make `scored` the pending queue of `relations` (default: all): new ones inserted, re-found ones
    re-scored, the rest of the old queue (never reviewed) removed. Reviewed triples (accepted or rejected) are
    never touched or re-suggested. `evidence` maps a triple to its sentences (sentence id, head start, head end,
    tail start, tail end, score); a re-scored suggestion's old evidence is replaced. `opinions` maps a triple to
    its separate opinions and its `margin` (the uncertainty order).
    """
    entity_ids = dict(session.execute(select(Entity.name, Entity.id)).all())
    relation_ids = dict(session.execute(select(Relation.name, Relation.id)).all())
    scope = None if relations is None else {relation_ids[name] for name in relations}
    existing = {(h, r, t): (i, status) for i, h, r, t, status in session.execute(
        select(Triple.id, Triple.head_id, Triple.relation_id, Triple.tail_id, Triple.status))}
    now, keep, counts = utcnow(), set(), {"new": 0, "rescored": 0, "removed": 0, "already reviewed": 0}
    evidence, opinions = evidence or {}, opinions or {}
    for head, relation, tail, confidence in scored:
        key = (entity_ids[head], relation_ids[relation], entity_ids[tail])
        row = _place(session, key, existing.get(key), confidence, opinions.get((head, relation, tail), {}),
                     model_version_id, user, now, keep, counts)
        for sentence_id, hs, he, ts, te, score in evidence.get((head, relation, tail), ()) if row else ():
            session.add(EvidenceRow(triple_id=row.id, sentence_id=sentence_id, head_start=hs, head_end=he,
                                    tail_start=ts, tail_end=te, score=score))
    judged = set(session.scalars(team.in_review()))  # a suggestion with a verdict waits for the others
    stale = [i for (_, r, _), (i, status) in existing.items()
             if status == "suggested" and i not in keep and i not in judged and (scope is None or r in scope)]
    for start in range(0, len(stale), 500):
        # the tests again, on rows locked first (PostgreSQL; one being judged right now is skipped): never delete
        # a decision or a verdict made meanwhile
        free = list(session.scalars(select(Triple.id).where(Triple.id.in_(stale[start:start + 500]),
                                                            Triple.status == "suggested")
                                    .with_for_update(skip_locked=True)))
        counts["removed"] += session.execute(delete(Triple).where(Triple.id.in_(free), Triple.status == "suggested",
                                                                  Triple.id.not_in(team.in_review()))).rowcount
    record_event(session, actor=user, action="suggest", target="model_version", target_id=model_version_id,
                 details=counts)
    return counts
