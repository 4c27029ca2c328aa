"""Where benchmark results go; what they say about the machine comes from `bench.result_files`."""
from __future__ import annotations

import json
from pathlib import Path

from bench.result_files import ROOT, environment
from engine.backbones import set_cpu_threads
from knowco.settings import settings

RESULTS = ROOT / "bench" / "results"

__all__ = ["RESULTS", "ROOT", "environment", "publish", "use_configured_threads", "write_results"]


def use_configured_threads() -> None:
    """Torch's CPU threads as `KNOWCO_THREADS` says (default: one per core), as the app's worker does."""
    set_cpu_threads(settings().threads)


def write_results(name: str, data: dict, table: str) -> tuple[Path, Path]:
    """Write bench/results/NAME.json and NAME.md side by side."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    json_path, md_path = RESULTS / f"{name}.json", RESULTS / f"{name}.md"
    json_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(table, encoding="utf-8")
    return json_path, md_path


def publish(name: str, data: dict, lines: list[str]) -> None:
    """Write the results and show the table with where it went."""
    json_path, _ = write_results(name, data, "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {json_path}")
