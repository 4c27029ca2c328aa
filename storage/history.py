"""The audit log as the History page reads it: newest first, filtered by who, what and when, each event told
in words with names ("relation capital_of → borders"), its raw details kept beside."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Optional, Sequence

from sqlalchemy import distinct, select
from sqlalchemy.orm import Session

from storage.label_team import waiting_on
from storage.models import AuditEvent, Entity, Example, Relation, Sentence, Triple, Verdict


#: actions as a person says them (the audit log stores short names)
ACTION_WORDS = {"edit_accept": "swap or correct, and accept", "set_overlap": "set the review overlap",
                "settle": "settle by the new overlap", "bulk_accept": "accept in bulk", "rename": "rename",
                "mark": "mark", "create": "create", "label_opinion": "answer a label task",
                "set_label_overlap": "set the label overlap", "adjudicate_label": "adjudicate a label",
                "rerank": "re-rank the queue from verdicts", "start_spot_check": "start a spot check",
                "accept_spot_check": "accept the rest of a spot check", "make_standing_rule": "make a standing rule",
                "drop_standing_rule": "drop a standing rule",
                "set_spot_check_width": "set the spot checks' interval width"}


def action_words(action: str) -> str:
    return ACTION_WORDS.get(action, action.replace("_", " "))


@dataclass
class HistoryRow:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    target_id: Optional[int]
    details: dict[str, Any]
    #: the event in words, with names instead of ids
    summary: str = ""
    #: a later undo took it back
    undone: bool = False


#: what a curator still asked for their own answer reads instead of others' answers
HIDDEN = "others' answer, hidden until you give yours"


def _unanswered(session: Session, viewer: str) -> set[tuple[str, int]]:
    """Labels and suggestions still waiting for answers that `viewer` has not given: the answers others gave
    them stay hidden from the viewer, or theirs would not be blind."""
    labels = session.scalars(select(Example.id).where(waiting_on(viewer)))
    triples = session.scalars(select(Verdict.triple_id).join(Triple, Triple.id == Verdict.triple_id)
                              .where(Triple.status == "suggested").where(Verdict.triple_id.not_in(
                                  select(Verdict.triple_id).where(Verdict.curator == viewer))))
    return {("example", i) for i in labels} | {("triple", i) for i in triples}


def history(session: Session, *, actors: Sequence[str] = (), actions: Sequence[str] = (),
            since: Optional[datetime] = None, limit: int = 500, viewer: Optional[str] = None,
            before: Optional[int] = None) -> list[HistoryRow]:
    """The log, newest first (from the event before the one numbered `before`, where given); with `viewer`, the
    answers others gave to what the viewer is still asked are hidden (summary and details)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    if actors:
        query = query.where(AuditEvent.actor.in_(list(actors)))
    if actions:
        query = query.where(AuditEvent.action.in_(list(actions)))
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    names = _Names(session)
    undone = {(details or {}).get("undoes") for details in session.scalars(
        select(AuditEvent.details).where(AuditEvent.action == "undo"))}
    hidden = _unanswered(session, viewer) if viewer is not None else set()
    rows = []
    for e in session.scalars(query):
        if (e.target, e.target_id) in hidden and e.actor != viewer:
            rows.append(HistoryRow(e.id, e.at, e.actor, e.action, e.target, e.target_id, {}, HIDDEN))
            continue
        rows.append(HistoryRow(e.id, e.at, e.actor, e.action, e.target, e.target_id, dict(e.details or {}),
                               describe(e.action, e.target, dict(e.details or {}), names), e.id in undone))
    return rows


class _Names:
    """Entity, relation and sentence ids as a person reads them, looked up once each."""

    def __init__(self, session: Session) -> None:
        self.session, self.cache = session, {}

    def __call__(self, model, key: Optional[int]) -> str:
        if key is None:
            return "no relation" if model is Relation else "?"
        if (model, key) not in self.cache:
            row = self.session.get(model, key)
            self.cache[(model, key)] = ("(deleted)" if row is None else
                                        f"“{row.text[:80]}”" if model is Sentence else row.name)
        return self.cache[(model, key)]


def _label(snapshot: dict, names: _Names) -> str:
    """A label (example) in words: the triple it says holds or not, or what its sentence states."""
    head, tail = names(Entity, snapshot.get("head_id")), names(Entity, snapshot.get("tail_id"))
    relation = names(Relation, snapshot.get("relation_id"))
    if snapshot.get("kind") == "sentence":
        return f"{names(Sentence, snapshot.get('sentence_id'))} states {head} —{relation}→ {tail}"
    return f"{head} —{relation}→ {tail} {'holds' if snapshot.get('label') else 'does not hold'}"


def _label_change(before: dict, after: dict, names: _Names) -> str:
    changes = []
    if before.get("relation_id") != after.get("relation_id"):
        changes.append(f"relation {names(Relation, before.get('relation_id'))} → "
                       f"{names(Relation, after.get('relation_id'))}")
    if before.get("label") != after.get("label"):
        changes.append(f"{'holds' if before.get('label') else 'does not hold'} → "
                       f"{'holds' if after.get('label') else 'does not hold'}")
    if before.get("comment") != after.get("comment"):
        changes.append(f"comment “{after.get('comment') or ''}”")
    return f"{_label(before, names)}: {', '.join(changes) or 'no change'}"


def _counts(counts: dict) -> str:
    return ", ".join(f"{n:,} {what}" for what, n in counts.items() if n) or "nothing new"


def _outcome(outcome: Optional[dict]) -> str:
    """Where a suggestion stands after a verdict, when more than one curator decides each."""
    if not outcome:
        return ""
    if outcome["status"] == "suggested":
        return f" — verdict {outcome['verdicts']} of {outcome['needed']}, waiting for the others"
    if outcome["status"] == "disputed":
        return " — the curators disagree: to adjudication"
    return f" — {outcome['verdicts']} curators agree"


Renderer = Callable[[dict, str, _Names], str]


def _verdict(d: dict, target: str, names: _Names) -> str:
    why = f" ({d['reason']})" if d.get("reason") else ""
    return (d.get("triple", "") + why + (f": “{d['comment']}”" if d.get("comment") else "")
            + _outcome(d.get("outcome")))


def _label_opinion(d: dict, target: str, names: _Names) -> str:
    outcome = d.get("outcome") or {}
    where = {"pending": f"answer {outcome.get('answers')} of {outcome.get('needed')}, waiting for the others",
             "disputed": "the answers differ: to adjudication",
             "settled": f"{outcome.get('answers')} curators agree: the label trains the model"}.get(
        outcome.get("status"), "")
    return (f"{d.get('task', '')}? {d.get('answer', '')}" + (f" “{d['comment']}”" if d.get("comment") else "")
            + (f" — {where}" if where else ""))


def _adjudicate_label(d: dict, target: str, names: _Names) -> str:
    said = "; ".join(f"{v['curator']} {v['answer']}" + (f" “{v['comment']}”" if v.get("comment") else "")
                     for v in d.get("opinions", []))
    return f"{d.get('task', '')}? {d.get('answer', '')}, where {said}"


def _adjudicate(d: dict, target: str, names: _Names) -> str:
    said = "; ".join(f"{v['curator']} {v['decision']}" + (f" ({v['reason']})" if v.get("reason") else "")
                     + (f" “{v['comment']}”" if v.get("comment") else "") for v in d.get("verdicts", []))
    return f"{d.get('triple', '')}: {d.get('decision', '')}, where {said}"


def _bulk_accept(d: dict, target: str, names: _Names) -> str:
    scope = f" of {d['relation']}" if d.get("relation") else ""
    return f"{d.get('count', 0)} suggestions{scope} at confidence ≥ {d.get('min_confidence', 0):.2f}"


def _import(d: dict, target: str, names: _Names) -> str:
    if target == "document":
        return f"{d.get('name', '')}: {d.get('sentences', 0)} sentences ({d.get('already_present', 0)} already there)"
    return f"{d.get('path', '')} ({d.get('format', '')}): {_counts(d.get('created', {}))}"


def _merge(d: dict, target: str, names: _Names) -> str:
    moved = ", ".join(f"{n} {what}" for what, n in d.get("counts", {}).items() if n) or "nothing to move"
    return f"{target} {d.get('source', {}).get('name', '')} into {d.get('target', '')}: {moved}"


def _mark(d: dict, target: str, names: _Names) -> str:
    after = d.get("after", {})
    marks = [m.replace("_", " ") for m in ("functional", "symmetric", "one_head_per_tail") if after.get(m)]
    return f"{d.get('name', '')}: " + (" and ".join(marks) if marks else "no marks")


def _delete(d: dict, target: str, names: _Names) -> str:
    if target == "example":
        return _label(d.get("before", {}), names)
    removed = d.get("removed", {})
    return (f"{target} {d.get('name', '')} with {removed.get('facts', 0)} facts, {removed.get('suggestions', 0)} "
            f"suggestions, {removed.get('rejected', 0)} rejected or retracted and {removed.get('labels', 0)} labels")


def _edit(d: dict, target: str, names: _Names) -> str:
    return _label_change(d.get("before", {}), d.get("after", {}), names) if target == "example" else ""


#: one sentence per kind of event: a new event is one entry here
RENDERERS: dict[str, Renderer] = {
    "settle": lambda d, target, names: d.get("triple", "") + _outcome(d.get("outcome")),
    "accept": _verdict,
    "reject": _verdict,
    "label_opinion": _label_opinion,
    "adjudicate_label": _adjudicate_label,
    "set_label_overlap": lambda d, target, names: f"{d.get('before', 1)} → {d.get('after', 1)} curators per label",
    "adjudicate": _adjudicate,
    "set_overlap": lambda d, target, names: f"{d.get('before', 1)} → {d.get('after', 1)} curators per suggestion",
    "edit_accept": lambda d, target, names: f"{d.get('suggested', '')} corrected to {d.get('triple', '')}",
    "retract": lambda d, target, names: f"{d.get('triple', '')}, because: {d.get('reason', '')}",
    "bulk_accept": _bulk_accept,
    "make_standing_rule": lambda d, target, names: str(d.get("rule", "")),
    "drop_standing_rule": lambda d, target, names: str(d.get("rule", "")),
    "start_spot_check": lambda d, target, names: (f"spot check {'' if d.get('slice') is None else d['slice']}: "
                                                  f"{d.get('sample', 0)} of {d.get('size', 0)} suggestions to judge"),
    "accept_spot_check": lambda d, target, names: (
        f"{d.get('count', 0)} suggestions of {d.get('slice', '')}, stated to hold about {d.get('precision', 0):.0%} "
        f"({d.get('low', 0):.0%}–{d.get('high', 0):.0%}) from {d.get('judged', 0)} checked ({d.get('held', 0)} held)"),
    "undo": lambda d, target, names: f"took back {action_words(str(d.get('action', '')))}: {d.get('what', '')}",
    "rerank": lambda d, target, names: str(d.get("summary", "")),
    "mark_model_store": lambda d, target, names: str(d.get("what", "")),
    "suggest": lambda d, target, names: (f"{d.get('new', 0)} new suggestions, {d.get('rescored', 0)} re-scored, "
                                         f"{d.get('removed', 0)} removed"),
    "train": lambda d, target, names: f"{d.get('name', '')} on {d.get('backbone', '')}",
    "cancel": lambda d, target, names: str(d.get("name", "")),
    "activate": lambda d, target, names: str(d.get("name", "")),
    "import": _import,
    "label": lambda d, target, names: _label(d.get("after", {}), names),
    "delete": _delete,
    "edit": _edit,
    "merge": _merge,
    "mark": _mark,
    "rename": lambda d, target, names: (f"{target} {d.get('before', {}).get('name', '')} → "
                                        f"{d.get('after', {}).get('name', '')}"),
    "create": lambda d, target, names: f"entity {d.get('name', '')}" + (f" (from a {d['from']})" if d.get("from")
                                                                         else ""),
}


def describe(action: str, target: str, details: dict, names: _Names) -> str:
    """What happened, in a sentence a curator reads without knowing the schema."""
    renderer = RENDERERS.get(action)
    return renderer(details, target, names) if renderer else ""


def history_choices(session: Session) -> tuple[list[str], list[str]]:
    """The actors and actions that occur, for the filters."""
    actors = sorted(session.scalars(select(distinct(AuditEvent.actor))))
    actions = sorted(session.scalars(select(distinct(AuditEvent.action))))
    return actors, actions
