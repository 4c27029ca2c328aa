"""Second opinions on labels, their rows: the label overlap setting, each curator's answer to a label's task
(does the triple hold; which relation, if any, does the sentence state), the labels waiting, disputed and
judged. The rule that settles or disputes a label is the service layer's (`knowco/label_answers.py`).

A task's answer is one string, so verdicts, label answers and agreement all compare strings: "holds" or
"does not hold" for a triple, the relation's name or NO_RELATION for a sentence.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from storage.models import Entity, Example, LabelOpinion, ProjectSetting, Relation, Sentence
from storage.team import JudgedItem, TeamError

LABEL_OVERLAP = "label_overlap"
HOLDS, DOES_NOT_HOLD = "holds", "does not hold"
NO_RELATION = "(no relation)"
#: agreement on sentence labels is measured over all relations at once: the answer is the relation
SENTENCE_TASKS = "sentence labels"


def label_overlap(session: Session) -> int:
    """How many curators must give the same answer before a label trains the model (1: the first does)."""
    value = session.get(ProjectSetting, LABEL_OVERLAP)
    return int(value.value) if value is not None else 1


def answer_of(kind: str, holds: bool, relation_name: Optional[str]) -> str:
    """A label's or an answer's values as the answer string."""
    if kind == "triple":
        return HOLDS if holds else DOES_NOT_HOLD
    return relation_name or NO_RELATION


def _values(session: Session, kind: str, answer: str) -> tuple[bool, Optional[int]]:
    """The answer string as the (holds, relation id) a label or an answer stores; a triple task's relation is
    its question, not its answer, so it comes back None."""
    if kind == "triple":
        if answer not in (HOLDS, DOES_NOT_HOLD):
            raise TeamError(f"a triple label's answer is {HOLDS!r} or {DOES_NOT_HOLD!r}, not {answer!r}")
        return answer == HOLDS, None
    if answer == NO_RELATION:
        return True, None
    relation = session.scalar(select(Relation.id).where(Relation.name == answer))
    if relation is None:
        raise TeamError(f"there is no relation named {answer!r}; pick one from the list")
    return True, relation


@dataclass(frozen=True)
class LabelRow:
    """A label as plain values: what the answering rules read."""

    id: int
    kind: str
    status: str
    #: what the label says, as an answer string
    answer: str
    comment: Optional[str]
    created_at: datetime


def label_row(session: Session, example_id: int) -> Optional[LabelRow]:
    example = session.get(Example, example_id)
    if example is None:
        return None
    relation = session.get(Relation, example.relation_id) if example.relation_id is not None else None
    return LabelRow(example.id, example.kind, example.status,
                    answer_of(example.kind, example.label, relation.name if relation else None), example.comment,
                    example.created_at)


def set_answer(session: Session, label: LabelRow, answer: str) -> None:
    """Make the label say `answer`."""
    holds, relation_id = _values(session, label.kind, answer)
    example = session.get(Example, label.id)
    if label.kind == "triple":
        example.label = holds
    else:
        example.relation_id = relation_id


def set_status(session: Session, example_id: int, status: str) -> None:
    session.get(Example, example_id).status = status


def add_answer(session: Session, label: LabelRow, user: str, answer: str, comment: Optional[str],
               now: datetime) -> None:
    """This curator's answer to the label's task (one per curator and label)."""
    holds, relation_id = _values(session, label.kind, answer)
    session.add(LabelOpinion(example_id=label.id, curator=user, holds=holds, relation_id=relation_id,
                             comment=" ".join((comment or "").split()) or None, created_at=now))
    try:  # no savepoint (SQLite's driver commits on releasing the outermost one): the caller's transaction rolls back
        session.flush()
    except IntegrityError:
        raise TeamError("your answer to this label task is already recorded") from None


def take(session: Session, example_id: int, status: str, words: str) -> LabelRow:
    """The label, if it still has this status, written first (a compare-and-set): that takes SQLite's write lock
    and PostgreSQL's row lock before anything is counted, so two answers to one label are counted one after the
    other and an answer never lands on a label another answer settled meanwhile."""
    claimed = session.execute(update(Example).where(Example.id == example_id, Example.status == status)
                              .values(status=status))
    if claimed.rowcount != 1:
        if session.get(Example, example_id) is None:
            raise TeamError("that label no longer exists (someone deleted it); reload the page")
        raise TeamError(words)
    session.refresh(session.get(Example, example_id))
    return label_row(session, example_id)


def task_words(session: Session, example_id: int) -> str:
    """The task in words for the history (kept in the event: the label may be deleted later)."""
    example = session.get(Example, example_id)
    head, tail = session.get(Entity, example.head_id), session.get(Entity, example.tail_id)
    if example.kind == "triple":
        relation = session.get(Relation, example.relation_id)
        return f"does {head.name} —{relation.name if relation else '?'}→ {tail.name} hold"
    sentence = session.get(Sentence, example.sentence_id)
    return f"what does “{sentence.text[:80] if sentence else '?'}” state from {head.name} to {tail.name}"


def pending_ids(session: Session) -> list[int]:
    """Every label waiting for answers, locked (PostgreSQL) in one order."""
    return list(session.scalars(select(Example.id).where(Example.status == "pending").order_by(Example.id)
                                .with_for_update()))


def unsettled_among(session: Session, example_ids: list[int]) -> list[int]:
    return list(session.scalars(select(Example.id).where(Example.id.in_(example_ids), Example.status != "settled")
                                .order_by(Example.id)))


def answered_naming(session: Session, relation: str) -> list[int]:
    """The labels with a curator's answer naming this relation."""
    return list(session.scalars(select(LabelOpinion.example_id).join(Relation, LabelOpinion.relation_id == Relation.id)
                                .where(Relation.name == relation)))


def answer_views(session: Session, label: LabelRow) -> list["OpinionView"]:
    """Every curator's answer to the label's task, oldest first."""
    return _opinion_views(session, {label.id: label.kind}).get(label.id, [])


def answers(session: Session, label: LabelRow) -> list[str]:
    return [view.answer for view in answer_views(session, label)]


@dataclass
class LabelTask:
    """A label as a task to answer blind: the triple or the sentence with its two marked mentions, without
    anyone's answer."""

    example_id: int
    kind: str
    head: str
    tail: str
    relation: Optional[str] = None  # a triple task's relation (the question); None for a sentence task
    relation_label: Optional[str] = None
    tokens: list[str] = field(default_factory=list)
    head_span: tuple[int, int] = (0, 0)
    tail_span: tuple[int, int] = (0, 0)
    status: str = "pending"


@dataclass
class OpinionView:
    curator: str
    answer: str
    comment: Optional[str]
    at: datetime


@dataclass
class DisputedLabel:
    task: LabelTask
    opinions: list[OpinionView] = field(default_factory=list)


def _tasks(session: Session, query) -> list[LabelTask]:
    head, tail = aliased(Entity), aliased(Entity)
    rows = session.execute(
        query.add_columns(head.label, tail.label, Relation.name, Relation.label, Sentence.tokens)
        .join(head, Example.head_id == head.id).join(tail, Example.tail_id == tail.id)
        .outerjoin(Relation, Example.relation_id == Relation.id)
        .outerjoin(Sentence, Example.sentence_id == Sentence.id)).all()
    tasks = []
    for example, h, t, relation, relation_label, tokens in rows:
        if example.kind == "triple":
            tasks.append(LabelTask(example.id, "triple", h, t, relation, relation_label, status=example.status))
        else:
            tasks.append(LabelTask(example.id, "sentence", h, t, tokens=list(tokens or []),
                                   head_span=(example.head_start, example.head_end),
                                   tail_span=(example.tail_start, example.tail_end), status=example.status))
    return tasks


def waiting_on(user: str):
    """The condition of a label waiting for this curator's answer: pending, and not answered by them."""
    return (Example.status == "pending") & Example.id.not_in(
        select(LabelOpinion.example_id).where(LabelOpinion.curator == user))


def waiting_for(session: Session, user: str, limit: int = 50) -> list[LabelTask]:
    """Pending labels this curator has not answered, oldest first."""
    return _tasks(session, select(Example).where(waiting_on(user)).order_by(Example.id).limit(limit))


def waiting_count(session: Session, user: str) -> int:
    return session.scalar(select(func.count()).select_from(Example).where(waiting_on(user))) or 0


def _opinion_views(session: Session, kinds: dict[int, str]) -> dict[int, list[OpinionView]]:
    """Every answer to these labels (label id → its kind), oldest first, as answer strings."""
    out: dict[int, list[OpinionView]] = {}
    for opinion, relation in session.execute(
            select(LabelOpinion, Relation.name).outerjoin(Relation, LabelOpinion.relation_id == Relation.id)
            .where(LabelOpinion.example_id.in_(list(kinds))).order_by(LabelOpinion.id)):
        out.setdefault(opinion.example_id, []).append(OpinionView(
            opinion.curator, answer_of(kinds[opinion.example_id], opinion.holds, relation), opinion.comment,
            opinion.created_at))
    return out


def disputed_labels(session: Session, limit: int = 200) -> list[DisputedLabel]:
    tasks = _tasks(session, select(Example).where(Example.status == "disputed").order_by(Example.id).limit(limit))
    views = _opinion_views(session, {t.example_id: t.kind for t in tasks})
    return [DisputedLabel(task, views.get(task.example_id, [])) for task in tasks]


def judged_labels(session: Session) -> list[JudgedItem]:
    """Every label task two or more curators answered and no one still waits to answer (an answer shown while
    others are asked blind would not be blind), with each curator's answer: triple tasks under their relation,
    sentence tasks together (their answer is the relation)."""
    several = select(LabelOpinion.example_id).group_by(LabelOpinion.example_id).having(func.count() >= 2)
    tasks = {t.example_id: t for t in _tasks(session, select(Example).where(Example.id.in_(several),
                                                                              Example.status != "pending"))}
    views = _opinion_views(session, {i: t.kind for i, t in tasks.items()})
    items = []
    for example_id, task in sorted(tasks.items()):
        if task.kind == "triple":
            group, text = task.relation, f"{task.head} —{task.relation_label}→ {task.tail}"
        else:
            group, text = SENTENCE_TASKS, f"{task.head} … {task.tail}: {' '.join(task.tokens)}"
        items.append(JudgedItem(example_id, group, text, task.status,
                                {v.curator: v.answer for v in views.get(example_id, [])}))
    return items
