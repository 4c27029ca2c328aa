"""Engine speed on this machine: scoring throughput and one K=8 SemEval training run per backbone.

    python -m bench.engine_speed [--backbones splade-tiny,minilm] [--train]

Scoring: the 2,717 SemEval test sentences (relation distributions) and 5,000 UMLS entity pairs (triple
probabilities), in batches, after one warm-up batch. Training (with --train): KnowCo-Tuning and fine-tuning,
K=8, seed 42, the benchmark's settings. Writes bench/results/engine_speed.json and .md.
"""
from __future__ import annotations

import argparse
import itertools
import time

import torch

from bench.environment import ROOT, environment, use_configured_threads, write_results
from engine import link_prediction as lp_task
from engine import relation_extraction as re_task
from engine.config import TrainConfig
from bench.lp_data import load_lp_dir
from bench.re_data import k_shot, load_re_dir
from bench.runner import DEFAULT_OVERRIDES

DATA = ROOT.parent / "shared" / "data"


def throughput(model, items, batch_size: int) -> float:
    model.config.eval_batch_size = batch_size
    model.probabilities(items[:batch_size])
    started = time.perf_counter()
    model.probabilities(items)
    return len(items) / (time.perf_counter() - started)


def measure(backbone: str, train: bool) -> dict:
    semeval = load_re_dir(DATA / "semeval")
    umls = load_lp_dir(DATA / "umls", DATA / "umls" / "fewshot" / "8shot-42-train.tsv")
    config = TrainConfig(backbone=backbone, seed=42)
    row: dict = {"backbone": backbone, "threads": torch.get_num_threads()}
    model = re_task.build("knowco", semeval.relations, config, no_relation=True)
    sentences = [model.encode_sentence(x) for x in semeval.test]
    row["sentences_per_second"] = round(throughput(model, sentences, 128), 1)
    lp_model = lp_task.build(umls.task, config)
    names = sorted(umls.task.entities)
    pairs = [lp_model.encode_pair(umls.task.entities[h], umls.task.entities[t])
             for h, t in itertools.islice(itertools.product(names, names), 5000)]
    row["pairs_per_second"] = round(throughput(lp_model, pairs, 128), 1)
    if train:
        train_set, dev_set = k_shot(semeval.train, 8, 42)
        for method in ("knowco", "finetune"):
            method_config = TrainConfig(backbone=backbone, seed=42, **DEFAULT_OVERRIDES.get(method, {}))
            trained = re_task.build(method, semeval.relations, method_config, no_relation=True)
            result = re_task.fit(trained, train_set, dev_set, method_config)
            metrics, seconds = re_task.evaluate(trained, semeval.test)
            row[f"{method}_k8_train_seconds"] = round(result.seconds, 1)
            row[f"{method}_k8_test_seconds"] = round(seconds, 1)
            row[f"{method}_k8_micro_f1_seed42"] = round(metrics["micro_f1"], 4)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbones", default="splade-tiny,minilm")
    parser.add_argument("--train", action="store_true")
    args = parser.parse_args()
    use_configured_threads()
    rows = [measure(name, args.train) for name in args.backbones.split(",")]
    data = {"config": vars(args), "environment": environment(("torch", "transformers")), "rows": rows}
    keys = [k for k in rows[0] if k != "backbone"]
    lines = ["# Engine speed (CPU)", "", f"Command: `python -m bench.engine_speed --backbones {args.backbones}"
             f"{' --train' if args.train else ''}` ({data['environment']['cpu_count']} CPUs)", "",
             "| backbone | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    lines += [f"| {r['backbone']} | " + " | ".join(str(r.get(k, "")) for k in keys) + " |" for r in rows]
    write_results("engine_speed", data, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
