"""Retrains claimed by worker processes on any host that reaches the PostgreSQL database
(`KNOWCO_RETRAIN_WORKERS=queue`, `python -m knowco worker`), through procrastinate's task queue rather than a
loop of our own: a GPU machine trains while the app stays on a small server.

The run's row stays what the Train page, the API and lost-worker detection read (status, progress, heartbeat,
cancel request); the queue only decides which worker takes a run. A run is claimed in one conditional update,
so a run offered twice is still trained once. Checkpoints go to the model store (`KNOWCO_MODEL_DIR`), a folder
the workers and the app both reach; the app leaves the database's mark in it, so a worker can tell the shared
store from an empty folder where the share should have been mounted.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from typing import Callable, Optional

import procrastinate
from procrastinate.exceptions import JobAborted
from procrastinate.schema import SchemaManager
from sqlalchemy.engine import make_url

from storage import project_settings, task_queue
from storage.database import Database

from knowco.errors import JobError
from knowco.model_store import mark_store, shared_store_problem
from knowco.settings import RETRAIN_WORKERS_ENV

QUEUE = "knowco-retrain"
TASK = "knowco.retrain"
#: the project setting that names this database in its model store
STORE_KEY = "model_store_id"
#: how often a worker says it is alive, and after how long without a word it counts as gone
HEARTBEAT_S = 10.0
STALLED_S = 60.0
#: how long a worker asked to stop waits for its run before asking the run to cancel at its next step
SHUTDOWN_GRACE_S = 5.0

log = logging.getLogger(__name__)

Work = Callable[[int, Callable[[], bool]], None]


def _conninfo(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise JobError(f"retrain workers on other hosts ({RETRAIN_WORKERS_ENV}=queue) need a PostgreSQL database; "
                       f"this one is {parsed.get_backend_name()}")
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def check_database(database: Database) -> None:
    """A clear refusal before any run is queued where the database cannot hold the queue."""
    _conninfo(database.url)


def _app(database: Database, **pool) -> procrastinate.App:
    return procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=_conninfo(database.url), **pool))


def install(database: Database) -> None:
    """The queue's tables, created the first time a retrain is queued or a worker starts on this database."""
    with database.transaction() as session:
        if task_queue.install_once(session, SchemaManager.get_schema()):
            log.info("installed the retrain queue's tables")


def _identity(database: Database, user: str) -> str:
    """The name this database leaves in its model store (made the first time a run is offered)."""
    with database.transaction() as session:
        identity = project_settings.value_of(session, STORE_KEY)
        if identity is None:
            identity = uuid.uuid4().hex
            project_settings.set_value(session, STORE_KEY, identity, user, "mark_model_store",
                                       {"what": "this database's mark left in the model store the retrain workers "
                                                "share, by which a worker knows it is the app's"})
    return identity


def enqueue(database: Database, run_id: int, user: str) -> None:
    """Offer the run to the workers (the database's mark left in the app's model store first); it stays
    queued, and the Train page says so, until one claims it."""
    install(database)
    mark_store(database.url, _identity(database, user))
    app = _app(database, min_size=1, max_size=1)
    with app.open():
        app.configure_task(TASK, queue=QUEUE).defer(run_id=run_id)


def _store_identity(database: Database) -> str:
    """The mark the app leaves in its model store ("" before it queued its first run)."""
    with database.sessions() as session:
        return project_settings.value_of(session, STORE_KEY) or ""


def store_problem(database: Database) -> Optional[str]:
    """Why this host's model store is not the app's (unmounted, another database's, not writable), or None."""
    return shared_store_problem(database.url, _store_identity(database))


def start_problem(database: Database) -> Optional[str]:
    """Why a worker should not start here: its store is not the app's. Before the app queued its first run it
    has marked no store to compare with, so the worker starts (each run it claims is checked)."""
    identity = _store_identity(database)
    return shared_store_problem(database.url, identity) if identity else None


def offered(database: Database, run_id: int) -> bool:
    """Whether the run still waits in the queue or is held by a live worker: a run whose job is gone (its worker
    died before claiming it) is then lost like any other."""
    with database.sessions() as session:
        return task_queue.offered(session, TASK, run_id, STALLED_S)


def live_workers(database: Database) -> int:
    with database.sessions() as session:
        return task_queue.live_workers(session, STALLED_S)


def waiting_words(database: Database) -> str:
    """What a queued run waits for, in a curator's words."""
    alive = live_workers(database)
    if not alive:
        return ("waiting for a retrain worker: none is running; start `python -m knowco worker` on a host that "
                "reaches this database")
    return f"waiting for a retrain worker ({alive} running; each takes one run at a time)"


def serve(database: Database, work: Work, name: Optional[str] = None, wait: bool = True) -> None:
    """Claim and train queued runs until stopped (`wait=False`: until the queue is empty). Jobs held by a
    worker that died (killed, host lost) are offered again first: a run it never claimed is then trained, and
    one it had claimed was marked lost by its heartbeat, so the claim refuses it."""
    install(database)
    app = _app(database)

    @app.task(name=TASK, queue=QUEUE, pass_context=True)
    def retrain(context: procrastinate.JobContext, run_id: int) -> None:
        work(run_id, context.should_abort)
        if context.should_abort():
            raise JobAborted(f"the worker was asked to stop while it held run {run_id}")

    async def main() -> None:
        async with app.open_async():
            for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=STALLED_S):
                await app.job_manager.retry_job(job)
            await app.run_worker_async(queues=[QUEUE], concurrency=1,
                                       name=name or f"{socket.gethostname()}-{os.getpid()}", wait=wait,
                                       update_heartbeat_interval=HEARTBEAT_S, stalled_worker_timeout=STALLED_S,
                                       shutdown_graceful_timeout=SHUTDOWN_GRACE_S)

    asyncio.run(main())
