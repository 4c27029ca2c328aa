"""Repairing the KG's vocabulary: merge two entities or relations that are one, rename a relation, delete an
entity or relation with everything that hangs on it. Each is one transaction and one audit event that keeps
what was there before; a delete goes through only when the caller names what it removes (the counts the
curator was shown), so a delete confirmed on stale counts is refused.

Merging re-points every triple and label of the source to the target. Where the target already has the same
triple or label, the target's row stays and the source's is dropped, its evidence moved to the surviving triple;
a pending suggestion gives way to the source's decision, but two decisions that disagree (accepted here,
rejected or retracted there; a label saying "holds" against one saying it does not) are never settled
silently: the target's stays and the count of such conflicts is reported. A triple that the merge turns into a
self-loop is dropped. The source's name, label and aliases become aliases of the target, so its mentions are
still found in text.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from storage.audit import record_event
from storage.models import Entity, Evidence, Example, LabelOpinion, Relation, Triple
from storage.review import ReviewError


class RepairError(ReviewError):
    """A merge, rename or delete that cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class Footprint:
    """What hangs on an entity or relation: what deleting it removes."""

    facts: int
    suggestions: int
    rejected: int
    labels: int

    def words(self) -> str:
        return (f"{self.facts} accepted facts, {self.suggestions} pending suggestions, {self.rejected} rejected or "
                f"retracted triples and {self.labels} labels")


def _entity(session: Session, name: str) -> Entity:
    row = session.scalar(select(Entity).where(Entity.name == name))
    if row is None:
        raise RepairError(f"there is no entity named {name!r}")
    return row


def _relation(session: Session, name: str) -> Relation:
    row = session.scalar(select(Relation).where(Relation.name == name))
    if row is None:
        raise RepairError(f"there is no relation named {name!r}")
    return row


def _footprint(session: Session, triples, labels) -> Footprint:
    by_status = dict(session.execute(select(Triple.status, func.count()).where(triples).group_by(Triple.status)).all())
    return Footprint(by_status.get("accepted", 0), by_status.get("suggested", 0),
                     by_status.get("rejected", 0) + by_status.get("retracted", 0),
                     session.scalar(select(func.count()).select_from(Example).where(labels)) or 0)


def entity_footprint(session: Session, name: str) -> Footprint:
    entity = _entity(session, name)
    return _footprint(session, or_(Triple.head_id == entity.id, Triple.tail_id == entity.id),
                      or_(Example.head_id == entity.id, Example.tail_id == entity.id))


def relation_footprint(session: Session, name: str) -> Footprint:
    relation = _relation(session, name)
    return _footprint(session, Triple.relation_id == relation.id, Example.relation_id == relation.id)


def _check_confirmed(actual: Footprint, confirmed: Footprint, what: str) -> None:
    if actual != confirmed:
        raise RepairError(f"{what} now has {actual.words()}, not what was confirmed ({confirmed.words()}): "
                          "look again and confirm these counts")


def _delete(session: Session, user: str, row, what: str, actual: Footprint, confirmed: Footprint) -> Footprint:
    _check_confirmed(actual, confirmed, row.name)
    record_event(session, actor=user, action="delete", target=what, target_id=row.id,
                 details={"name": row.name, "label": row.label, "removed": asdict(actual)})
    session.delete(row)
    return actual


def delete_entity(session: Session, user: str, name: str, confirmed: Footprint) -> Footprint:
    """Delete the entity with its triples and labels (they cascade), if `confirmed` is what it removes."""
    return _delete(session, user, _entity(session, name), "entity", entity_footprint(session, name), confirmed)


def delete_relation(session: Session, user: str, name: str, confirmed: Footprint) -> Footprint:
    """Delete the relation with its triples and labels, if `confirmed` is what it removes. A curator's answer
    naming it on another sentence label goes too (the service layer applies the answering rule to that label
    again)."""
    relation = _relation(session, name)
    session.execute(delete(LabelOpinion).where(LabelOpinion.relation_id == relation.id))
    deleted = _delete(session, user, relation, "relation", relation_footprint(session, name), confirmed)
    session.flush()
    return deleted


def rename_relation(session: Session, user: str, name: str, new_name: str, new_label: Optional[str] = None) -> str:
    """A new name (and display label) for a relation; its facts and labels stay with it."""
    relation, new_name = _relation(session, name), new_name.strip()
    if not new_name:
        raise RepairError("the new name is empty")
    if new_name != name and session.scalar(select(Relation.id).where(Relation.name == new_name)) is not None:
        raise RepairError(f"there is already a relation named {new_name!r}: merge into it instead")
    before = {"name": relation.name, "label": relation.label}
    relation.name = new_name
    if new_label is not None and new_label.strip():
        relation.label = new_label.strip()
    elif relation.label == before["name"]:
        relation.label = new_name
    record_event(session, actor=user, action="rename", target="relation", target_id=relation.id,
                 details={"before": before, "after": {"name": relation.name, "label": relation.label}})
    return relation.name


MARKS = ("functional", "symmetric", "one_head_per_tail")


def mark_relation(session: Session, user: str, name: str, **marks: Optional[bool]) -> dict[str, bool]:
    """Mark a relation functional (one tail per head: a second is never suggested), one head per tail (the same,
    the other way), or symmetric (holds both ways: its reverse is not a negative); None leaves a mark as it is.
    Returns every mark as it is now."""
    unknown = sorted(set(marks) - set(MARKS))
    if unknown:
        raise ValueError(f"unknown relation mark {unknown[0]!r}")
    relation = _relation(session, name)
    before = {mark: bool(getattr(relation, mark)) for mark in MARKS}
    for mark, value in marks.items():
        if value is not None:
            setattr(relation, mark, value)
    after = {mark: bool(getattr(relation, mark)) for mark in MARKS}
    if after != before:
        record_event(session, actor=user, action="mark", target="relation", target_id=relation.id,
                     details={"name": relation.name, "before": before, "after": after})
    return after


def _move_evidence(session: Session, source: Triple, target: Triple) -> None:
    """The dropped triple's sentences become the surviving one's (a mention it already has stays once)."""
    for row in list(session.scalars(select(Evidence).where(Evidence.triple_id == source.id))):
        present = session.scalar(select(Evidence.id).where(
            Evidence.triple_id == target.id, Evidence.sentence_id == row.sentence_id,
            Evidence.head_start == row.head_start, Evidence.tail_start == row.tail_start))
        if present is None:
            row.triple_id = target.id
    session.flush()


def heads_with_several_tails(session: Session, name: str) -> int:
    """Heads that already have more than one accepted tail under the relation: what marking it functional
    contradicts (the marks do not remove facts; the curator decides)."""
    relation = _relation(session, name)
    several = (select(Triple.head_id).where(Triple.relation_id == relation.id, Triple.status == "accepted")
               .group_by(Triple.head_id).having(func.count() > 1).subquery())
    return session.scalar(select(func.count()).select_from(several)) or 0


def _words(triple: Triple) -> str:
    return f"{triple.head.name} —{triple.relation.name}→ {triple.tail.name} ({triple.status})"


def _move_triples(session: Session, rows: list[Triple], key, counts: dict[str, int], dropped: list[str]) -> None:
    """Give each row its new (head, relation, tail) from `key(row)`; a row whose place is taken or that became
    a self-loop is dropped, and named in `dropped` (see the module's docstring for whose decision stays)."""
    for row in rows:
        head_id, relation_id, tail_id = key(row)
        if head_id == tail_id:
            dropped.append(_words(row))
            session.delete(row)
            counts["self-loops dropped"] += 1
            continue
        taken = session.scalar(select(Triple).where(Triple.head_id == head_id, Triple.relation_id == relation_id,
                                                    Triple.tail_id == tail_id, Triple.id != row.id))
        if taken is not None:
            if taken.status == "suggested" and row.status != "suggested":
                taken.status, taken.reviewed_by, taken.reviewed_at = row.status, row.reviewed_by, row.reviewed_at
            elif taken.status != row.status and row.status != "suggested":
                counts["conflicting decisions kept as the target had them"] += 1
            _move_evidence(session, row, taken)
            dropped.append(_words(row))
            session.delete(row)
            counts["duplicate triples dropped"] += 1
            continue
        row.head_id, row.relation_id, row.tail_id = head_id, relation_id, tail_id
        counts["triples re-pointed"] += 1
    session.flush()


def _move_labels(session: Session, rows: list[Example], key, counts: dict[str, int]) -> None:
    for row in rows:
        head_id, relation_id, tail_id = key(row)
        if row.kind == "triple" and head_id == tail_id:
            session.delete(row)
            counts["self-loop labels dropped"] += 1
            continue
        same = session.scalar(select(Example).where(
            Example.kind == "triple", Example.head_id == head_id, Example.relation_id == relation_id,
            Example.tail_id == tail_id, Example.id != row.id)) if row.kind == "triple" else None
        if same is not None:
            if same.label != row.label:
                counts["conflicting labels kept as the target had them"] += 1
            session.delete(row)
            counts["duplicate labels dropped"] += 1
            continue
        row.head_id, row.relation_id, row.tail_id = head_id, relation_id, tail_id
        counts["labels re-pointed"] += 1
    session.flush()


def _new_counts() -> dict[str, int]:
    return {"triples re-pointed": 0, "duplicate triples dropped": 0, "self-loops dropped": 0,
            "conflicting decisions kept as the target had them": 0, "labels re-pointed": 0,
            "duplicate labels dropped": 0, "self-loop labels dropped": 0,
            "conflicting labels kept as the target had them": 0}


def merge_entities(session: Session, user: str, source: str, target: str,
                   dropped: Optional[list[str]] = None) -> dict[str, int]:
    """`source` becomes `target`: its triples and labels re-pointed, its names kept as aliases, itself gone.
    The triples it drops are named in the audit event (and in `dropped`, when given)."""
    if source == target:
        raise RepairError("pick two different entities to merge")
    old, new = _entity(session, source), _entity(session, target)

    def swap(entity_id: Optional[int]) -> Optional[int]:
        return new.id if entity_id == old.id else entity_id

    counts, dropped = _new_counts(), [] if dropped is None else dropped
    triples = list(session.scalars(select(Triple).where(or_(Triple.head_id == old.id, Triple.tail_id == old.id))))
    _move_triples(session, triples, lambda t: (swap(t.head_id), t.relation_id, swap(t.tail_id)), counts, dropped)
    labels = list(session.scalars(select(Example).where(or_(Example.head_id == old.id, Example.tail_id == old.id))))
    _move_labels(session, labels, lambda e: (swap(e.head_id), e.relation_id, swap(e.tail_id)), counts)
    known = {new.name, new.label, *(new.aliases or [])}
    added = [a for a in dict.fromkeys([old.name, old.label, *(old.aliases or [])]) if a and a not in known]
    new.aliases = [*(new.aliases or []), *added]
    record_event(session, actor=user, action="merge", target="entity", target_id=new.id,
                 details={"source": {"name": old.name, "label": old.label, "description": old.description,
                                     "type": old.type, "aliases": old.aliases},
                          "target": new.name, "aliases_added": added, "counts": counts, "dropped": dropped})
    session.delete(old)
    return counts


def merge_relations(session: Session, user: str, source: str, target: str,
                    dropped: Optional[list[str]] = None) -> dict[str, int]:
    """`source` becomes `target`: its triples and labels move to `target`, the relation itself is gone."""
    if source == target:
        raise RepairError("pick two different relations to merge")
    old, new = _relation(session, source), _relation(session, target)
    counts, dropped = _new_counts(), [] if dropped is None else dropped
    triples = list(session.scalars(select(Triple).where(Triple.relation_id == old.id)))
    _move_triples(session, triples, lambda t: (t.head_id, new.id, t.tail_id), counts, dropped)
    labels = list(session.scalars(select(Example).where(Example.relation_id == old.id)))
    _move_labels(session, labels, lambda e: (e.head_id, new.id, e.tail_id), counts)
    # curators' answers naming the old relation now name the new one; two answers that differed only by it agree
    session.execute(update(LabelOpinion).where(LabelOpinion.relation_id == old.id).values(relation_id=new.id))
    record_event(session, actor=user, action="merge", target="relation", target_id=new.id,
                 details={"source": {"name": old.name, "label": old.label, "description": old.description},
                          "target": new.name, "counts": counts, "dropped": dropped})
    session.delete(old)
    return counts


@dataclass(frozen=True)
class MergePreview:
    """What a merge would do, read from a rehearsal that is rolled back: shown before the curator confirms."""

    counts: dict[str, int]
    dropped: list[str]
    #: the two entities' types where they differ (a pathogen merged into a disease is likely a mistake)
    type_clash: Optional[tuple[str, str]] = None


def preview_merge(session: Session, kind: str, source: str, target: str) -> MergePreview:
    """Rehearse the merge in a savepoint and roll it back."""
    clash = None
    if kind == "entity":
        old, new = _entity(session, source), _entity(session, target)
        if old.type and new.type and old.type != new.type:
            clash = (old.type, new.type)
    dropped: list[str] = []
    savepoint = session.begin_nested()
    try:
        merge = merge_entities if kind == "entity" else merge_relations
        counts = merge(session, "preview", source, target, dropped)
    finally:
        savepoint.rollback()
    return MergePreview(counts, dropped, clash)
