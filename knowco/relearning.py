"""Learning from verdicts without a retrain: every `QueuePolicy.rerank_every` verdicts (and on *Suggest now*)
the pending queue is re-ranked from the opinions stored with each suggestion and what curators made of the
judged ones (`engine.verdict_model`), in one transaction that touches only suggestions still pending, so a
curator judging meanwhile loses nothing. The Review page says that the order changed, and why.
"""
from __future__ import annotations

from typing import Optional

from engine.queue_policy import QueuePolicy
from engine.verdict_model import Row, rerank
from storage import verdict_rows
from storage.database import Database
from storage.runs import active_run
from storage.models import utcnow

from knowco.errors import report_internal
from knowco.options import recorded_policy


def _policy(session) -> QueuePolicy:
    run = active_run(session)
    return recorded_policy(run.hyperparameters if run else None)


def _prior(confidence: float, opinions: dict) -> float:
    """The model's own confidence, before any re-rank changed the stored one."""
    return float(opinions.get("model", confidence))


def rerank_queue(database: Database, user: str, *, force: bool = False) -> Optional[str]:
    """Re-rank the pending queue from the verdicts where `rerank_every` new ones came in since the last time (or
    whenever `force`); returns the summary the Review page shows, or None where nothing was re-ranked."""
    with database.transaction() as session:
        policy = _policy(session)
        judged = verdict_rows.judged_rows(session)
        last = verdict_rows.last_rerank(session) or {}
        if not force and len(judged) - int(last.get("verdicts", 0)) < policy.rerank_every:
            return None
        pending = verdict_rows.pending_rows(session)
        rows = [Row(relation, _prior(confidence, opinions), opinions) for relation, confidence, opinions, _ in judged]
        result = rerank(rows, [ok for *_, ok in judged],
                        [Row(relation, _prior(confidence, opinions), opinions) for _, relation, confidence, opinions
                         in pending], policy)
        if result is None:
            return None
        before = {i: confidence for i, _, confidence, _ in pending}
        new = {i: p for (i, *_), p in zip(pending, result.confidence)}
        verdict_rows.set_confidences(session, new)
        down = sum(1 for i, p in new.items() if p < before[i] - 0.01)
        up = sum(1 for i, p in new.items() if p > before[i] + 0.01)
        summary = result.summary(down, up)
        verdict_rows.record_rerank(session, user, {"verdicts": result.verdicts, "accepted": result.accepted,
                                                   "method": result.method, "summary": summary,
                                                   "at": utcnow().isoformat(timespec="seconds")})
        return summary


def after_verdict(database: Database, user: str) -> Optional[str]:
    """The re-rank a verdict may trigger, after the verdict's own transaction: a failure here is logged with its
    id and never undoes or hides the verdict, which is already stored."""
    try:
        return rerank_queue(database, user)
    except Exception as error:  # noqa: BLE001 - the verdict stands; the error is logged under its id
        report_internal(error, "re-rank the queue after a verdict")
        return None


def last_rerank(database: Database) -> Optional[dict]:
    """What the latest re-rank said (verdicts, method, summary, when)."""
    with database.sessions() as session:
        return verdict_rows.last_rerank(session)
