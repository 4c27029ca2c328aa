"""Training runs (`model_version` rows) as the UI and the worker see them: one row is the job and its model.

The database is the only channel between the app and the worker process: the app writes a queued row and
may set `cancel_requested`; the worker writes status, progress, the loss curve and a heartbeat. Either side
can die without leaving the other waiting forever; a run offered to the workers on other hosts waits for one
until it is cancelled (`knowco.jobs`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Optional

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.audit import record_event

from storage.models import ModelVersion, utcnow

FINISHED = ("succeeded", "failed", "cancelled")


@dataclass
class Run:
    id: int
    name: str
    backbone: str
    status: str
    progress: float
    message: str
    metrics: dict[str, Any]
    hyperparameters: dict[str, Any]
    seed: int
    n_examples: int
    is_active: bool
    cancel_requested: bool
    checkpoint_path: Optional[str]
    created_by: str
    created_at: datetime
    started_at: Optional[datetime]
    finished_at: Optional[datetime]
    heartbeat_at: Optional[datetime]
    curve: list[list[float]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def seems_lost(self, timeout: timedelta, now: Optional[datetime] = None) -> bool:
        """Running, but the worker stopped reporting for `timeout` (killed, machine restarted); it writes at
        least twice a second while training or scoring."""
        if self.status not in ("queued", "running"):
            return False
        last = self.heartbeat_at or self.created_at
        if last.tzinfo is None:
            last = last.replace(tzinfo=(now or utcnow()).tzinfo)
        return (now or utcnow()) - last > timeout


def _run(row: ModelVersion) -> Run:
    metrics = dict(row.metrics or {})
    curve = metrics.pop("curve", [])
    return Run(
        id=row.id, name=row.name, backbone=row.backbone, status=row.status, progress=row.progress,
        message=row.message, metrics=metrics, hyperparameters=dict(row.hyperparameters or {}), seed=row.seed,
        n_examples=row.n_examples, is_active=row.is_active, cancel_requested=row.cancel_requested,
        checkpoint_path=row.checkpoint_path, created_by=row.created_by, created_at=row.created_at,
        started_at=row.started_at, finished_at=row.finished_at, heartbeat_at=row.heartbeat_at, curve=curve,
    )


def create_run(session: Session, *, backbone: str, hyperparameters: dict, seed: int, user: str) -> Run:
    """A queued run named `v<N>`; the name is what curators see on suggestions and in exports."""
    number = (session.scalar(select(func.max(ModelVersion.id))) or 0) + 1
    row = ModelVersion(name=f"v{number}", backbone=backbone, hyperparameters=hyperparameters, seed=seed,
                       status="queued", progress=0.0, message="waiting for the worker", created_by=user,
                       created_at=utcnow(), heartbeat_at=utcnow(), metrics={})
    session.add(row)
    session.flush()
    record_event(session, actor=user, action="train", target="model_version", target_id=row.id,
                 details={"name": row.name, "backbone": backbone, "hyperparameters": hyperparameters})
    return _run(row)


def get_run(session: Session, run_id: int) -> Optional[Run]:
    row = session.get(ModelVersion, run_id)
    return _run(row) if row else None


def list_runs(session: Session) -> list[Run]:
    return [_run(row) for row in session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc()))]


def active_run(session: Session) -> Optional[Run]:
    row = session.scalar(select(ModelVersion).where(ModelVersion.is_active))
    return _run(row) if row else None


def unfinished_run(session: Session) -> Optional[Run]:
    """The queued or running job, if any: one at a time keeps a 2-core machine usable."""
    row = session.scalar(select(ModelVersion).where(ModelVersion.status.in_(("queued", "running")))
                         .order_by(ModelVersion.id.desc()))
    return _run(row) if row else None


def _set(session: Session, run_id: int, **values) -> None:
    session.execute(update(ModelVersion).where(ModelVersion.id == run_id).values(**values))


def claim(session: Session, run_id: int, pid: int) -> bool:
    """The worker takes a queued run; False when it was cancelled (or taken) before the worker got to it."""
    taken = session.execute(update(ModelVersion).where(ModelVersion.id == run_id, ModelVersion.status == "queued")
                            .values(status="running", worker_pid=pid, started_at=utcnow(), heartbeat_at=utcnow(),
                                    message="reading the labels"))
    return taken.rowcount == 1


def set_examples(session: Session, run_id: int, n_examples: int) -> None:
    _set(session, run_id, n_examples=n_examples, heartbeat_at=utcnow())


def report_progress(session: Session, run_id: int, progress: float, message: str,
                    curve: Optional[list[list[float]]] = None) -> bool:
    """Write progress and a heartbeat; returns whether the curator asked to cancel."""
    row = session.get(ModelVersion, run_id)
    row.progress, row.message, row.heartbeat_at = progress, message, utcnow()
    if curve is not None:
        row.metrics = {**(row.metrics or {}), "curve": curve}
    return bool(row.cancel_requested)



def request_cancel(session: Session, run_id: int, user: str) -> bool:
    """Ask the worker to stop; False when the run had already finished."""
    row = session.get(ModelVersion, run_id)
    if row is None or row.status in FINISHED:
        return False
    row.cancel_requested = True
    row.message = f"cancel requested by {user}"
    if row.status == "queued":
        row.status, row.finished_at, row.message = "cancelled", utcnow(), f"cancelled by {user} before it started"
    record_event(session, actor=user, action="cancel", target="model_version", target_id=run_id,
                 details={"name": row.name})
    return True


def mark_lost(session: Session, run_id: int) -> None:
    """A run whose worker died: record it as failed so a new one can start. A run becomes active only in the
    transaction that ends it, so a lost one never is."""
    row = session.get(ModelVersion, run_id)
    if row is not None and row.status in ("queued", "running"):
        row.message = ("no worker started it (none was running, or the one that took it stopped first); start a "
                       "new run" if row.status == "queued" else
                       "the worker process stopped without finishing (killed or crashed); start a new run")
        row.status, row.finished_at = "failed", utcnow()


def finish_run(session: Session, run_id: int, status: str, message: str, *, metrics: Optional[dict] = None,
               checkpoint_path: Optional[str] = None) -> None:
    row = session.get(ModelVersion, run_id)
    merged = {**(row.metrics or {}), **(metrics or {})}
    row.status, row.message, row.metrics, row.finished_at = status, message, merged, utcnow()
    row.heartbeat_at = utcnow()
    if status == "succeeded":
        row.progress = 1.0
    if checkpoint_path is not None:
        row.checkpoint_path = checkpoint_path


def record_checkpoint(session: Session, run_id: int, checkpoint_path: str, metrics: dict) -> None:
    row = session.get(ModelVersion, run_id)
    row.checkpoint_path, row.metrics, row.heartbeat_at = checkpoint_path, {**(row.metrics or {}), **metrics}, utcnow()


def update_message(session: Session, run_id: int, message: str) -> None:
    _set(session, run_id, message=message, heartbeat_at=utcnow())


def activate(session: Session, run_id: int, user: str) -> bool:
    """Make this version the one that scores and suggests (exactly one is active at a time); False when it has
    no checkpoint or did not succeed (a running one may be activated by its own worker as it finishes)."""
    row = session.get(ModelVersion, run_id)
    if row is None or row.status not in ("running", "succeeded") or not row.checkpoint_path:
        return False
    session.execute(update(ModelVersion).where(ModelVersion.is_active).values(is_active=False))
    row.is_active = True
    record_event(session, actor=user, action="activate", target="model_version", target_id=run_id,
                 details={"name": row.name})
    return True
