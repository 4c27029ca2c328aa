"""Hyperparameter sweep for relation extraction, selected on dev only (test is recorded, never used to choose).

    python -m bench.re_sweep --data ../shared/data/semeval --k 8 --seeds 13,42 --grid default
    python -m bench.re_sweep --data ../shared/data/semeval --k 8 --seeds 13,21,42 --grid app

The baselines stop early on a K-shot dev split and are chosen on it. The app's retrain has no dev split (it
trains a fixed number of epochs), so its settings are chosen on the data's own validation file (`val.txt`), each
head of one model trained on all K-shot labels (no cross-validation) scored there.

Appends one JSON line per (method, setting, seed) to bench/results/re_sweep_<backbone>.jsonl and skips
settings already there, so it can be stopped and resumed. `--summary` prints mean dev and test per setting.
"""
from __future__ import annotations

import argparse
import itertools
import json
import time
from collections import defaultdict
from pathlib import Path

from dataclasses import replace

from bench.app_method import predict_app, train_app
from bench.environment import RESULTS, use_configured_threads
from bench.re_data import examples, k_shot, load_re_dir
from bench.runner import re_scores
from engine import relation_extraction as re_task
from engine.config import TrainConfig
from engine.heads import HEADS
from knowco.options import TrainOptions

GRIDS = {
    "default": {
        "knowco": {"stage2_lr": [1e-4, 3e-4, 1e-3], "entity_loss_weight": [0.0, 0.1, 0.5]},
        "finetune": {"stage2_lr": [1e-4, 3e-4, 1e-3]},
    },
    "app": {
        "app": {"stage2_lr": [3e-4, 1e-3], "entity_loss": [True, False]},
    },
}


def settings(grid: dict) -> list[dict]:
    keys = sorted(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def validation(directory: Path) -> list:
    path = directory / "val.txt"
    if not path.is_file():
        raise SystemExit(f"{path}: the app's settings are chosen on a validation file, and there is none")
    return examples(path)


def summary(done: list[dict]) -> None:
    """Each method and setting, best mean dev F1 first."""
    table = defaultdict(list)
    for row in done:
        table[(row["method"], json.dumps(row["setting"], sort_keys=True))].append(row)
    for (method, setting), rows in sorted(table.items(), key=lambda kv: -sum(r["dev_f1"] for r in kv[1]) / len(kv[1])):
        dev = sum(r["dev_f1"] for r in rows) / len(rows)
        test = sum(r["test"]["micro_f1"] for r in rows) / len(rows)
        print(f"{method:9s} {setting:60s} seeds={len(rows)} dev={dev:.3f} test={test:.3f}")


def run_app(data, setting: dict, seed: int, k: int, backbone: str, train, validation) -> dict:
    """The app's retrain with `setting` on top of its defaults; every head scored on validation and test."""
    options = replace(TrainOptions(backbone=backbone, seed=seed, cv_folds=0, held_out_share=0.0), **setting)
    started = time.perf_counter()
    model = train_app(data, train, options).model
    seconds = time.perf_counter() - started
    heads = {}
    for head in HEADS:
        model.head = head
        heads[head] = {name: re_scores(data, [x.relation for x in split], predict_app(model, data, split))[0]
                       for name, split in (("dev", validation), ("test", data.test))}
    best = max(HEADS, key=lambda h: heads[h]["dev"]["micro_f1"])
    return {"method": "app", "setting": setting, "seed": seed, "k": k, "dev_f1": heads[best]["dev"]["micro_f1"],
            "best": [best], "test": heads[best]["test"], "heads": heads, "train_seconds": seconds}


def run_one(data, method: str, setting: dict, seed: int, k: int, backbone: str, train, dev) -> dict:
    extra = dict(setting)
    if extra.get("entity_loss_weight") == 0.0:
        extra["entity_loss"] = False
    config = TrainConfig(backbone=backbone, seed=seed, **extra)
    model = re_task.build(method, data.relations, config, no_relation=data.has_no_relation)
    started = time.perf_counter()
    result = re_task.fit(model, train, dev, config)
    seconds = time.perf_counter() - started
    metrics, _ = re_task.evaluate(model, data.test)
    return {"method": method, "setting": setting, "seed": seed, "k": k, "dev_f1": result.best_dev_score,
            "best": [result.best_stage, result.best_epoch], "test": metrics, "train_seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/semeval"))
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--seeds", default="13,42")
    parser.add_argument("--backbone", default="splade-tiny")
    parser.add_argument("--grid", default="default", choices=sorted(GRIDS))
    parser.add_argument("--summary", action="store_true")
    args = parser.parse_args()
    use_configured_threads()
    out = RESULTS / f"re_sweep_{args.backbone.replace('/', '_')}.jsonl"
    done = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    if args.summary:
        summary(done)
        return
    data = load_re_dir(args.data)
    seen = {(r["method"], json.dumps(r["setting"], sort_keys=True), r["seed"], r["k"]) for r in done}
    out.parent.mkdir(parents=True, exist_ok=True)
    for seed in (int(s) for s in args.seeds.split(",")):
        train, dev = k_shot(data.train, args.k, seed)
        todo = [(method, setting) for method, grid in GRIDS[args.grid].items() for setting in settings(grid)
                if (method, json.dumps(setting, sort_keys=True), seed, args.k) not in seen]
        for method, setting in todo:
            if method == "app":
                row = run_app(data, setting, seed, args.k, args.backbone, train, validation(args.data))
            else:
                row = run_one(data, method, setting, seed, args.k, args.backbone, train, dev)
            with out.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
