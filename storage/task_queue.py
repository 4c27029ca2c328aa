"""The PostgreSQL task queue's tables (procrastinate's, beside KnowCo's): whether they exist, installing them
once, how many retrain workers are alive and whether a run is still offered to them. Which runs go through the
queue and what a worker does with one are the service layer's (`knowco/retrain_queue.py`)."""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

#: one number for the advisory lock that keeps two processes from installing the queue's tables at once
INSTALL_LOCK = 7_240_526


def _installed(session: Session) -> bool:
    return (session.get_bind().dialect.name == "postgresql"
            and bool(session.execute(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).scalar()))


def install_once(session: Session, schema: str) -> bool:
    """Create the queue's tables from `schema` unless they exist (under a transaction-scoped advisory lock, so
    an app and a worker starting together install them once); True when this call installed them."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": INSTALL_LOCK})
    if _installed(session):
        return False
    # the library's own DDL, run as one script by the driver (no bind parameters are read in it)
    session.connection().exec_driver_sql(schema.replace("%", "%%"))
    return True


def live_workers(session: Session, seconds: float) -> int:
    """Workers that wrote a heartbeat within `seconds` (0 where the queue's tables are not installed)."""
    if not _installed(session):
        return 0
    return int(session.execute(
        text("SELECT count(*) FROM procrastinate_workers "
             "WHERE last_heartbeat > now() - make_interval(secs => :seconds)"), {"seconds": seconds}).scalar())


def offered(session: Session, task: str, run_id: int, seconds: float) -> bool:
    """Whether a job of `task` for the run waits in the queue, or is held by a worker alive within `seconds`
    (False on SQLite, or where the queue's tables are not installed)."""
    if not _installed(session):
        return False
    return bool(session.execute(text(
        "SELECT EXISTS (SELECT 1 FROM procrastinate_jobs WHERE task_name = :task "
        "AND (args->>'run_id')::bigint = :run_id AND (status = 'todo' OR (status = 'doing' AND worker_id IN "
        "(SELECT id FROM procrastinate_workers WHERE last_heartbeat > now() - make_interval(secs => :seconds)))))"),
        {"task": task, "run_id": run_id, "seconds": seconds}).scalar())
