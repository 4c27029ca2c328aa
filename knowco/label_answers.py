"""The rule of second opinions on labels, inside the caller's transaction: with a label overlap above 1, a label
a curator enters waits ("pending") until that many curators gave the same answer to its task, and goes to
adjudication ("disputed") where they differ. Only settled labels train the model: with 8 labels per relation
one wrong label is an eighth of what it learns from. The rows are `storage.label_team`'s.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlalchemy.orm import Session

from storage import label_team, labels
from storage.audit import record_event
from storage.label_team import LABEL_OVERLAP, LabelRow
from storage.labels import ExampleEdit, LabelError, LabelWrite
from storage.models import utcnow
from storage.team import set_count


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


def settle(session: Session, label: LabelRow, needed: int) -> LabelOutcome:
    """The rule, as for suggestions: fewer answers than the overlap wait; enough alike settle the label with
    that answer; any difference disputes it."""
    answers = label_team.answers(session, label)
    if len(answers) < needed:
        label_team.set_status(session, label.id, "pending")
        return LabelOutcome("pending", len(answers), needed)
    if len(set(answers)) > 1:
        label_team.set_status(session, label.id, "disputed")
        return LabelOutcome("disputed", len(answers), needed)
    label_team.set_answer(session, label, answers[0])
    label_team.set_status(session, label.id, "settled")
    return LabelOutcome("settled", len(answers), needed, answers[0])


def start(session: Session, example_id: int, user: str) -> Optional[LabelOutcome]:
    """A new label under an overlap above 1 is its author's answer to the task, and waits for the others'.
    None where one curator's label settles it (overlap 1)."""
    needed = label_team.label_overlap(session)
    if needed <= 1:
        return None
    label = label_team.label_row(session, example_id)
    label_team.add_answer(session, label, user, label.answer, label.comment, label.created_at)
    return settle(session, label, needed)


def after_writing(session: Session, written: LabelWrite, user: str) -> int:
    """A label written: a new one is its author's answer; one that answered another curator's pending label
    (labelling what they labelled) counts as this curator's answer to it. Returns the label's id."""
    if written.created:
        start(session, written.example_id, user)
    else:
        give_opinion(session, written.example_id, user, written.answer)
    return written.example_id


def give_opinion(session: Session, example_id: int, user: str, answer: str, comment: str = "") -> LabelOutcome:
    """This curator's answer to a pending label task."""
    label = label_team.take(session, example_id, "pending", "that label is settled or disputed already (answered "
                                                            "meanwhile?); reload the page")
    comment = " ".join((comment or "").split())
    label_team.add_answer(session, label, user, answer, comment, utcnow())
    result = settle(session, label, label_team.label_overlap(session))
    record_event(session, actor=user, action="label_opinion", target="example", target_id=label.id,
                 details={"task": label_team.task_words(session, label.id), "answer": answer,
                          **({"comment": comment} if comment else {}),
                          "outcome": {"status": result.status, "answers": result.answers, "needed": result.needed}})
    return result


def set_label_overlap(session: Session, value: int, user: str) -> int:
    """The new label overlap; every pending label that now has enough answers is settled or disputed by it.
    Returns how many it settled or disputed."""
    set_count(session, LABEL_OVERLAP, value, user, "set_label_overlap", "label")
    return sum(settle(session, label_team.label_row(session, i), value).status != "pending"
               for i in label_team.pending_ids(session))


def resettle(session: Session, example_ids: list[int]) -> int:
    """After a repair changed or removed answers (a relation merged or deleted), apply the rule again to the
    labels they belonged to that were not settled; returns how many changed status."""
    needed, changed = label_team.label_overlap(session), 0
    for example_id in label_team.unsettled_among(session, example_ids):
        label = label_team.label_row(session, example_id)
        if settle(session, label, needed).status != label.status:
            changed += 1
    return changed


def edit_labels(session: Session, edits: list[ExampleEdit], user: str, *, adjudicator: bool = False) -> None:
    """A table's worth of edits, all or none: a label's answer changes only once it is settled, and with a
    label overlap above 1 only an adjudicator changes a settled label's answer alone."""
    for edit in edits:
        status = labels.answer_change(session, edit)
        if status is not None and status != "settled":
            raise LabelError("this label waits for other curators' answers (or an adjudicator's): its answer cannot "
                             "be changed here; an admin settles it on the Team page, or deletes it")
        needed = label_team.label_overlap(session)
        if status is not None and needed > 1 and not adjudicator:
            raise LabelError(f"each label needs {needed} curators' answers, so changing a settled label's answer is "
                             "an admin's decision; add a comment saying why it is wrong, or ask an admin")
        labels.edit_example(session, edit, user)


def adjudicate_label(session: Session, example_id: int, user: str, answer: str, comment: str = "") -> str:
    """An adjudicator's answer to a disputed label task: the label says it and trains the model; every
    curator's answer stays in the history."""
    label = label_team.take(session, example_id, "disputed", "that label is not waiting for adjudication (settled "
                                                             "meanwhile?); reload the page")
    opinions = [{"curator": v.curator, "answer": v.answer, "comment": v.comment}
                for v in label_team.answer_views(session, label)]
    label_team.set_answer(session, label, answer)
    label_team.set_status(session, label.id, "settled")
    record_event(session, actor=user, action="adjudicate_label", target="example", target_id=label.id,
                 details={"task": label_team.task_words(session, label.id), "answer": answer, "opinions": opinions,
                          **({"comment": " ".join(comment.split())} if comment.strip() else {})})
    return answer
