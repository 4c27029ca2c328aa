"""Use cases of the Train page: start, watch and cancel retrain jobs, and choose the active model. The job is a
separate worker process, and the database row is the only thing the two share.
"""
from __future__ import annotations

import os
import subprocess
import threading
import sys
from pathlib import Path
from typing import Optional

from sqlalchemy.orm import Session

from storage import runs
from storage.database import Database
from storage.runs import Run

from knowco.access import Actor, require
from knowco.errors import JobError, report_internal
from knowco.model_store import model_dir
from knowco.options import TrainOptions
from knowco.settings import DATABASE_ENV, settings

ROOT = Path(__file__).resolve().parent.parent


def spawn_worker(database: Database, run: Run) -> None:
    """Start `python -m knowco.worker` for the run, detached from the app (its own session), logging to a file.
    The database URL travels in the environment, not the command line, so a password never shows in `ps`.
    """
    folder = model_dir(database.url)
    folder.mkdir(parents=True, exist_ok=True)
    log = open(folder / f"{run.name}.log", "ab")
    worker = subprocess.Popen([sys.executable, "-m", "knowco.worker", "--run", str(run.id)],
                              cwd=ROOT, env={**os.environ, DATABASE_ENV: database.url}, stdout=log,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    # reaped when it ends, so a finished worker does not linger as a zombie until the app exits
    threading.Thread(target=worker.wait, name=f"reap {run.name}", daemon=True).start()


def _waits_for_a_worker(database: Database, run: Run) -> bool:
    """Queued for the workers on other hosts (its job waits in the queue or a live worker holds it): it may
    wait for one as long as it takes, and the page says so. Read from the queue, not this process's settings,
    so the app, the API and the command line agree."""
    if run.status != "queued" or database.is_sqlite:
        return False
    from knowco import retrain_queue

    return retrain_queue.offered(database, run.id)


def _current(database: Database, session: Session) -> Optional[Run]:
    run = runs.unfinished_run(session)
    if (run is not None and run.seems_lost(settings().worker_timeout)
            and not _waits_for_a_worker(database, run)):
        runs.mark_lost(session, run.id)
        return None
    return run


def current_job(database: Database) -> Optional[Run]:
    """The queued or running job; one whose worker went silent is marked failed (never active) and not returned."""
    with database.transaction() as session:
        return _current(database, session)


def queue_run(database: Database, actor: Actor, options: TrainOptions) -> Run:
    """A queued run row, in the same transaction that checks no other run is under way."""
    require(actor, "train")
    options.check()
    with database.transaction() as session:
        running = _current(database, session)
        if running is not None:
            raise JobError(f"{running.name} is still {running.status}; wait for it or cancel it first")
        return runs.create_run(session, backbone=options.backbone, hyperparameters=options.as_dict(),
                               seed=options.seed, user=actor.name)


def list_runs(database: Database) -> list[Run]:
    with database.sessions() as session:
        return runs.list_runs(session)


def active_run(database: Database) -> Optional[Run]:
    with database.sessions() as session:
        return runs.active_run(session)


def get_run(database: Database, run_id: int) -> Optional[Run]:
    with database.sessions() as session:
        return runs.get_run(session, run_id)


def start_training(database: Database, actor: Actor, options: TrainOptions) -> Run:
    """Queue a retrain and start its worker, or (`KNOWCO_RETRAIN_WORKERS=queue`) offer it to the workers on
    other hosts; one job at a time keeps a 2-core machine usable."""
    if settings().retrain_workers != "queue":
        run = queue_run(database, actor, options)
        spawn_worker(database, run)
        return run
    from knowco import retrain_queue

    retrain_queue.check_database(database)
    run = queue_run(database, actor, options)
    with database.transaction() as session:  # before it is offered: a worker may claim it at once
        runs.update_message(session, run.id, retrain_queue.waiting_words(database))
    try:
        retrain_queue.enqueue(database, run.id, actor.name)
    except Exception as error:
        sentence = f"could not offer {run.name} to the retrain workers: {report_internal(error, 'queue a retrain')}"
        with database.transaction() as session:
            runs.finish_run(session, run.id, "failed", sentence)
        raise JobError(sentence) from error
    return get_run(database, run.id)


def job_words(database: Database, job: Run) -> str:
    """What the Train page says of an unfinished run: its own message, or, queued for the workers on other
    hosts, whether any is running to take it."""
    if not _waits_for_a_worker(database, job):
        return job.message
    from knowco import retrain_queue

    return retrain_queue.waiting_words(database)


def cancel(database: Database, actor: Actor, run_id: int) -> bool:
    """Ask the worker to stop at its next step; False when the run had already finished."""
    require(actor, "train")
    with database.transaction() as session:
        return runs.request_cancel(session, run_id, actor.name)


def activate(database: Database, actor: Actor, run_id: int) -> None:
    """Make a successfully trained version the one that scores and suggests."""
    require(actor, "manage_models")
    with database.transaction() as session:
        if not runs.activate(session, run_id, actor.name):
            raise JobError("only a successfully trained model version can be made active")
