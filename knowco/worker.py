"""What a retrain worker does with a run: claim it, check it can write the checkpoint, train. Two kinds of
process call it: `python -m knowco.worker --run ID` (database from `$KNOWCO_DATABASE_URL`), which the app starts
for one run on its own host, so training never blocks the app and a crash takes down only this process (its row
is marked failed); and `python -m knowco worker`, which claims queued runs on any host (`knowco.retrain_queue`).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import traceback
from datetime import datetime, timezone
from typing import Callable, Optional

from storage.database import Database, open_database
from storage.runs import claim, finish_run, get_run, request_cancel, update_message

from knowco.errors import JobError
from knowco.model_store import writable_store
from knowco.settings import settings

#: how much lower the worker's CPU priority is than the app's (Unix niceness)
WORKER_NICENESS = 10
#: who asks a run to cancel when its worker is asked to stop (the audit log's actor)
STOPPING_WORKER = "a retrain worker asked to stop"


def log(message: str) -> None:
    print(f"{datetime.now(timezone.utc).isoformat(timespec='seconds')} {message}", flush=True)


def _never() -> bool:
    return False


def _watch(should_stop: Callable[[], bool], database: Database, run_id: int, done: threading.Event) -> None:
    """Until the run ends: once the worker is asked to stop, ask the run to cancel at its next step (the run's
    own cancel, so it ends "cancelled" and the active version stays)."""
    while not done.wait(1.0):
        if should_stop():
            with database.transaction() as session:
                request_cancel(session, run_id, STOPPING_WORKER)
            return


def work_on(database: Database, run_id: int, should_stop: Callable[[], bool] = _never,
            store_problem: Optional[Callable[[], Optional[str]]] = None) -> None:
    """Claim the run and train it (not where it was cancelled, another worker claimed it first, or this worker
    is stopping); a model store this worker cannot use fails the run with the sentence that says why."""
    from knowco.training_job import run_training  # torch and transformers load when a run is trained, not before

    if should_stop():
        log(f"run {run_id}: not started, this worker is stopping")
        return
    with database.transaction() as session:
        claimed = claim(session, run_id, os.getpid())
    if not claimed:
        log(f"run {run_id} was cancelled or taken by another worker before this one started it")
        return
    problem = (store_problem or (lambda: writable_store(database.url)))()
    if problem is not None:
        with database.transaction() as session:
            finish_run(session, run_id, "failed", problem)
        log(f"run {run_id}: {problem}")
        return
    log(f"run {run_id}: started (pid {os.getpid()})")
    done = threading.Event()
    if should_stop is not _never:  # only a queue worker can be asked to stop; the app's own one is killed
        threading.Thread(target=_watch, args=(should_stop, database, run_id, done), daemon=True).start()
    try:
        run_training(database, run_id, log)
    finally:
        done.set()
    if should_stop():
        with database.transaction() as session:
            if get_run(session, run_id).status == "cancelled":
                update_message(session, run_id, "cancelled: its retrain worker was asked to stop before it "
                                                "finished (the active version is unchanged); start a new run")
    log(f"run {run_id}: finished")


def retrain_worker(database: Database, *, name: Optional[str] = None, once: bool = False,
                   say: Callable[[str], None] = log) -> None:
    """`python -m knowco worker`: claim and train the runs queued on this PostgreSQL database until stopped
    (`once`: until none is left), at a lower CPU priority so a worker beside the app leaves its pages quick."""
    from knowco.retrain_queue import check_database, serve, start_problem, store_problem

    check_database(database)
    problem = start_problem(database)
    if problem is not None:  # it would claim runs only to fail them, while a worker with the store could train them
        raise JobError(f"this worker cannot start: {problem}")
    if hasattr(os, "nice"):
        os.nice(WORKER_NICENESS)
    say("retrain worker: waiting for queued retrains (Ctrl-C stops; a run under way is cancelled)")
    serve(database, lambda run_id, should_stop: work_on(database, run_id, should_stop,
                                                        lambda: store_problem(database)),
          name=name, wait=not once)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m knowco.worker")
    parser.add_argument("--run", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s")
    if hasattr(os, "nice"):
        os.nice(WORKER_NICENESS)  # the app's pages stay quick while a retrain runs on the same cores
    database = open_database(settings().database, migrate=False)
    try:
        work_on(database, args.run)
        return 0
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        database.dispose()


if __name__ == "__main__":
    sys.exit(main())
