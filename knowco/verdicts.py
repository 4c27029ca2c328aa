"""The rules of a verdict, inside the caller's transaction: when a suggestion is decided (the overlap: enough
curators agreeing; any disagreement disputes it), what an adjudicator may decide, which shortcuts a lone
curator has (correcting, accepting in bulk), that a decision is also a label, which verdict undo takes back,
and the audit event each leaves (its `changes` list what undo restores). The rows are read and written through
`storage.triple_rows` and `storage.team`; the use cases that open the transaction are `knowco/reviewing.py`'s.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy.orm import Session

from storage import spot_checks, team, triple_rows
from storage.audit import record_event
from storage.history import action_words
from storage.models import DECISIONS, REJECT_REASONS, utcnow
from storage.review import ReviewError, pending_ids
from storage.triple_rows import TripleRow

#: the events undo can take back
REVIEW_ACTIONS = ("accept", "reject", "edit_accept", "bulk_accept", "retract", "adjudicate", "accept_spot_check")


@dataclass
class Outcome:
    """What one verdict made of a suggestion: still waiting, decided, or disputed."""

    status: str
    verdicts: int
    needed: int

    def words(self) -> str:
        if self.status == "suggested":
            return (f"your verdict is {self.verdicts} of the {self.needed} needed: it stays in the queue for "
                    f"{self.needed - self.verdicts} more curator{'s' if self.needed - self.verdicts > 1 else ''}")
        if self.status == "disputed":
            return "the curators disagree: it goes to adjudication"
        return f"{self.verdicts} curators agree: it is {self.status}"


def outcome(decisions: list[str], needed: int) -> Outcome:
    """The overlap rule: with fewer verdicts than needed the suggestion waits; with enough, all alike decide it,
    any disagreement disputes it."""
    if len(decisions) < needed:
        return Outcome("suggested", len(decisions), needed)
    return Outcome(decisions[0] if len(set(decisions)) == 1 else "disputed", len(decisions), needed)


def _pending(session: Session, triple_id: int, lock: bool = False) -> TripleRow:
    row = triple_rows.triple_row(session, triple_id, lock=lock)
    if row is None:
        raise ReviewError("that suggestion no longer exists (a newer model run replaced it); reload the queue")
    if row.status != "suggested":
        raise ReviewError(f"that suggestion was already {row.status} by {row.reviewed_by or 'someone'}")
    return row


def set_with_label(session: Session, row: TripleRow, status: str, user: str, now: datetime, *,
         reason: Optional[str] = None, comment: Optional[str] = None) -> dict:
    """The status set (compare-and-set: of two curators exactly one wins, the other is told) and the change undo
    restores; a decision (not a dispute) is also a label."""
    change = {"triple_id": row.id, "before": row.state(), "after": status}
    if triple_rows.set_status(session, row, status, user, now, reason=reason, comment=comment) is None:
        raise ReviewError("another curator decided on this suggestion a moment ago; reload the queue")
    if status in ("accepted", "rejected"):
        change["example_id"] = triple_rows.add_label(session, row.key, status == "accepted", user, now)
    return change


def decide(session: Session, triple_id: int, user: str, status: str, action: str, *,
           reason: Optional[str] = None, comment: str = "") -> str:
    """This curator's verdict; the suggestion is decided (or disputed) once the overlap's verdicts are in.
    Returns the triple in words, with where it stands when it still waits or is disputed."""
    if status == "rejected" and reason not in REJECT_REASONS:
        raise ReviewError(f"unknown reason {reason!r}: say one of {', '.join(REJECT_REASONS)}")
    if status not in DECISIONS:
        raise ReviewError(f"unknown decision {status!r}")
    row, now = _pending(session, triple_id, lock=True), utcnow()
    try:
        verdict_id, kept_comment = team.add_verdict(session, row.id, user, status, now, reason=reason,
                                                    comment=comment)
    except team.TeamError as exc:
        raise ReviewError(str(exc)) from None
    result = outcome(team.decisions_of(session, row.id), team.overlap(session))
    if result.status == "suggested":
        change = {"triple_id": row.id, "before": row.state(), "after": "suggested"}
    else:  # the deciding curator; every curator's name is on their verdict
        same = result.status == status
        change = set_with_label(session, row, result.status, user, now, reason=reason if same else None,
                      comment=comment if same else None)
    change["verdict_id"] = verdict_id
    details = {"changes": [change], "triple": row.words}
    details.update({k: v for k, v in (("reason", reason), ("comment", kept_comment)) if v})
    if result.needed > 1:
        details["outcome"] = {"status": result.status, "verdicts": result.verdicts, "needed": result.needed}
    record_event(session, actor=user, action=action, target="triple", target_id=triple_id, details=details)
    return row.words + (f" ({result.words()})" if result.needed > 1 else "")


def set_overlap(session: Session, value: int, user: str) -> int:
    """The new overlap, and every pending suggestion that now has enough verdicts decided (or disputed) by it:
    lowered from 3 to 2, one with two agreeing verdicts must not wait for a third that never comes. Returns how
    many it settled."""
    team.set_overlap(session, value, user)
    settled = 0
    for triple_id in team.pending_in_review(session):
        row = triple_rows.triple_row(session, triple_id, lock=True)
        result = outcome(team.decisions_of(session, triple_id), value)
        if row is None or result.status == "suggested":
            continue
        change = set_with_label(session, row, result.status, user, utcnow())
        record_event(session, actor=user, action="settle", target="triple", target_id=triple_id,
                     details={"changes": [change], "triple": row.words,
                              "outcome": {"status": result.status, "verdicts": result.verdicts,
                                          "needed": result.needed}})
        settled += 1
    return settled


def adjudicate(session: Session, triple_id: int, user: str, decision: str, reason: Optional[str] = None,
               comment: str = "") -> str:
    """An adjudicator's decision on a disputed suggestion; every curator's verdict stays (history, export)."""
    row = triple_rows.triple_row(session, triple_id)
    if row is None or row.status != "disputed":
        raise ReviewError("that suggestion is not waiting for adjudication (decided meanwhile?); reload the page")
    if decision not in ("accepted", "rejected"):
        raise ReviewError(f"unknown decision {decision!r}")
    if decision == "rejected" and reason not in REJECT_REASONS:
        raise ReviewError(f"unknown reason {reason!r}: say one of {', '.join(REJECT_REASONS)}")
    verdicts = [{"curator": v.curator, "decision": v.decision, "reason": v.reason, "comment": v.comment}
                for v in team.verdicts_of(session, triple_id)]
    change = set_with_label(session, row, decision, user, utcnow(), reason=reason if decision == "rejected" else None,
                  comment=comment)
    kept = " ".join((comment or "").split())
    record_event(session, actor=user, action="adjudicate", target="triple", target_id=triple_id,
                 details={"changes": [change], "triple": row.words, "decision": decision,
                          "verdicts": verdicts, **({"comment": kept} if kept else {})})
    return row.words


def _one_curator_decides(session: Session, what: str) -> None:
    needed = team.overlap(session)
    if needed > 1:
        raise ReviewError(f"{what} is off while each suggestion needs {needed} curators' verdicts; give your "
                          "verdict on each suggestion instead")


def _named(session: Session, head: str, relation: str, tail: str) -> tuple[int, int, int]:
    ids = triple_rows.ids_named(session, head, relation, tail)
    for found, name, what in zip(ids, (head, relation, tail), ("entity", "relation", "entity")):
        if found is None:
            raise ReviewError(f"there is no {what} named {name!r}")
    return ids


def accept_corrected(session: Session, triple_id: int, user: str, *, head: str, relation: str, tail: str) -> str:
    """The curator corrects a suggestion: the suggestion as stated is rejected (as the wrong direction where the
    correction swaps it), the corrected triple accepted."""
    row, now = _pending(session, triple_id), utcnow()
    _one_curator_decides(session, "correcting a suggestion (swap, edit)")
    key = _named(session, head, relation, tail)
    if key[0] == key[2]:
        raise ReviewError("head and tail are the same entity; pick two different entities")
    if key == row.key:
        return decide(session, triple_id, user, "accepted", "accept")
    swapped = key == (row.tail_id, row.relation_id, row.head_id)
    changes = [set_with_label(session, row, "rejected", user, now, reason="wrong direction" if swapped else None)]
    corrected = triple_rows.triple_with(session, key)
    known = corrected is not None and corrected.status == "accepted"
    if corrected is None:
        corrected = triple_rows.add_fact(session, key, user, now)
        changes.append({"created_triple": corrected.id,
                        "example_id": triple_rows.add_label(session, key, True, user, now)})
    elif not known:
        changes.append(set_with_label(session, corrected, "accepted", user, now))
    record_event(session, actor=user, action="edit_accept", target="triple", target_id=corrected.id,
                 details={"changes": changes, "triple": corrected.words, "suggested": row.words})
    return corrected.words + (" (already a fact: the suggestion is rejected, nothing is added)" if known else "")


def retract(session: Session, user: str, *, head: str, relation: str, tail: str, reason: str) -> str:
    """Take back an accepted fact: kept as `retracted` (never suggested again, a "does not hold" label where
    there was none), with who, when and why in its audit event; undoable like a verdict."""
    reason = " ".join(reason.split())
    if not reason:
        raise ReviewError("say why the fact is retracted (e.g. 'wrong direction', 'imported by mistake')")
    ids = triple_rows.ids_named(session, head, relation, tail)
    row = triple_rows.triple_with(session, ids) if None not in ids else None
    if row is None or row.status != "accepted":
        state = f"it is {row.status}" if row is not None else "there is no such triple"
        raise ReviewError(f"{head} {relation} {tail} is not an accepted fact ({state})")
    change = {"triple_id": row.id, "before": row.state(), "after": "retracted"}
    if triple_rows.set_status(session, row, "retracted", user, utcnow(), comment=reason) is None:
        raise ReviewError("another curator changed this fact a moment ago; reload and try again")
    # a label saying it holds (made when it was accepted) would keep teaching it as a fact; settled too, so that
    # answers still to come do not teach a retracted fact again
    positive = triple_rows.positive_label(session, row.key)
    if positive is not None:
        change["flipped_example"], change["example_status"] = positive
        triple_rows.set_label(session, positive[0], False, "settled")
    record_event(session, actor=user, action="retract", target="triple", target_id=row.id,
                 details={"changes": [change], "triple": row.words, "reason": reason})
    return row.words


def bulk_accept(session: Session, user: str, *, min_confidence: float, relation: Optional[str] = None) -> int:
    """Accept every pending suggestion at or above `min_confidence` (one undoable step)."""
    _one_curator_decides(session, "accepting in bulk")
    now = utcnow()
    changes = [set_with_label(session, triple_rows.triple_row(session, i), "accepted", user, now)
               for i in pending_ids(session, relation, min_confidence)]
    if changes:
        record_event(session, actor=user, action="bulk_accept", target="triple", target_id=None,
                     details={"changes": changes, "min_confidence": min_confidence, "relation": relation,
                              "count": len(changes)})
    return len(changes)


def _settled_by_others(session: Session, event: triple_rows.EventRow) -> bool:
    """Whether a verdict of this event was built on since: other curators' verdicts or an adjudicator decided
    the suggestion after it (its status is no longer what this verdict left)."""
    for change in event.details.get("changes", []):
        if change.get("verdict_id") is not None:
            status = triple_rows.status_of(session, change["triple_id"])
            if status is not None and status != change.get("after", status):
                return True
    return False


def _undoable(session: Session, user: str) -> tuple[Optional[triple_rows.EventRow], list[triple_rows.EventRow]]:
    """This curator's latest event not yet undone that can be, and the later ones others have built on."""
    events = triple_rows.latest_events(session, user, REVIEW_ACTIONS + ("undo",))
    undone = {event.details.get("undoes") for event in events if event.action == "undo"}
    settled = []
    for event in events:
        if event.action == "undo" or event.id in undone:
            continue
        if not _settled_by_others(session, event):
            return event, settled
        settled.append(event)
    return None, settled


def _take_back(session: Session, change: dict) -> None:
    """One change of an event undone: its verdict, label and created triple deleted, a flipped label flipped
    back, a signed-off spot check open again, the triple as it was (where the change was a verdict, only if
    nobody decided on it since)."""
    if change.get("reopen_spot_check") is not None:
        spot_checks.reopen(session, change["reopen_spot_check"])
        return
    triple_rows.delete_rows(session, verdict=change.get("verdict_id"), example=change.get("example_id"))
    if change.get("flipped_example") is not None:
        triple_rows.set_label(session, change["flipped_example"], True, change.get("example_status", "settled"))
    if change.get("created_triple") is not None:
        triple_rows.delete_rows(session, triple=change["created_triple"])
        return
    if not triple_rows.exists(session, change["triple_id"]):
        return
    was_verdict = change.get("verdict_id") is not None
    only_if = change.get("after", change["before"]["status"]) if was_verdict else None
    if not triple_rows.restore(session, change["triple_id"], change["before"], only_if) and was_verdict:
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
        _take_back(session, change)
    what = event.details.get("triple") or f"{event.details.get('count', 0)} accepted suggestions"
    record_event(session, actor=user, action="undo", target="audit_event", target_id=event.id,
                 details={"undoes": event.id, "action": event.action, "what": what})
    note = f" (your later verdicts on {skipped} were decided on by other curators since and stay)" if settled else ""
    return f"{action_words(event.action)}: {what}{note}"
