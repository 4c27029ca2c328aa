"""The few-shot benchmarks behind `python -m knowco bench re|lp`."""
from __future__ import annotations

import re
import shlex
import sys
import time
from collections import Counter
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable, Optional

from engine import link_prediction as lp_task
from engine import relation_extraction as re_task
from engine.config import ABLATIONS, TrainConfig
from engine.metrics import accuracy, micro_f1, per_label
from engine.structure import KGE_METHODS, PykeenModel, StructureConfig
from engine.types import NO_RELATION, SentenceExample
from storage.naming import directed_label

from bench.lp_data import load_lp_dir, per_relation_sample
from bench.app_method import app_options, predict_app, train_app, train_app_lp
from bench.re_data import ReData, k_shot, load_re_dir
from bench.re_report import per_relation_markdown
from bench.result_files import ResultFile, markdown, summarise

RE_KEYS = ["micro_f1", "accuracy"]
#: the benchmark method that is the app's own retrain (engine.retrain with knowco.options' defaults), given every
#: labelled sentence a baseline sees: the K-shot training sentences and the K-shot dev sentences the baselines stop
#: on. A curator's labels are one pool; the app holds out and chooses on its own share of them.
APP = "app"
#: the app's retrain given only the K-shot training sentences (half the labels the baselines see)
APP_K = "app-k"
APPS = (APP, APP_K)
LP_KEYS = ["mr_raw", "hits@10_raw", "mr_filtered", "mrr_filtered", "hits@1_filtered", "hits@10_filtered"]
Log = Callable[[str], None]


def _command() -> str:
    return "python -m knowco " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _write_markdown(out: Optional[Path], title: str, runs: list[dict], keys: list[str], percent: bool,
                    more: str = "") -> str:
    text = markdown(title, _command(), summarise(runs, keys), keys, percent) + more
    if out is not None:
        out.with_suffix(".md").write_text(text, encoding="utf-8")
    return text


def re_scores(data: ReData, gold: list[Optional[str]], predicted: list[Optional[str]]) -> tuple[dict, list, dict]:
    """micro-F1 (Other left out) and accuracy, each label's precision/recall/F1, and how the errors fall: the
    right relation the wrong way round, a relation missed (said Other), Other taken for a relation, or another
    relation."""
    names = [r.name for r in data.relations] + [NO_RELATION]
    index = {name: i for i, name in enumerate(names)}
    gold_ids = [index[g or NO_RELATION] for g in gold]
    predicted_ids = [index.get(p or NO_RELATION, len(names)) for p in predicted]
    ignore = [index[NO_RELATION]]
    metrics = {"micro_f1": micro_f1(gold_ids, predicted_ids, ignore), "accuracy": accuracy(gold_ids, predicted_ids)}
    errors = Counter()
    for g, p in zip(gold, predicted):
        if g == p:
            continue
        if g is None:
            errors["other_taken_for_a_relation"] += 1
        elif p is None:
            errors["relation_missed_as_other"] += 1
        elif directed_label(g)[0] == directed_label(p)[0]:
            errors["right_relation_wrong_direction"] += 1
        else:
            errors["another_relation"] += 1
    return metrics, per_label(gold_ids, predicted_ids, names + ["?"], ignore), dict(errors)


def _predict(model, method: str, data: ReData, test: list[SentenceExample]) -> list[Optional[str]]:
    if method in APPS:
        return predict_app(model, data, test)
    classes = [spec.name for spec in model.classes]
    return [None if classes[i] == NO_RELATION else classes[i]
            for i in model.probabilities([model.encode_sentence(x) for x in test]).argmax(-1).tolist()]


#: what chose and what reports, written into every relation-extraction result file
RE_PROTOCOL = {"choose": "measured on the validation sentences: settings may be chosen on these figures; test "
                         "never read",
               "report": "measured on the test sentences, read once to report: nothing is chosen on these figures"}

LP_PROTOCOL = ("measured on test.tsv, nothing chosen on it; the few-shot dev sample (from dev.tsv) only stops "
               "KnowCo-Tuning early")


def bench_re(data_dir: Path, ks: list[int], seeds: list[int], methods: list[str], ablations: list[str],
             base: TrainConfig, overrides: dict[str, dict], out: Optional[Path], log: Log,
             app_settings: Optional[dict] = None, split: str = "choose") -> str:
    """Each method and K over the seeds; `app` is the app's retrain with its own defaults (knowco.options) and
    `app_settings` (the explicit --backbone and --set) on top, given the K-shot training and dev sentences as one
    pool of labels (`app-k`: the training sentences only). `split` "choose" measures on the validation sentences,
    "report" on test; the baselines' early-stopping dev set is drawn from train either way."""
    data = load_re_dir(data_dir, split)
    plan = [(method, k, method) for k in ks for method in methods]
    if ablations:
        plan += [(f"knowco-{name}", min(ks), "knowco") for name in ablations]
    results = ResultFile(out, {"task": "re", "data": str(data_dir), "k": ks, "seeds": seeds, "methods": methods,
                               "ablations": ablations, "base": base.as_dict(), "overrides": overrides,
                               "app_settings": app_settings or {}, "split": split,
                               "protocol": RE_PROTOCOL[split]})
    for seed in seeds:
        for label, k, method in plan:
            if results.has(label, k, seed):
                continue
            train, dev = k_shot(data.train, k, seed)
            started = time.perf_counter()
            if method in APPS:
                options = app_options(app_settings or {}, seed)
                labels = train + dev if method == APP else train
                trained = train_app(data, labels, options)
                model, config = trained.model, options.as_dict()
                extra = {"head": trained.head.as_dict(), "dev_examples": 0, "labels": len(labels)}
            else:
                changes = dict(overrides.get(method, {}))
                if label.startswith("knowco-"):
                    changes.update(ABLATIONS[label.split("-", 1)[1]])
                train_config = replace(base, seed=seed, **changes)
                model = re_task.build(method, data.relations, train_config, no_relation=data.has_no_relation)
                result = re_task.fit(model, train, dev, train_config)
                config = train_config.as_dict()
                extra = {"dev_examples": len(dev), "best": {"stage": result.best_stage, "epoch": result.best_epoch,
                                                            "dev_micro_f1": result.best_dev_score}}
            train_seconds = time.perf_counter() - started  # the app's: every fold and the final model
            started = time.perf_counter()
            predicted = _predict(model, method, data, data.test)
            eval_seconds = time.perf_counter() - started
            metrics, per_relation, errors = re_scores(data, [x.relation for x in data.test], predicted)
            results.add({"method": label, "k": k, "seed": seed, "metrics": metrics, "train_seconds": train_seconds,
                         "eval_seconds": eval_seconds, "train_examples": len(train), "eval_examples": len(data.test),
                         **extra,
                         "per_relation": per_relation, "errors": errors, "config": config})
            log(f"{label} k={k} seed={seed}: micro-F1 {metrics['micro_f1']:.3f} ({train_seconds:.0f} s)")
    return _write_markdown(out, f"Relation extraction: {data_dir.name}", results.data["runs"], RE_KEYS, True,
                           per_relation_markdown(results.data["runs"]))


def _seed_of(path: Path) -> int:
    match = re.search(r"-(\d+)-", path.name)
    return int(match.group(1)) if match else 0


def _shots_of(path: Path, triples: int) -> int:
    """"8shot-42-train.tsv" → 8; the number of training triples where the name does not say."""
    match = re.search(r"(\d+)shot", path.name)
    return int(match.group(1)) if match else triples


def bench_lp(data_dir: Path, train_files: list[Path], methods: list[str], base: TrainConfig,
             overrides: dict[str, dict], candidates: Optional[int], max_test: Optional[int], kge: StructureConfig,
             out: Optional[Path], log: Log, app_settings: Optional[dict] = None) -> str:
    results = ResultFile(out, {"task": "lp", "data": str(data_dir), "train": [str(f) for f in train_files],
                               "methods": methods, "candidates": candidates, "max_test": max_test,
                               "base": base.as_dict(), "overrides": overrides, "kge": asdict(kge),
                               "app_settings": app_settings or {}, "split": "report",
                               "protocol": LP_PROTOCOL})
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
                model = PykeenModel(names, [r.name for r in data.task.relations], data.train, method,
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
            elif method == APP:
                started = time.perf_counter()
                model = train_app_lp(data.task, data.train, app_options(app_settings or {}, seed)).model
                train_seconds = time.perf_counter() - started
                metrics, eval_seconds = lp_task.evaluate(model, data.task, test, data.known, lists)
            else:
                raise ValueError(f"unknown LP method {method!r} (expected knowco, app, {', '.join(KGE_METHODS)})")
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
