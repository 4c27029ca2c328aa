"""The few-shot benchmarks behind `python -m knowco bench re|lp`."""
from __future__ import annotations

import re
import shlex
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable, Optional

from engine import link_prediction as lp_task
from engine import relation_extraction as re_task
from engine.config import ABLATIONS, TrainConfig
from engine.structure import KGE_METHODS, StructuralModel, StructureConfig

from bench.lp_data import load_lp_dir, per_relation_sample
from bench.re_data import k_shot, load_re_dir
from bench.result_files import ResultFile, markdown, summarise

RE_KEYS = ["micro_f1", "accuracy"]
LP_KEYS = ["mr_raw", "hits@10_raw", "mr_filtered", "mrr_filtered", "hits@1_filtered", "hits@10_filtered"]
Log = Callable[[str], None]


def _command() -> str:
    return "python -m knowco " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _write_markdown(out: Optional[Path], title: str, runs: list[dict], keys: list[str], percent: bool) -> str:
    text = markdown(title, _command(), summarise(runs, keys), keys, percent)
    if out is not None:
        out.with_suffix(".md").write_text(text, encoding="utf-8")
    return text


def bench_re(data_dir: Path, ks: list[int], seeds: list[int], methods: list[str], ablations: list[str],
             base: TrainConfig, overrides: dict[str, dict], out: Optional[Path], log: Log) -> str:
    data = load_re_dir(data_dir)
    plan = [(method, k, method) for k in ks for method in methods]
    if ablations:
        plan += [(f"knowco-{name}", min(ks), "knowco") for name in ablations]
    results = ResultFile(out, {"task": "re", "data": str(data_dir), "k": ks, "seeds": seeds, "methods": methods,
                               "ablations": ablations, "base": base.as_dict(), "overrides": overrides})
    for seed in seeds:
        for label, k, method in plan:
            if results.has(label, k, seed):
                continue
            train, dev = k_shot(data.train, k, seed)
            changes = dict(overrides.get(method, {}))
            if label.startswith("knowco-"):
                changes.update(ABLATIONS[label.split("-", 1)[1]])
            config = replace(base, seed=seed, **changes)
            model = re_task.build(method, data.relations, config, no_relation=data.has_no_relation)
            result = re_task.fit(model, train, dev, config)
            metrics, eval_seconds = re_task.evaluate(model, data.test)
            results.add({"method": label, "k": k, "seed": seed, "metrics": metrics, "train_seconds": result.seconds,
                         "eval_seconds": eval_seconds, "train_examples": len(train), "dev_examples": len(dev),
                         "best": {"stage": result.best_stage, "epoch": result.best_epoch,
                                  "dev_micro_f1": result.best_dev_score},
                         "config": config.as_dict()})
            log(f"{label} k={k} seed={seed}: micro-F1 {metrics['micro_f1']:.3f} ({result.seconds:.0f} s)")
    return _write_markdown(out, f"Relation extraction: {data_dir.name}", results.data["runs"], RE_KEYS, True)


def _seed_of(path: Path) -> int:
    match = re.search(r"-(\d+)-", path.name)
    return int(match.group(1)) if match else 0


def _shots_of(path: Path, triples: int) -> int:
    """"8shot-42-train.tsv" → 8; the number of training triples where the name does not say."""
    match = re.search(r"(\d+)shot", path.name)
    return int(match.group(1)) if match else triples


def bench_lp(data_dir: Path, train_files: list[Path], methods: list[str], base: TrainConfig,
             overrides: dict[str, dict], candidates: Optional[int], max_test: Optional[int], kge: StructureConfig,
             out: Optional[Path], log: Log) -> str:
    results = ResultFile(out, {"task": "lp", "data": str(data_dir), "train": [str(f) for f in train_files],
                               "methods": methods, "candidates": candidates, "max_test": max_test,
                               "base": base.as_dict(), "overrides": overrides, "kge": asdict(kge)})
    for train_file in train_files or [data_dir / "train.tsv"]:
        seed = _seed_of(train_file)
        data = load_lp_dir(data_dir, train_file)
        test = data.test[:max_test] if max_test else data.test
        names = sorted(data.task.entities)
        lists = lp_task.candidate_lists(test, names, candidates, seed)
        k = _shots_of(train_file, len(data.train))
        dev_shots = k if k < len(data.train) else len(data.dev)
        for method in methods:
            if results.has(method, k, seed):
                continue
            if method in KGE_METHODS:
                model = StructuralModel(names, [r.name for r in data.task.relations], data.train, method,
                                        replace(kge, seed=seed))
                train_seconds = model.fit()
                started = time.perf_counter()
                metrics = lp_task.rank_evaluation(model.score_tails, model.score_heads, test, data.known, lists)
                eval_seconds = time.perf_counter() - started
            elif method == "knowco":
                config = replace(base, seed=seed, **overrides.get(method, {}))
                model = lp_task.build(data.task, config)
                dev = per_relation_sample(data.dev, dev_shots, seed)
                train_seconds = lp_task.fit(model, data.task, data.train, dev, config).seconds
                metrics, eval_seconds = lp_task.evaluate(model, data.task, test, data.known, lists)
            else:
                raise ValueError(f"unknown LP method {method!r} (expected knowco, {', '.join(KGE_METHODS)})")
            results.add({"method": method, "k": k, "seed": seed, "metrics": metrics, "train_seconds": train_seconds,
                         "eval_seconds": eval_seconds, "train_file": str(train_file), "test_triples": len(test),
                         "candidates": candidates or len(names)})
            log(f"{method} {train_file.name}: raw MR {metrics['mr_raw']:.1f}, raw Hits@10 {metrics['hits@10_raw']:.3f}"
                f" ({train_seconds:.0f} s train, {eval_seconds:.0f} s eval)")
    return _write_markdown(out, f"Link prediction: {data_dir.name}", results.data["runs"], LP_KEYS, False)


# Per-method settings chosen on dev F1 (SemEval K=8, seeds 13 and 42, SPLADE-tiny) by `python -m bench.re_sweep`;
# every setting tried, with its dev and test F1, is in bench/results/re_sweep_splade-tiny.jsonl. The prompt
# model's choice (stage-2 lr 3e-4, lambda 0.5) is TrainConfig's default; fine-tuning did best on dev at 1e-3.
DEFAULT_OVERRIDES: dict[str, dict] = {"finetune": {"stage2_lr": 1e-3}}
#: the link-prediction benchmark's TransE/RotatE settings (the figures in BENCHMARKS.md were made with them)
LP_BASELINES = StructureConfig(embedding_dim=64, epochs=300, lr=0.01, batch_size=64, negatives_per_positive=8)
