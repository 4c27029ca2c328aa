"""The background worker: `python -m knowco.worker --run ID` (database from `$KNOWCO_DATABASE_URL`). One process per run, so training
never blocks the app and a crash takes down only this process (its row is marked failed).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from datetime import datetime, timezone

from storage.database import open_database
from storage.runs import claim

from knowco.settings import settings
from knowco.training_job import run_training

#: how much lower the worker's CPU priority is than the app's (Unix niceness)
WORKER_NICENESS = 10


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m knowco.worker")
    parser.add_argument("--run", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s")
    if hasattr(os, "nice"):
        os.nice(WORKER_NICENESS)  # the app's pages stay quick while a retrain runs on the same cores
    database = open_database(settings().database, migrate=False)

    def log(message: str) -> None:
        print(f"{datetime.now(timezone.utc).isoformat(timespec='seconds')} {message}", flush=True)

    try:
        with database.transaction() as session:
            claimed = claim(session, args.run, os.getpid())
        if not claimed:
            log(f"run {args.run} was cancelled or taken before this worker started")
            return 0
        log(f"run {args.run}: started (pid {os.getpid()})")
        run_training(database, args.run, log)
        log(f"run {args.run}: finished")
        return 0
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        database.dispose()


if __name__ == "__main__":
    sys.exit(main())
