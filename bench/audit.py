"""Does a spot check's stated interval hold? `python -m knowco bench audit --data ../shared/data/umls`.

The app's own queue (`train.tsv` as the KG, `--labels` true facts per relation entered as labels, the worker's
retrain and suggest), then slices of it as a curator would choose them on the Review page: the most confident
200, 500 and 1,000 suggestions, and each relation with at least 200. For each slice, `--audits` spot checks of
`--sample` suggestions (the app's own stratified draw and estimate, `engine.spot_check`), each judged from the
truth (`dev.tsv` + `test.tsv`: nothing is chosen here, so both serve as truth); counted: how often the stated
95 % interval contains the true precision of the rest of the slice, the interval's mean width, and the mean
error of the point estimate. Issue 27's target: at least 90 % of the audits.
"""
from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Callable, Optional

from bench.lp_data import load_lp_dir, per_relation_sample
from bench.queue import kg_without_truth, retrain_and_read
from bench.result_files import ResultFile
from engine.spot_check import Stratum, band_of, draw, estimate
from knowco.services import Actor, TrainOptions, import_file, open_database

Triple = tuple[str, str, str]
TOP_SLICES = (200, 500, 1000)
MIN_RELATION_SLICE = 200


def simulate(slice_: list[tuple[Triple, float]], truth: set[Triple], audits: int, sample: int) -> dict:
    """`audits` spot checks of the slice judged from the truth: coverage of the rest's true precision."""
    items = list(enumerate(c for _, c in slice_))
    holds = {i: t in truth for i, (t, _) in enumerate(slice_)}
    covered, widths, errors = 0, [], []
    for seed in range(audits):
        found, true = _one_audit(items, holds, sample, seed)
        covered += found.low <= true <= found.high
        widths.append(found.width)
        if found.precision is not None:
            errors.append(abs(found.precision - true))
    return {"size": len(slice_), "precision": round(sum(holds.values()) / len(slice_), 4), "audits": audits,
            "sample": sample, "coverage": round(covered / audits, 3),
            "mean_width": round(sum(widths) / len(widths), 3),
            "mean_error": round(sum(errors) / len(errors), 3) if errors else None}


def _one_audit(items: list[tuple[int, float]], holds: dict[int, bool], sample: int, seed: int):
    """One spot check judged from the truth: (its estimate, the rest's true precision)."""
    sampled = set(draw(items, sample, seed))
    bands = {i: band_of(c) for i, c in items}
    strata = []
    for band in sorted(set(bands.values())):
        members = [i for i in bands if bands[i] == band]
        judged = [i for i in members if i in sampled]
        strata.append(Stratum(band, len(members), len(judged), sum(holds[i] for i in judged),
                              len(members) - len(judged)))
    rest = [i for i in holds if i not in sampled]
    return estimate(strata), sum(holds[i] for i in rest) / len(rest)


def slices(shown: list[tuple[Triple, float]]) -> dict[str, list[tuple[Triple, float]]]:
    """The slices a curator would choose: the queue's most confident, and each big enough relation."""
    out = {f"top {n}": shown[:n] for n in TOP_SLICES if len(shown) >= n}
    sizes = Counter(t[1] for t, _ in shown)
    for relation, n in sorted(sizes.items()):
        if n >= MIN_RELATION_SLICE:
            out[f"relation {relation}"] = [(t, c) for t, c in shown if t[1] == relation]
    return out


def has_reason(opinions: dict) -> bool:
    """Whether the Review card gives a reason beyond the models' numbers: a sentence it was read in, a pattern of
    the graph shown on the card (3 supporting pairs, a confidence of 0.5), or the missing reverse of a fact of a
    relation that holds both ways."""
    pattern = opinions.get("pattern") or {}
    return bool(opinions.get("sentences")) or "both_ways" in opinions or (
        pattern.get("support", 0) >= 3 and pattern.get("confidence", 0.0) >= 0.5)


def markdown(result: dict, command: str) -> str:
    lines = ["# Spot checks against the truth (issue 27)", "", f"Command: `{command}`", "",
             "| seed | slice | suggestions | true precision | audits | sample | interval covers the rest's "
             "precision | mean width | mean error |", "|---|---|---|---|---|---|---|---|---|"]
    for run in result["runs"]:
        for name, s in run["slices"].items():
            lines.append(f"| {run['seed']} | {name} | {s['size']} | {s['precision']:.3f} | {s['audits']} | "
                         f"{s['sample']} | {s['coverage']:.0%} | {s['mean_width']:.3f} | {s['mean_error']} |")
    lines += ["", "Suggestions of the top 100 whose card gives a reason beyond the models' numbers (a sentence, a "
              "pattern of the graph with 3+ supporting pairs, the missing reverse of a fact): "
              + ", ".join(f"seed {r['seed']}: {r.get('top100_with_a_reason', '?')}" for r in result["runs"])]
    return "\n".join(lines) + "\n"


def bench_audit(directory: Path, labels: int, seeds: list[int], audits: int, sample: int, out: Optional[Path],
                log: Callable[[str], None], options: Optional[TrainOptions] = None) -> str:
    results = ResultFile(out, {"task": "audit", "data": str(directory), "labels": labels, "audits": audits,
                               "sample": sample, "truth": "dev.tsv + test.tsv (nothing is chosen here)"})
    data = load_lp_dir(directory)
    truth = set(data.dev) | set(data.test)
    done = {run["seed"] for run in results.data["runs"]}
    for seed in seeds:
        if seed in done:
            continue
        actor = Actor("bench", "admin")
        with tempfile.TemporaryDirectory() as tmp:
            database = open_database(str(Path(tmp) / "kg.sqlite"))
            try:
                import_file(database, actor, kg_without_truth(directory, Path(tmp) / "kg", data.train), "kgdir")
                run, seconds, shown = retrain_and_read(database, actor, per_relation_sample(data.train, labels, seed),
                                                       options or TrainOptions(seed=seed))
            finally:
                database.dispose()
        ranked = [((s.head, s.relation, s.tail), s.confidence) for s in shown]
        measured = {name: simulate(members, truth, audits, sample) for name, members in slices(ranked).items()}
        results.add({"seed": seed, "queue": len(ranked), "retrain_and_suggest_seconds": round(seconds, 1),
                     "top100_with_a_reason": sum(has_reason(s.opinions) for s in shown[:100]), "slices": measured})
        log(f"seed {seed}: " + "; ".join(f"{n} coverage {m['coverage']:.0%}" for n, m in measured.items()))
    command = (f"python -m knowco bench audit --data {directory} --labels {labels} --seeds "
               f"{','.join(map(str, seeds))} --audits {audits} --sample {sample}")
    text = markdown(results.data, command)
    if out is not None:
        out.with_suffix(".md").write_text(text, encoding="utf-8")
    return text
