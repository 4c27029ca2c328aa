"""Use cases of the Review page: the queue, the evidence behind a suggestion, and the verdicts. A verdict is one
transaction (a compare-and-set on the suggestion's status, so of two curators exactly one wins) and one audit
event, which undo reads back, under the rules of `knowco.verdicts`; every few verdicts the pending queue is
then re-ranked from them (`knowco.relearning`).
"""
from __future__ import annotations

from typing import Iterable, Optional

from storage import corpus, review
from storage.database import Database
from storage.review import Evidence, Order, Suggestion, VerdictBin

from knowco import verdicts
from knowco.access import Actor, require
from knowco.relearning import after_verdict


def queue(database: Database, *, relation: Optional[str] = None, min_confidence: float = 0.0,
          max_confidence: float = 1.0, order: Order = "confidence", limit: int = 50,
          exclude: Iterable[int] = (), curator: Optional[str] = None,
          from_text: Optional[bool] = None, after: Optional[tuple[float, int]] = None) -> list[Suggestion]:
    """The pending suggestions; for a `curator`, those they have not judged yet (when several decide each);
    with `from_text`, only those read in a sentence (True) or only the others (False); `after` a suggestion's
    (confidence, id), those that follow it in the confidence order."""
    with database.sessions() as session:
        return review.suggestions(session, relation=relation, min_confidence=min_confidence,
                                  max_confidence=max_confidence, order=order, limit=limit, exclude=exclude,
                                  curator=curator, from_text=from_text, after=after)


def queue_size(database: Database, *, relation: Optional[str] = None, min_confidence: float = 0.0,
               max_confidence: float = 1.0, curator: Optional[str] = None, from_text: Optional[bool] = None) -> int:
    with database.sessions() as session:
        return review.count_suggestions(session, relation=relation, min_confidence=min_confidence,
                                        max_confidence=max_confidence, curator=curator, from_text=from_text)


def verdicts_by_confidence(database: Database) -> list[VerdictBin]:
    """How the curators judged past suggestions, by the confidence they were shown with."""
    with database.sessions() as session:
        return review.verdicts_by_confidence(session)


def evidence(database: Database, triple_id: int) -> Evidence:
    with database.sessions() as session:
        return review.evidence(session, triple_id)


def sentences_mentioning(database: Database, first: list[str], second: list[str]) -> list[str]:
    with database.sessions() as session:
        return corpus.sentences_mentioning(session, first, second)


def accept(database: Database, actor: Actor, triple_id: int, comment: str = "") -> str:
    """Accept a suggestion as a fact (and a positive label); returns the triple in words."""
    require(actor, "review")
    with database.transaction() as session:
        said = verdicts.decide(session, triple_id, actor.name, "accepted", "accept", comment=comment)
    after_verdict(database, actor.name)
    return said


def reject(database: Database, actor: Actor, triple_id: int, reason: str = "false", comment: str = "") -> str:
    """Reject a suggestion with its reason (storage.models.REJECT_REASONS) and an optional comment."""
    require(actor, "review")
    with database.transaction() as session:
        said = verdicts.decide(session, triple_id, actor.name, "rejected", "reject", reason=reason,
                               comment=comment)
    after_verdict(database, actor.name)
    return said


def accept_corrected(database: Database, actor: Actor, triple_id: int, *, head: str, relation: str,
                     tail: str) -> str:
    """Reject the suggestion as stated and accept the corrected triple, in one step."""
    require(actor, "review")
    with database.transaction() as session:
        said = verdicts.accept_corrected(session, triple_id, actor.name, head=head, relation=relation, tail=tail)
    after_verdict(database, actor.name)
    return said


def retract(database: Database, actor: Actor, head: str, relation: str, tail: str, reason: str) -> str:
    """Take back an accepted fact (kept as retracted, with the reason; undoable); returns it in words."""
    require(actor, "review")
    with database.transaction() as session:
        return verdicts.retract(session, actor.name, head=head, relation=relation, tail=tail, reason=reason)


def bulk_accept(database: Database, actor: Actor, *, min_confidence: float, relation: Optional[str] = None) -> int:
    require(actor, "review")
    with database.transaction() as session:
        count = verdicts.bulk_accept(session, actor.name, min_confidence=min_confidence, relation=relation)
    after_verdict(database, actor.name)
    return count


def undo_last(database: Database, actor: Actor) -> Optional[str]:
    """Take back this curator's latest verdict; returns what was undone, or None."""
    require(actor, "review")
    with database.transaction() as session:
        return verdicts.undo_last(session, actor.name)
