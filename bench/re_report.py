"""Where one relation-extraction method wins over another: F1 per relation (each direction its own label) and
how the errors fall, averaged over seeds, for the smallest K of a result file's runs."""
from __future__ import annotations

from collections import defaultdict

import numpy as np

ERRORS = [("right_relation_wrong_direction", "right relation, wrong direction"),
          ("another_relation", "another relation"),
          ("relation_missed_as_other", "relation missed (said Other)"),
          ("other_taken_for_a_relation", "Other taken for a relation")]


def _methods(runs: list[dict], k: int) -> list[str]:
    return list(dict.fromkeys(r["method"] for r in runs if r["k"] == k and "per_relation" in r))


def _gathered(runs: list[dict], methods: list[str]):
    """(F1 per (method, relation) over seeds, seeds per method, error counts per method and kind)."""
    f1: dict[tuple[str, str], list[float]] = defaultdict(list)
    seeds: dict[str, int] = defaultdict(int)
    errors: dict[str, dict[str, list[int]]] = {m: defaultdict(list) for m in methods}
    for run in runs:
        seeds[run["method"]] += 1
        for row in run["per_relation"]:
            f1[(run["method"], row["relation"])].append(row["f1"])
        for key, _ in ERRORS:
            errors[run["method"]][key].append(run.get("errors", {}).get(key, 0))
    return f1, seeds, errors


def per_relation_markdown(runs: list[dict]) -> str:
    """Two tables (per relation F1; errors by kind); empty where no run kept its per-relation figures."""
    measured = [r for r in runs if "per_relation" in r]
    if not measured:
        return ""
    k = min(r["k"] for r in measured)
    methods = _methods(measured, k)
    f1, seeds, errors = _gathered([r for r in measured if r["k"] == k], methods)
    relations = sorted({relation for _, relation in f1 if relation != "?"})
    lines = ["", f"## Per relation at K = {k} (F1 in %, mean over seeds; a seed where a label never occurred "
                 "counts 0)", "", "| relation | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for relation in relations:
        cells = [f"{100 * sum(f1.get((m, relation), [])) / max(1, seeds[m]):.1f}" for m in methods]
        lines.append(f"| {relation} | " + " | ".join(cells) + " |")
    lines += ["", f"## Errors at K = {k} (test sentences, mean over seeds)", "",
              "| error | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for key, words in ERRORS:
        lines.append(f"| {words} | " + " | ".join(f"{np.mean(errors[m][key]):.0f}" for m in methods) + " |")
    return "\n".join(lines) + "\n"
