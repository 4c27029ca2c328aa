"""The review queue's queries: the pending suggestions (filtered, ordered, for one curator), the evidence behind
one, past verdicts by confidence, and a suggest pass's new queue. The rules of a verdict (the overlap, undo,
labels from verdicts) are the service layer's (`knowco/verdicts.py`), on the rows of `storage/triple_rows.py`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Literal, Optional

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from storage import team
from storage.audit import record_event
from storage.models import Entity, ModelVersion, Relation, Sentence, Triple, utcnow
from storage.models import Evidence as EvidenceRow

Order = Literal["confidence", "uncertainty"]
#: the entity tables of a suggestion's two ends, made once: new aliases on every call made SQLAlchemy build each
#: query's clauses and cache key anew, 7 of a queue page's 19 ms (4,000 pending suggestions, SQLite)
HEAD, TAIL = aliased(Entity, name="head"), aliased(Entity, name="tail")


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
    head, tail = HEAD, TAIL
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
    """The pending suggestions with their entities, relation and version (`_pending`)."""
    head, tail = HEAD, TAIL
    query = (select(Triple, head, Relation, tail, ModelVersion.name)
             .join(head, Triple.head_id == head.id).join(tail, Triple.tail_id == tail.id)
             .join(Relation, Triple.relation_id == Relation.id)
             .outerjoin(ModelVersion, Triple.model_version_id == ModelVersion.id))
    return _pending(query, relation, min_confidence, max_confidence, curator, from_text)


def _pending(query, relation: Optional[str], min_confidence: float, max_confidence: float,
             curator: Optional[str], from_text: Optional[bool]):
    """`query` narrowed to the pending suggestions; for a `curator`, without those they already judged; with
    `from_text`, only those read in a sentence (True) or only those that were not (False). A suggestion always
    has a confidence, so the bounds read the column itself, as the queue order's index holds it."""
    query = query.where(Triple.status == "suggested", Triple.confidence >= min_confidence,
                        Triple.confidence <= max_confidence)
    if relation:
        query = query.where(Triple.relation_id == select(Relation.id).where(Relation.name == relation)
                            .scalar_subquery())
    if curator is not None:
        query = query.where(Triple.id.not_in(team.judged_by(curator)))
    if from_text is not None:
        read = select(EvidenceRow.id).where(EvidenceRow.triple_id == Triple.id).exists()
        query = query.where(read if from_text else ~read)
    return query


def suggestions(session: Session, *, relation: Optional[str] = None, min_confidence: float = 0.0,
                max_confidence: float = 1.0, order: Order = "confidence", limit: int = 50,
                exclude: Iterable[int] = (), curator: Optional[str] = None, mine: bool = False,
                from_text: Optional[bool] = None, after: Optional[tuple[float, int]] = None) -> list[Suggestion]:
    """The queue, most confident first, or (for active learning) smallest margin between the two likeliest
    answers first. For a `curator`, what they have not judged yet; with `mine`, claimed for them ("my next
    items": suggestions other curators hold every seat of are left out). `after` (confidence, id) starts the
    confidence order after that suggestion: a page that does not move when the ones before it are decided,
    and costs the same on page 1,000 as on page 1."""
    query = _queue_query(relation, min_confidence, max_confidence, curator, from_text)
    if mine and curator is not None:
        query = query.where(Triple.id.not_in(team.taken_by_others(session, curator, utcnow())))
    excluded = list(exclude)
    if excluded:
        query = query.where(Triple.id.not_in(excluded))
    rows = session.execute(_ordered(query, order, after).limit(limit)).all()
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


def _ordered(query, order: Order, after: Optional[tuple[float, int]]):
    """`query` in the queue's `order`, from the suggestion after (confidence, id) where given."""
    confidence = Triple.confidence
    if after is not None:
        if order != "confidence":
            raise ValueError("a page after a suggestion follows the confidence order only")
        query = query.where(or_(confidence < after[0], and_(confidence == after[0], Triple.id > after[1])))
    if order == "uncertainty":  # the stored margin; a suggestion from before margins: its distance from 0.5
        return query.order_by(func.coalesce(Triple.margin, 2 * func.abs(confidence - 0.5)), Triple.id)
    return query.order_by(confidence.desc(), Triple.id)


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
    """What `_queue_query` finds, counted on the triple table alone: every page of the API's queue counts its
    total, and with the joins to the entities and versions (which every suggestion has) the count was over a
    third of a page's time (a profile of the API in process on the 4,000-suggestion load-test KG)."""
    query = _pending(select(func.count(Triple.id)), relation, min_confidence, max_confidence, curator, from_text)
    return int(session.scalar(query) or 0)


def evidence(session: Session, triple_id: int, limit: int = 5) -> Evidence:
    """The accepted facts around the pair: what links head and tail already, and a few facts of each."""
    head, tail = HEAD, TAIL
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

    # a sentence that names an entity twice ("born in Winterthur, and Winterthur is a city") is marked twice:
    # its likeliest marking stands for it, so the card does not print the same sentence twice
    best: dict[int, tuple] = {}
    for sentence_id, tokens, hs, he, ts, te, score in session.execute(
            select(Sentence.id, Sentence.tokens, EvidenceRow.head_start, EvidenceRow.head_end, EvidenceRow.tail_start,
                   EvidenceRow.tail_end, EvidenceRow.score).join(Sentence, EvidenceRow.sentence_id == Sentence.id)
            .where(EvidenceRow.triple_id == triple_id).order_by(EvidenceRow.score.desc(), EvidenceRow.id)):
        best.setdefault(sentence_id, (list(tokens), (hs, he), (ts, te), score))
    sentences = list(best.values())[:limit]
    return Evidence([tuple(f) for f in facts], [tuple(f) for f in around(triple.head_id)],
                    [tuple(f) for f in around(triple.tail_id)], sentences)


def pending_ids(session: Session, relation: Optional[str], min_confidence: float) -> list[int]:
    """The pending suggestions at or above `min_confidence` (of `relation`, or all), most confident first."""
    return [row.id for row, *_ in session.execute(_queue_query(relation, min_confidence, 1.0))]


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


def _remove_stale(session: Session, stale: list[int]) -> int:
    """Delete the stale suggestions, testing again on rows locked first (PostgreSQL; one being judged right now
    is skipped): never a decision or a verdict made meanwhile. Returns how many went."""
    removed = 0
    for start in range(0, len(stale), 500):
        free = list(session.scalars(select(Triple.id).where(Triple.id.in_(stale[start:start + 500]),
                                                            Triple.status == "suggested")
                                    .with_for_update(skip_locked=True)))
        removed += session.execute(delete(Triple).where(Triple.id.in_(free), Triple.status == "suggested",
                                                        Triple.id.not_in(team.in_review()))).rowcount
    return removed


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
    counts["removed"] += _remove_stale(session, stale)
    record_event(session, actor=user, action="suggest", target="model_version", target_id=model_version_id,
                 details=counts)
    return counts
