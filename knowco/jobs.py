"""Starting, watching and cancelling retrain jobs from the app: the job is a separate worker process, and the
database row is the only thing the two share.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

from storage.database import Database
from storage.runs import Run, create_run, mark_lost, request_cancel, unfinished_run

from knowco.model_store import model_dir
from knowco.options import TrainOptions
from knowco.settings import DATABASE_ENV

ROOT = Path(__file__).resolve().parent.parent


class JobError(ValueError):
    """A job that cannot be started: one sentence saying why."""


def spawn_worker(database: Database, run: Run) -> None:
    """Start `python -m knowco.worker` for the run, detached from the app (its own session), logging to a file.
    The database URL travels in the environment, not the command line, so a password never shows in `ps`.
    """
    folder = model_dir(database.url)
    folder.mkdir(parents=True, exist_ok=True)
    log = open(folder / f"{run.name}.log", "ab")
    subprocess.Popen([sys.executable, "-m", "knowco.worker", "--run", str(run.id)],
                     cwd=ROOT, env={**os.environ, DATABASE_ENV: database.url}, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                     start_new_session=True)
    log.close()


def current_job(database: Database) -> Optional[Run]:
    """The queued or running job; one whose worker went silent is marked failed and not returned."""
    run = unfinished_run(database)
    if run is not None and run.seems_lost():
        mark_lost(database, run.id)
        return None
    return run


def start_training(database: Database, options: TrainOptions, user: str) -> Run:
    try:
        options.check()
    except ValueError as exc:
        raise JobError(str(exc)) from exc
    running = current_job(database)
    if running is not None:
        raise JobError(f"{running.name} is still {running.status}; wait for it or cancel it first")
    run = create_run(database, backbone=options.backbone, hyperparameters=options.as_dict(), seed=options.seed,
                     user=user)
    spawn_worker(database, run)
    return run


def cancel(database: Database, run_id: int, user: str) -> bool:
    return request_cancel(database, run_id, user)

