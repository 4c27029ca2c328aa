"""Setting the stage below the service layer: model-version rows and a review queue as a finished run would
leave them, without training a model."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select

from storage.database import Database
from storage.models import Triple
from storage.review import replace_suggestions
from storage.runs import Run, claim, create_run, finish_run, get_run, list_runs


def finished_runs(database: Database, all_metrics: list[dict], user: str = "tester") -> list[Run]:
    """One succeeded run per metrics dict (newest first, as `list_runs` returns them)."""
    with database.transaction() as session:
        for metrics in all_metrics:
            run = create_run(session, backbone="splade-tiny", hyperparameters={}, seed=1, user=user)
            claim(session, run.id, 1)
            finish_run(session, run.id, "succeeded", "done", metrics=metrics, checkpoint_path=f"/ckpt/{run.name}")
        return list_runs(session)


def queued(database: Database, scored: list[tuple[str, str, str, float]], user: str = "model",
           evidence: Optional[dict] = None, run_id: Optional[int] = None,
           opinions: Optional[dict] = None) -> dict[str, int]:
    """Make `scored` the pending queue, as suggested by `run_id` (default: a new finished run)."""
    run_id = run_id if run_id is not None else finished_runs(database, [{"accuracy": 0.5}])[0].id
    with database.transaction() as session:
        return replace_suggestions(session, run_id, scored, user, evidence=evidence, opinions=opinions)


def run_row(database: Database, run_id: int) -> Optional[Run]:
    with database.sessions() as session:
        return get_run(session, run_id)


def triple_status(database: Database, head: str, relation: str, tail: str) -> Optional[str]:
    """The status of the triple named so, or None where there is none."""
    with database.sessions() as session:
        return session.scalar(select(Triple.status).where(Triple.head.has(name=head), Triple.relation.has(name=relation),
                                                          Triple.tail.has(name=tail)))
