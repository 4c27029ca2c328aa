"""Benchmark result files: one JSON with config, environment and every run; resumable; a markdown summary."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Optional

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent


def environment(packages: tuple[str, ...] = ("torch", "transformers", "pykeen")) -> dict:
    """Where a result was measured: code version, interpreter, machine, threads, GPU, package versions."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    versions = {}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_commit": commit,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "packages": versions,
    }


class ResultFile:
    """Runs already in the file are kept and skipped, so a long benchmark can stop and resume."""

    def __init__(self, path: Optional[Path], config: dict) -> None:
        self.path = path
        self.data = {"config": config, "environment": environment(), "runs": []}
        if path is not None and path.exists():
            self.data["runs"] = json.loads(path.read_text(encoding="utf-8")).get("runs", [])

    def has(self, method: str, k, seed: int) -> bool:
        return any(r["method"] == method and r["k"] == k and r["seed"] == seed for r in self.data["runs"])

    def add(self, run: dict) -> None:
        self.data["runs"].append(run)
        self.save()

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(self.data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)


def summarise(runs: list[dict], keys: list[str]) -> list[dict]:
    """Mean and standard deviation over seeds, per (method, k)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for run in runs:
        groups[(run["method"], run["k"])].append(run)
    rows = []
    for (method, k), members in groups.items():
        row = {"method": method, "k": k, "seeds": sorted(r["seed"] for r in members),
               "train_seconds": float(np.mean([r["train_seconds"] for r in members]))}
        for key in keys:
            values = [r["metrics"][key] for r in members if key in r["metrics"]]
            if values:
                row[key] = (float(np.mean(values)), float(np.std(values)))
        rows.append(row)
    return rows


def markdown(title: str, command: str, rows: list[dict], keys: list[str], percent: bool) -> str:
    lines = [f"# {title}", "", f"Command: `{command}`", "",
             "| method | k | seeds | " + " | ".join(keys) + " | train s |", "|---" * (len(keys) + 4) + "|"]
    for row in rows:
        cells = []
        for key in keys:
            if key not in row:
                cells.append("")
                continue
            mean, std = row[key]
            if percent:
                cells.append(f"{mean * 100:.1f} ± {std * 100:.1f}")
            elif key.startswith("mr_"):
                cells.append(f"{mean:.1f} ± {std:.1f}")
            else:
                cells.append(f"{mean:.3f} ± {std:.3f}")
        lines.append(f"| {row['method']} | {row['k']} | {len(row['seeds'])} | " + " | ".join(cells)
                     + f" | {row['train_seconds']:.0f} |")
    return "\n".join(lines) + "\n"
