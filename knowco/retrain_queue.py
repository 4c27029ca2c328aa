"""Retrains claimed by worker processes on any host that reaches the PostgreSQL database
(`KNOWCO_RETRAIN_WORKERS=queue`, `python -m knowco worker`), through procrastinate's task queue rather than a
loop of our own: a GPU machine trains while the app stays on a small server.

The run's row stays what the Train page, the API and lost-worker detection read (status, progress, heartbeat,
cancel request); the queue only decides which worker takes a run. A run is claimed in one conditional update,
so two workers offered the same run cannot both train it; checkpoints go to the model store
(`KNOWCO_MODEL_DIR`), a folder the workers and the app both reach.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Callable

import procrastinate
from procrastinate.jobs import Status
from procrastinate.schema import SchemaManager
from sqlalchemy.engine import make_url

from storage import task_queue
from storage.database import Database

from knowco.errors import JobError
from knowco.settings import RETRAIN_WORKERS_ENV

QUEUE = "knowco-retrain"
TASK = "knowco.retrain"
#: how often a worker says it is alive, and after how long without a word its jobs count as stalled
HEARTBEAT_S = 10.0
STALLED_S = 60.0
#: how long a worker asked to stop waits for its run before asking the run to cancel at its next step
SHUTDOWN_GRACE_S = 5.0

log = logging.getLogger(__name__)


def _conninfo(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise JobError(f"retrain workers on other hosts ({RETRAIN_WORKERS_ENV}=queue) need a PostgreSQL database; "
                       f"this one is {parsed.get_backend_name()}")
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def check_database(database: Database) -> None:
    """A clear refusal before any run is queued where the database cannot hold the queue."""
    _conninfo(database.url)


def _queue(database: Database, work: Callable[[int, Callable[[], bool]], None] | None = None) -> procrastinate.App:
    """The queue on this database; `work(run_id, should_stop)` is what a worker does with a claimed run."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=_conninfo(database.url)))

    @app.task(name=TASK, queue=QUEUE, pass_context=True)
    def retrain(context: procrastinate.JobContext, run_id: int) -> None:
        if work is None:
            raise JobError("this process only queues retrains; `python -m knowco worker` trains them")
        work(run_id, context.should_abort)

    return app


def install(database: Database) -> None:
    """The queue's tables, created the first time a retrain is queued or a worker starts on this database."""
    with database.transaction() as session:
        if task_queue.install_once(session, SchemaManager.get_schema()):
            log.info("installed the retrain queue's tables")


def enqueue(database: Database, run_id: int) -> None:
    """Offer the run to the workers; it stays queued (the Train page says so) until one claims it."""
    install(database)
    app = _queue(database)
    with app.open():
        app.tasks[TASK].defer(run_id=run_id)


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


def serve(database: Database, work: Callable[[int, Callable[[], bool]], None], name: str | None = None,
          wait: bool = True) -> None:
    """Claim and train queued runs until stopped (`wait=False`: until the queue is empty). Jobs of a worker
    that died (killed, host lost) are closed first; its run's row was already marked lost by the heartbeat."""
    install(database)
    app = _queue(database, work)
    name = name or f"{socket.gethostname()}-{os.getpid()}"

    async def main() -> None:
        async with app.open_async():
            for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=STALLED_S):
                await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
            await app.run_worker_async(queues=[QUEUE], concurrency=1, name=name, wait=wait,
                                       update_heartbeat_interval=HEARTBEAT_S, stalled_worker_timeout=STALLED_S,
                                       shutdown_graceful_timeout=SHUTDOWN_GRACE_S)

    asyncio.run(main())
