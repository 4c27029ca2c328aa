"""A small KG's retrain, idle and with another process keeping one core busy, side by side in one run:
`python -m bench.retrain_load [--kg film] [--out bench/results/retrain_load.json]`.

The KG is one of the curator benchmark's (`bench/data/curator/`): its facts and kinds, its document, 8 labels per
relation; the retrain is the worker's own (`knowco.training_job`, the app's defaults, threads chosen for the
machine's load as the worker chooses them). A curator's 80-fact KG took 569 s and 716 s while other work shared
the two cores, 54 s idle.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch

from bench.curator import DATA, curator_database
from bench.result_files import environment
from knowco.services import Actor, TrainOptions
from knowco.training_job import train_in_foreground
from storage.database import Database

BUSY = "while True: pass"


def retrain_seconds(build: Callable[[Path, int, Actor], Database], seed: int) -> dict:
    """One retrain of the database `build` makes in a new folder: its wall time, the run's own stage times and the
    threads taken."""
    actor = Actor("bench", "admin")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["KNOWCO_MODEL_DIR"] = str(Path(tmp) / "models")
        database = build(Path(tmp), seed, actor)
        try:
            started = time.perf_counter()
            run = train_in_foreground(database, actor, TrainOptions(seed=seed))
            seconds = time.perf_counter() - started
        finally:
            database.dispose()
    threads = torch.get_num_threads()  # what the retrain set for the machine's load
    estimates = [{"share_of_steps": share, "at_s": at, "said_left_s": left, "left_s": round(seconds - at, 1),
                  "error": round((left - (seconds - at)) / max(1e-9, seconds - at), 2)}
                 for share, at, left in run.metrics.get("estimates", [])]
    return {"status": run.status, "message": run.message, "seconds": round(seconds, 1), "threads": threads,
            "train_seconds": run.metrics.get("train_seconds"),
            "structure_seconds": (run.metrics.get("structure") or {}).get("seconds"),
            "suggest_seconds": (run.metrics.get("suggestions") or {}).get("seconds"),
            # the Train page's "about N left" at 10, 25 and 50 % of the text model's steps, against the truth
            "estimates": estimates}


def estimate_errors(result: dict) -> str:
    """How far "about N left" was from the truth at 10, 25 and 50 % of the steps, e.g. "+12 % / −5 % / +3 %"."""
    return " / ".join(f"{100 * e['error']:+.0f} %" for e in result.get("estimates", [])) or "—"


def seconds_cell(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.retrain_load")
    parser.add_argument("--kg", default="film")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=Path("bench/results/retrain_load.json"))
    args = parser.parse_args()
    def build(folder: Path, seed: int, actor: Actor) -> Database:
        return curator_database(DATA / args.kg, folder, seed, actor)

    idle = retrain_seconds(build, args.seed)
    busy_process = subprocess.Popen([sys.executable, "-c", BUSY])
    try:
        time.sleep(2)
        busy = retrain_seconds(build, args.seed)
    finally:
        busy_process.kill()
    result = {"environment": environment(), "kg": args.kg, "seed": args.seed, "idle": idle, "one_core_busy": busy}
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    table = ("| machine | retrain + suggest s | threads | text model s | structural model s | suggest s | "
             "time-left estimate off by (at 10 / 25 / 50 % of the steps) |\n|---|---|---|---|---|---|---|\n" + "".join(
                 f"| {name} | {r['seconds']} | {r['threads']} | {r['train_seconds']} | {r['structure_seconds']} | "
                 f"{seconds_cell(r['suggest_seconds'])} | {estimate_errors(r)} |\n"
                 for name, r in (("idle", idle), ("one core busy", busy))))
    args.out.with_suffix(".md").write_text(
        f"# A small KG's retrain, idle and with one core busy ({args.kg}, seed {args.seed})\n\n"
        f"Command: `python -m bench.retrain_load --kg {args.kg} --seed {args.seed}`\n\n{table}", encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
