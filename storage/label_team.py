"""Second opinions on labels: with a label overlap above 1, a label a curator enters waits ("pending") until
that many curators gave the same answer to its task (does the triple hold; which relation, if any, does the
sentence state), and goes to adjudication ("disputed") where they differ. Only settled labels train the model:
with 8 labels per relation one wrong label is an eighth of what it learns from.

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

from storage.audit import record_event
from storage.models import Entity, Example, LabelOpinion, ProjectSetting, Relation, Sentence, utcnow
from storage.team import JudgedItem, TeamError, set_count

LABEL_OVERLAP = "label_overlap"
HOLDS, DOES_NOT_HOLD = "holds", "does not hold"
NO_RELATION = "(no relation)"
#: agreement on sentence labels is measured over all relations at once: the answer is the relation
SENTENCE_TASKS = "sentence labels"


def label_overlap(session: Session) -> int:
    """How many curators must give the same answer before a label trains the model (1: the first does)."""
    value = session.get(ProjectSetting, LABEL_OVERLAP)
    return int(value.value) if value is not None else 1


def _answer(kind: str, holds: bool, relation_name: Optional[str]) -> str:
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


def _apply(session: Session, example: Example, answer: str) -> None:
    """Make the label say `answer`."""
    holds, relation_id = _values(session, example.kind, answer)
    if example.kind == "triple":
        example.label = holds
    else:
        example.relation_id = relation_id


def _opinion(session: Session, example: Example, user: str, answer: str, comment: Optional[str],
             now: datetime) -> LabelOpinion:
    holds, relation_id = _values(session, example.kind, answer)
    opinion = LabelOpinion(example_id=example.id, curator=user, holds=holds, relation_id=relation_id,
                           comment=" ".join((comment or "").split()) or None, created_at=now)
    session.add(opinion)
    try:  # no savepoint (SQLite's driver commits on releasing the outermost one): the caller's transaction rolls back
        session.flush()
    except IntegrityError:
        raise TeamError("your answer to this label task is already recorded") from None
    return opinion


@dataclass
class LabelOutcome:
    """What an answer made of a label: still waiting, settled (it trains the model), or disputed."""

    status: str
    answers: int
    needed: int
    answer: Optional[str] = None

    def words(self) -> str:
        if self.status == "pending":
            missing = self.needed - self.answers
            return (f"your answer is {self.answers} of the {self.needed} needed: the label waits for {missing} "
                    f"more curator{'s' if missing > 1 else ''} before it trains the model")
        if self.status == "disputed":
            return "the curators' answers differ: the label goes to adjudication (Team page)"
        return f"{self.answers} curators agree ({self.answer}): the label trains the model"


def _settle(session: Session, example: Example, needed: int) -> LabelOutcome:
    """The rule, as for suggestions: fewer answers than the overlap wait; enough alike settle the label with
    that answer; any difference disputes it."""
    answers = [view.answer for view in _opinion_views(session, {example.id: example.kind}).get(example.id, [])]
    if len(answers) < needed:
        example.status = "pending"
        return LabelOutcome("pending", len(answers), needed)
    if len(set(answers)) > 1:
        example.status = "disputed"
        return LabelOutcome("disputed", len(answers), needed)
    _apply(session, example, answers[0])
    example.status = "settled"
    return LabelOutcome("settled", len(answers), needed, answers[0])


def start(session: Session, example: Example, user: str) -> Optional[LabelOutcome]:
    """A new label under an overlap above 1 is its author's answer to the task, and waits for the others'.
    None where one curator's label settles it (overlap 1)."""
    needed = label_overlap(session)
    if needed <= 1:
        return None
    relation = session.get(Relation, example.relation_id) if example.relation_id is not None else None
    _opinion(session, example, user, _answer(example.kind, example.label, relation.name if relation else None),
             example.comment, example.created_at)
    return _settle(session, example, needed)


def _taken(session: Session, example_id: int, status: str, words: str) -> Example:
    """The label, if it still has this status, written first (a compare-and-set): that takes SQLite's write lock
    and PostgreSQL's row lock before anything is counted, so two answers to one label are counted one after the
    other and an answer never lands on a label another answer settled meanwhile."""
    claimed = session.execute(update(Example).where(Example.id == example_id, Example.status == status)
                              .values(status=status))
    if claimed.rowcount != 1:
        if session.get(Example, example_id) is None:
            raise TeamError("that label no longer exists (someone deleted it); reload the page")
        raise TeamError(words)
    example = session.get(Example, example_id)
    session.refresh(example)
    return example


def _task_words(session: Session, example: Example) -> str:
    """The task in words for the history (kept in the event: the label may be deleted later)."""
    head, tail = session.get(Entity, example.head_id), session.get(Entity, example.tail_id)
    if example.kind == "triple":
        relation = session.get(Relation, example.relation_id)
        return f"does {head.name} —{relation.name if relation else '?'}→ {tail.name} hold"
    sentence = session.get(Sentence, example.sentence_id)
    return f"what does “{sentence.text[:80] if sentence else '?'}” state from {head.name} to {tail.name}"


def give_opinion(session: Session, example_id: int, user: str, answer: str, comment: str = "") -> LabelOutcome:
    """This curator's answer to a pending label task."""
    example = _taken(session, example_id, "pending", "that label is settled or disputed already (answered "
                                                     "meanwhile?); reload the page")
    comment = " ".join((comment or "").split())
    _opinion(session, example, user, answer, comment, utcnow())
    result = _settle(session, example, label_overlap(session))
    record_event(session, actor=user, action="label_opinion", target="example", target_id=example.id,
                 details={"task": _task_words(session, example), "answer": answer,
                          **({"comment": comment} if comment else {}),
                          "outcome": {"status": result.status, "answers": result.answers, "needed": result.needed}})
    return result


def set_label_overlap(session: Session, value: int, user: str) -> int:
    """The new label overlap; every pending label that now has enough answers is settled or disputed by it.
    Returns how many it settled or disputed."""
    set_count(session, LABEL_OVERLAP, value, user, "set_label_overlap", "label")
    changed = 0
    for example in session.scalars(select(Example).where(Example.status == "pending").order_by(Example.id)
                                   .with_for_update()):
        if _settle(session, example, value).status != "pending":
            changed += 1
    return changed


def resettle(session: Session, example_ids: list[int]) -> int:
    """After a repair changed or removed answers (a relation merged or deleted), apply the rule again to the
    labels they belonged to that were not settled; returns how many changed status."""
    needed, changed = label_overlap(session), 0
    for example in session.scalars(select(Example).where(Example.id.in_(example_ids), Example.status != "settled")):
        before = example.status
        if _settle(session, example, needed).status != before:
            changed += 1
    return changed


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
            opinion.curator, _answer(kinds[opinion.example_id], opinion.holds, relation), opinion.comment,
            opinion.created_at))
    return out


def disputed_labels(session: Session, limit: int = 200) -> list[DisputedLabel]:
    tasks = _tasks(session, select(Example).where(Example.status == "disputed").order_by(Example.id).limit(limit))
    views = _opinion_views(session, {t.example_id: t.kind for t in tasks})
    return [DisputedLabel(task, views.get(task.example_id, [])) for task in tasks]


def adjudicate_label(session: Session, example_id: int, user: str, answer: str, comment: str = "") -> str:
    """An adjudicator's answer to a disputed label task: the label says it and trains the model; every
    curator's answer stays in the history."""
    example = _taken(session, example_id, "disputed", "that label is not waiting for adjudication (settled "
                                                      "meanwhile?); reload the page")
    opinions = [{"curator": v.curator, "answer": v.answer, "comment": v.comment}
                for v in _opinion_views(session, {example.id: example.kind}).get(example.id, [])]
    _apply(session, example, answer)
    example.status = "settled"
    record_event(session, actor=user, action="adjudicate_label", target="example", target_id=example.id,
                 details={"task": _task_words(session, example), "answer": answer, "opinions": opinions,
                          **({"comment": " ".join(comment.split())} if comment.strip() else {})})
    return answer


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
