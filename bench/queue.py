"""The review queue as a curator meets it: `python -m knowco bench queue --data KGDIR [--split choose|report]`.

The protocol: with `--split choose` (to choose settings on) the KG is the directory's `train.tsv` and `dev.tsv`
is the truth, `test.tsv` is never read; with `--split report` (read once per change of defaults) the KG is
`train.tsv` + `dev.tsv` and `test.tsv` is the truth. `--sparse K` keeps K facts per relation of that KG (a KG
where every relation is thin) and counts every other fact of the directory as truth. Every entity and relation
text comes along.
`--labels` true facts per relation are entered as curator labels. Then the app's own retrain and suggest run,
through the same function as `python -m knowco train` and the worker (`knowco.training_job.run_training`), with
the app's defaults; the queue is read back from the database, most confident first, and compared with the truth
facts: precision at 10, 50, 100 and 500, the recall of the whole queue, the wall time of retrain + suggest and
the peak memory of the process. Beside it, in the same run and against the same truth, the simple methods it
contains (`bench.baselines`): the reverse rule and each structural model trained to convergence; the table names
the best of them. Resumable: seeds already in the result file are skipped (their missing baselines are added).
"""
from __future__ import annotations

import resource
from collections import defaultdict
from dataclasses import replace
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable, Optional

from bench.lp_data import load_lp_dir, per_relation_sample
from bench.result_files import ResultFile
from bench.baselines import REVERSE_SHARE, reverse_rule, structural_baseline
from engine.structure import MATRIX_INTERACTIONS
from knowco.services import (Actor, Database, Run, TrainOptions, add_triple_label, import_file, open_database,
                             queue, train_in_foreground)

CUTS = (10, 50, 100, 500)
#: each relation's best candidates in a structural baseline's queue-like ranking (as the app's queue)
PER_RELATION = 25
#: a KGE-alone baseline whose interaction is not one matrix product (TransE) ranks every pair only this big
MAX_BROADCAST_ENTITIES = 5000
TEXT_FILES = ("entities.txt", "relations.txt", "entity2text.txt", "entity2textlong.txt", "entity2type.txt",
              "relation2text.txt")
Triple = tuple[str, str, str]


def precision_and_recall(ranked: list[Triple], truth: set[Triple]) -> dict[str, float]:
    hits = [triple in truth for triple in ranked]
    out = {f"p@{n}": round(sum(hits[:n]) / n, 4) for n in CUTS}  # a queue shorter than N misses the rest
    out["recall"] = round(sum(hits) / max(1, len(truth)), 4)
    out["recall@1000"] = round(sum(hits[:1000]) / max(1, len(truth)), 4)
    out["queue"] = len(ranked)
    out["true_in_queue"] = sum(hits)
    return out


def kg_without_truth(source: Path, folder: Path, facts: Iterable[Triple]) -> Path:
    """The directory a curator would import: the KG's `facts` and every text, no truth."""
    folder.mkdir()
    (folder / "train.tsv").write_text("".join(f"{h}\t{r}\t{t}\n" for h, r, t in facts), encoding="utf-8")
    for name in TEXT_FILES:
        if (source / name).is_file():
            shutil.copy(source / name, folder / name)
    return folder


def retrain_and_read(database: Database, actor: Actor, labelled: Iterable[Triple], options: TrainOptions
                     ) -> tuple[Run, float, list]:
    """`labelled` entered as a curator's true triple labels, then the worker's retrain and suggest: the run, its
    wall time and the queue read back, most confident first."""
    for head, relation, tail in labelled:
        add_triple_label(database, actor, head, relation, tail, True)
    started = time.perf_counter()
    run = train_in_foreground(database, actor, options)
    seconds = time.perf_counter() - started
    return run, seconds, queue(database, limit=1_000_000)


SPLITS = ("choose", "report")


def kg_and_truth(directory: Path, split: str, sparse: Optional[int] = None, seed: int = 0
                 ) -> tuple[list[Triple], set[Triple], set[Triple]]:
    """(the KG's facts, the truth, the known-false triples) of the protocol's `split`; test is read only to
    report."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} (expected one of {', '.join(SPLITS)})")
    data = load_lp_dir(directory)
    kg = list(data.train) if split == "choose" else list(dict.fromkeys(data.train + data.dev))
    truth = set(data.dev if split == "choose" else data.test)
    if sparse is not None:
        kept = per_relation_sample(kg, sparse, seed)
        truth |= set(kg) - set(kept)
        kg = kept
    negatives_file = directory / ("dev_negatives.tsv" if split == "choose" else "test_negatives.tsv")
    negatives = ({tuple(line.split("\t")[:3]) for line in negatives_file.read_text(encoding="utf-8").splitlines()
                  if line.strip()} if negatives_file.is_file() else set())
    return kg, truth - set(kg), negatives


def _bands(ranked: list[tuple[Triple, float]], truth: set[Triple]) -> list[dict]:
    bands = []
    for low in (0.5, 0.6, 0.7, 0.8, 0.9):
        inside = [t in truth for t, p in ranked if low <= p < low + 0.1 or (low == 0.9 and p >= 1.0)]
        bands.append({"band": f"{low:.1f}-{low + 0.1:.1f}", "count": len(inside), "true": sum(inside),
                      "precision": round(sum(inside) / len(inside), 3) if inside else None})
    return bands


def calibration(shown: list, truth: set[Triple], negatives: set[Triple], combiner: dict) -> dict:
    """The checks of a confidence that means what it says: precision per band from 0.5 (with counts), the top
    10's mean confidence against its precision, the highest confidence, and the known-false share of the top
    500 (where the data set has verified negatives)."""
    ranked = [((s.head, s.relation, s.tail), s.confidence) for s in shown]
    bands = _bands(ranked, truth)
    top = ranked[:10]
    calibrated = bool(combiner.get("fitted")) and (combiner.get("facts") or 0) >= 20
    out = {"bands": bands, "top10_mean_confidence": round(sum(p for _, p in top) / max(1, len(top)), 3),
           "top10_precision": round(sum(t in truth for t, _ in top) / 10, 3),
           "max_confidence": round(max((p for _, p in ranked), default=0.0), 3), "calibrated": calibrated,
           "known_false_in_top500": sum(t in negatives for t, _ in ranked[:500]) if negatives else None}
    out["checks"] = {
        "bands": all(b["count"] < 10 or b["precision"] >= float(b["band"][:3]) - 0.2 for b in bands),
        "top10_confidence_near_precision": abs(out["top10_mean_confidence"] - out["top10_precision"]) <= 0.2,
        "nothing_at_0.8_uncalibrated": calibrated or out["max_confidence"] < 0.8}
    return out


def run_seed(directory: Path, labels: int, seed: int, options: TrainOptions, split: str = "choose",
             sparse: Optional[int] = None) -> dict:
    kg, truth, negatives = kg_and_truth(directory, split, sparse, seed)
    actor = Actor("bench", "admin")
    with tempfile.TemporaryDirectory() as tmp:
        database = open_database(str(Path(tmp) / "kg.sqlite"))
        try:
            import_file(database, actor, kg_without_truth(directory, Path(tmp) / "kg", kg), "kgdir")
            run, seconds, shown = retrain_and_read(database, actor, per_relation_sample(kg, labels, seed), options)
        finally:
            database.dispose()
    if run.status != "succeeded":
        raise RuntimeError(f"seed {seed}: the retrain {run.status}: {run.message}")
    ranked = [(s.head, s.relation, s.tail) for s in shown]
    return {"seed": seed, "split": split, "sparse": sparse, "labels_per_relation": labels, "truth_facts": len(truth),
            "calibration": calibration(shown, truth, negatives, run.metrics.get("combiner") or {}),
            "retrain_and_suggest_seconds": round(seconds, 1),
            # the process's peak so far: for the first seed its own, for later ones at most theirs
            "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "run_message": run.message, "queue": precision_and_recall(ranked, truth),
            "by_one_opinion": _by_one_opinion(shown, truth),
            "structure": run.metrics.get("structure", {}), "combiner": run.metrics.get("combiner", {}),
            "head": run.metrics.get("head", {})}


def _by_one_opinion(shown: list, truth: set[Triple]) -> dict[str, dict]:
    """The same queue ordered by one opinion alone (the text model's p, the structural model's): what each
    adds to the combined confidence on the same candidates."""
    out = {}
    for name in ("text", "graph"):
        order = sorted(shown, key=lambda s: -(s.opinions.get(name) if s.opinions.get(name) is not None else -1.0))
        out[name] = precision_and_recall([(s.head, s.relation, s.tail) for s in order], truth)
    return out


def baselines(directory: Path, seed: int, interactions: tuple[str, ...], split: str = "choose",
              sparse: Optional[int] = None) -> dict[str, dict]:
    """The reverse rule and each interaction trained to convergence (`bench.baselines`), on the same KG as the
    app's run and scored against the same truth."""
    data = load_lp_dir(directory)
    kg, truth, _ = kg_and_truth(directory, split, sparse, seed)
    entities = sorted(data.task.entities)
    relations = sorted({r for _, r, _ in kg} | {r.name for r in data.task.relations})

    def score(ranked: list[Triple]) -> dict:
        return precision_and_recall(ranked, truth)

    out = {"reverse rule": {"all": score(reverse_rule(kg))}}
    for interaction in interactions:
        if interaction not in MATRIX_INTERACTIONS and len(entities) > MAX_BROADCAST_ENTITIES:
            continue  # through PyKEEN's broadcast tensor a few heads at a time: hours on a big KG
        out[interaction] = structural_baseline(entities, relations, kg, interaction, seed, score)
    return out


def markdown(name: str, command: str, runs: list[dict]) -> str:
    keys = [f"p@{n}" for n in CUTS] + ["recall", "queue"]
    lines = [f"# Review queue on {name}", "", f"Command: `{command}`", "",
             "| seed | " + " | ".join(keys) + " | retrain + suggest s | peak MB so far |", "|---" * (len(keys) + 3) + "|"]
    for run in sorted(runs, key=lambda r: r["seed"]):
        cells = [str(run["queue"].get(key, "")) for key in keys]
        lines.append(f"| {run['seed']} | " + " | ".join(cells)
                     + f" | {run['retrain_and_suggest_seconds']} | {run['peak_memory_mb']} |")
    means = {key: [r["queue"][key] for r in runs if key in r["queue"]] for key in keys}
    lines.append("| mean | " + " | ".join(f"{sum(v) / len(v):.3f}" if v else "" for v in means.values())
                 + f" | {sum(r['retrain_and_suggest_seconds'] for r in runs) / max(1, len(runs)):.0f} | |")
    return "\n".join(lines + _opinion_table(runs, keys[:-1]) + _baselines_table(runs, keys[:-1])) + "\n"


def _opinion_table(runs: list[dict], keys: list[str]) -> list[str]:
    rows = [(r["seed"], name, m) for r in runs for name, m in r.get("by_one_opinion", {}).items()]
    if not rows:
        return []
    fitted = [(r["seed"], r.get("structure", {}).get("interaction", "none"), r.get("combiner", {})) for r in runs]
    return (["", "The same queue ordered by one opinion alone (what the combination adds on the same candidates):",
             "", "| seed | ordered by | " + " | ".join(keys) + " |", "|---" * (len(keys) + 2) + "|"]
            + [f"| {seed} | {name} | " + " | ".join(str(m.get(k, "")) for k in keys) + " |" for seed, name, m in rows]
            + ["", "| seed | structural model | combiner AUC (out of fold) | ECE | share > 0.8 | share < 0.2 |",
               "|---|---|---|---|---|---|"]
            + [f"| {seed} | {interaction} | {c['auc']} | {c['ece']} | {c['above_08']} | {c['below_02']} |"
               if c.get("fitted") else f"| {seed} | {interaction} | not fitted: {c.get('reason', '')} | | | |"
               for seed, interaction, c in fitted])


def _shown_rankings(run: dict) -> dict[str, dict]:
    """The app's queue and each baseline's rankings of one run, by the name the table gives them."""
    found = run.get("baselines", {})
    shown = {"the app": run["queue"]}
    shown.update({f"{name}, all candidates" if "per_relation" in b else name: b["all"] for name, b in found.items()})
    shown.update({f"{name}, best {PER_RELATION} per relation": b["per_relation"] for name, b in found.items()
                  if "per_relation" in b})
    return shown


def _baselines_table(runs: list[dict], keys: list[str]) -> list[str]:
    """Per seed the app beside each baseline, then the mean of each and the best baseline named per figure."""
    keys = keys + ["recall@1000"]
    rows, means = [], defaultdict(lambda: defaultdict(list))
    for run in sorted(runs, key=lambda r: r["seed"]):
        for name, m in _shown_rankings(run).items():
            rows.append(f"| {run['seed']} | {name} | " + " | ".join(str(m.get(k, "")) for k in keys) + " |")
            for k in keys:
                means[name][k].append(m.get(k, 0.0))
    if len(means) < 2:
        return []
    mean = {name: {k: sum(v) / len(v) for k, v in figures.items()} for name, figures in means.items()}
    best = {k: max((n for n in mean if n != "the app"), key=lambda n: (mean[n][k], n)) for k in keys}
    return (["", "Baselines in the same run (each structural model trained to convergence: early stopping on "
             "facts held out of the KG; the reverse rule proposes the missing reverse of every fact of a relation "
             f"that holds both ways in ≥ {REVERSE_SHARE:.0%} of its facts):", "",
             "| seed | method | " + " | ".join(keys) + " |", "|---" * (len(keys) + 2) + "|"] + rows
            + ["", "| mean over seeds | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
            + [f"| {name} | " + " | ".join(f"{m[k]:.3f}" for k in keys) + " |" for name, m in mean.items()]
            + ["| **best baseline** | " + " | ".join(f"{mean[best[k]][k]:.3f} ({best[k]})" for k in keys) + " |",
               "| **the app − best** | " + " | ".join(f"{mean['the app'][k] - mean[best[k]][k]:+.3f}" for k in keys)
               + " |"])


def bench_queue(directory: Path, labels: int, seeds: list[int], out: Optional[Path],
                log: Callable[[str], None], interactions: tuple[str, ...] = (),
                options: Optional[TrainOptions] = None, split: str = "choose", sparse: Optional[int] = None) -> str:
    results = ResultFile(out, {"task": "queue", "data": str(directory), "labels": labels, "seeds": seeds,
                               "split": split, "sparse": sparse,
                               "protocol": "KG train, truth dev" if split == "choose" else "KG train + dev, truth test",
                               "queue_policy": (options or TrainOptions()).queue.as_dict()})
    done = {run["seed"] for run in results.data["runs"]}
    for seed in seeds:
        if seed in done:
            run = next(r for r in results.data["runs"] if r["seed"] == seed)
            missing = tuple(i for i in interactions if i not in run.get("baselines", {}))
            if missing or "baselines" not in run:  # the app's run is kept; only the baselines asked for are added
                run["baselines"] = {**run.get("baselines", {}), **baselines(directory, seed, missing, split, sparse)}
                log(f"seed {seed}: baselines: {run['baselines']}")
                results.save()
            else:
                log(f"seed {seed}: already in {out}")
            continue
        run = run_seed(directory, labels, seed, replace(options, seed=seed) if options else TrainOptions(seed=seed),
                       split, sparse)
        log(f"seed {seed}: {run['queue']} in {run['retrain_and_suggest_seconds']} s")
        results.add(run)  # kept before the baselines train: a run stopped there resumes with the baselines alone
        run["baselines"] = baselines(directory, seed, interactions, split, sparse)
        log(f"seed {seed}: baselines: {run['baselines']}")
        results.save()
    command = (f"python -m knowco bench queue --data {directory} --split {split} --labels {labels} "
               f"--seeds {','.join(map(str, seeds))} --kge {','.join(interactions)}"
               + (f" --sparse {sparse}" if sparse is not None else ""))
    text = markdown(directory.name, command, results.data["runs"])
    if out is not None:
        out.with_suffix(".md").write_text(text, encoding="utf-8")
    return text
