"""Quality of the suggestions, measured on data with known answers.

    python -m bench.suggest_quality [--umls DIR] [--semeval DIR] [--seed 42] [--only semeval|umls]

UMLS: the KnowCo model is trained on the 8-shot file (dev: 8 per relation from dev.tsv, as in the LP
benchmark); the test triples are hidden. Candidates are generated exactly as the suggest job does
(`engine.queue.candidates`: entity types where known, two-hop pairs first, at most 20,000 per relation; UMLS has no
types, so every pair not in the 8-shot file is a candidate), scored once per pair by the prompt model
(p(r | h, t)) and by PyKEEN TransE trained on the same 8-shot file, and ranked across all relations. Reported:
precision@50/100/500 against the hidden test triples, recall of the test triples within the top N, and the
pre-filter's recall (test triples that are candidates at all).

SemEval: a K=8 prompt model (seed 42) reads the test split as an uploaded corpus whose entities are the test
sentences' marked mentions: mentions are found by name (Aho-Corasick), every two in a sentence are classified,
and one suggestion per (head, relation, tail) is kept at confidence ≥ 0.5. Triples are compared with the gold
ones (excluding Other) after writing `R(e2,e1)` from `h` to `t` as `R(e1,e2)` from `t` to `h`. Also the
expected calibration error on the test split before and after temperature scaling fitted on the K=8 dev split.
Writes bench/results/suggest_quality.json and .md.
"""
from __future__ import annotations

import argparse
import json
import re
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.environment import ROOT, environment, publish, use_configured_threads
from bench.lp_data import load_lp_dir, per_relation_sample
from bench.runner import LP_BASELINES
from engine import link_prediction, relation_extraction
from engine.calibration import fit_temperature, softmax, top_label_reliability
from engine.queue.candidates import candidates
from engine.config import TrainConfig
from engine.link_prediction import PairScores
from engine.mention_index import MentionIndex
from engine.structure import PykeenModel
from engine.text_candidates import aggregate, mention_pairs
from engine.types import NO_RELATION
from storage.text_split import tokenize
from bench.re_data import k_shot, load_re_dir

SHARED = ROOT.parent / "shared" / "data"
CUTS = (50, 100, 500)


def _precision_recall(ranked: list[tuple], gold: set) -> dict:
    out = {}
    for n in CUTS + (len(ranked),):
        hits = sum(1 for t in ranked[:n] if t in gold)
        label = "all" if n == len(ranked) else str(n)
        out[f"precision@{label}"] = round(hits / max(1, min(n, len(ranked))), 4)
        out[f"recall@{label}"] = round(hits / max(1, len(gold)), 4)
    return out


def umls(directory: Path, seed: int) -> dict:
    data = load_lp_dir(directory, directory / "fewshot" / f"8shot-{seed}-train.tsv")
    config = TrainConfig(seed=seed)
    started = time.perf_counter()
    model = link_prediction.build(data.task, config)
    link_prediction.fit(model, data.task, data.train, per_relation_sample(data.dev, 8, seed), config)
    train_seconds = time.perf_counter() - started
    known = set(data.train)
    relations = {r.name: (None, None) for r in data.task.relations}
    per = candidates(data.train, {name: None for name in data.task.entities}, relations, known, 20_000, seed)
    pairs = sorted({pair for c in per for pair in c.pairs})
    started = time.perf_counter()
    scores = PairScores(model, data.task)
    scores.fill(pairs)
    score_seconds = time.perf_counter() - started
    all_candidates = [(h, c.relation, t) for c in per for h, t in c.pairs]
    gold = set(data.test)
    knowco = sorted(all_candidates, key=lambda x: -scores.score(*x))

    transe = PykeenModel(sorted(data.task.entities), [r.name for r in data.task.relations], data.train, "transe",
                             replace(LP_BASELINES, seed=seed))
    transe.fit()
    by_query = defaultdict(list)
    for h, r, t in all_candidates:
        by_query[(h, r)].append(t)
    transe_scores = {}
    for (h, r), tails in by_query.items():
        transe_scores.update({(h, r, t): s for t, s in zip(tails, transe.score_tails(h, r, tails))})
    transe_ranked = sorted(all_candidates, key=lambda x: -transe_scores[x])
    true = (set(data.dev) | set(data.test)) - known  # the facts of dev.tsv and test.tsv: all true, all hidden
    return {"train_triples": len(data.train), "hidden_test_triples": len(gold), "candidates": len(all_candidates),
            "knowco_vs_all_true": _precision_recall(knowco, true), "transe_vs_all_true": _precision_recall(transe_ranked, true),
            "true_missing_triples": len(true),
            "scored_pairs": len(pairs), "prefilter_recall": round(len(gold & set(all_candidates)) / len(gold), 4),
            "knowco_train_seconds": round(train_seconds, 1), "knowco_pairs_per_second": round(len(pairs) / score_seconds),
            "knowco": _precision_recall(knowco, gold), "transe": _precision_recall(transe_ranked, gold)}


_DIRECTED = re.compile(r"^(?P<base>.+)\((?P<a>e[12]),(?P<b>e[12])\)$")


def _canonical(head: str, relation: str, tail: str) -> tuple[str, str, str]:
    match = _DIRECTED.match(relation)
    if match and match["a"] == "e2":
        return tail.lower(), f"{match['base']}(e1,e2)", head.lower()
    return head.lower(), relation, tail.lower()


def semeval(directory: Path, seed: int) -> dict:
    data = load_re_dir(directory)
    config = TrainConfig(seed=seed)
    train, dev = k_shot(data.train, 8, seed)
    model = relation_extraction.build("knowco", data.relations, config, no_relation=data.has_no_relation)
    relation_extraction.fit(model, train, dev, config)

    def logits_and_gold(examples):
        logits = model.logits_for([model.encode_sentence(x) for x in examples]).numpy()
        gold = np.array([model.index[x.relation or NO_RELATION] for x in examples])
        return logits, gold

    dev_logits, dev_gold = logits_and_gold(dev)
    test_logits, test_gold = logits_and_gold(data.test)
    temperature = fit_temperature(dev_logits, dev_gold)
    before = top_label_reliability(softmax(test_logits), test_gold)
    after = top_label_reliability(softmax(test_logits, temperature), test_gold)
    model.temperature = temperature

    def mention(x, span):
        return " ".join(x.tokens[span[0]:span[1]])

    names = {mention(x, x.head) for x in data.test} | {mention(x, x.tail) for x in data.test}
    started = time.perf_counter()
    index = MentionIndex(((name, name.lower()) for name in names), tokenize)
    sentences = list(enumerate(x.tokens for x in data.test))
    pairs = mention_pairs(sentences, index)
    mention_seconds = time.perf_counter() - started
    started = time.perf_counter()
    distributions = model.relation_distribution([p.example() for p in pairs])
    classify_seconds = time.perf_counter() - started
    found = aggregate(pairs, distributions, NO_RELATION, 0.5)
    predicted = {_canonical(s.head, s.relation, s.tail) for s in found}
    gold = {_canonical(mention(x, x.head), x.relation, mention(x, x.tail)) for x in data.test if x.relation}
    hits = len(predicted & gold)
    right_way, wrong_way = direction_counts(predicted, gold)
    return {"test_sentences": len(data.test), "entity_names": len(names), "mention_pairs": len(pairs),
            "mention_seconds": round(mention_seconds, 2), "classify_seconds": round(classify_seconds, 1),
            "suggestions": len(predicted), "gold_triples": len(gold), "correct": hits,
            "precision": round(hits / max(1, len(predicted)), 4), "recall": round(hits / max(1, len(gold)), 4),
            "temperature": round(temperature, 3), "ece_before": round(before.ece, 4), "ece_after": round(after.ece, 4),
            # of the suggestions whose pair and relation are gold, how many point the gold way
            "gold_direction": right_way, "reversed_direction": wrong_way,
            "direction_share": round(right_way / max(1, right_way + wrong_way), 4)}


def direction_counts(predicted: set[tuple[str, str, str]], gold: set[tuple[str, str, str]]) -> tuple[int, int]:
    """(right, reversed): predicted triples equal to a gold triple, and those whose reverse is one."""
    right = sum(1 for t in predicted if t in gold)
    reversed_ = sum(1 for h, r, t in predicted if (h, r, t) not in gold and (t, r, h) in gold)
    return right, reversed_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--umls", type=Path, default=SHARED / "umls")
    parser.add_argument("--semeval", type=Path, default=SHARED / "semeval")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", choices=("semeval", "umls"),
                        help="rerun one part; the other is kept from the committed result file")
    args = parser.parse_args()
    use_configured_threads()
    previous = ROOT / "bench" / "results" / "suggest_quality.json"
    results = json.loads(previous.read_text(encoding="utf-8")) if args.only and previous.is_file() else {}
    results.update({"config": {"seed": args.seed}, "environment": environment(("torch", "transformers", "pykeen"))})
    if args.only != "umls":
        results["semeval"] = semeval(args.semeval, args.seed)
        print(results["semeval"], flush=True)
    if args.only != "semeval":
        results["umls"] = umls(args.umls, args.seed)
        print(results["umls"], flush=True)
    u, s = results["umls"], results["semeval"]
    only = f" --only {args.only}` (the other part kept from the previous run; " if args.only else "` ("
    lines = ["# Suggestion quality", "", f"Command: `python -m bench.suggest_quality --seed {args.seed}{only}"
             f"{results['environment']['cpu_count']} CPUs, {results['environment']['when']}).", "",
             f"UMLS, 8-shot file (seed {args.seed}) as the KG, {u['hidden_test_triples']} hidden test triples, "
             f"{u['candidates']:,} candidates (pre-filter recall {u['prefilter_recall']:.3f}):", "",
             "| model | P@50 | P@100 | P@500 | R@50 | R@100 | R@500 |", "|---|---|---|---|---|---|---|"]
    for name in ("knowco", "transe"):
        m = u[name]
        lines.append(f"| {name} | {m['precision@50']:.3f} | {m['precision@100']:.3f} | {m['precision@500']:.3f} | "
                     f"{m['recall@50']:.3f} | {m['recall@100']:.3f} | {m['recall@500']:.3f} |")
    lines += ["", f"The same rankings against all hidden true triples, dev.tsv and test.tsv ({u['true_missing_triples']:,}"
              "):", "", "| model | P@50 | P@100 | P@500 |", "|---|---|---|---|"]
    for name in ("knowco", "transe"):
        m = u[f"{name}_vs_all_true"]
        lines.append(f"| {name} | {m['precision@50']:.3f} | {m['precision@100']:.3f} | {m['precision@500']:.3f} |")
    lines += ["", f"SemEval test split as a corpus ({s['test_sentences']:,} sentences, {s['entity_names']:,} entity "
              f"names, {s['mention_pairs']:,} mention pairs): {s['suggestions']:,} suggested triples, "
              f"{s['correct']} of {s['gold_triples']:,} gold ones found: precision {s['precision']:.3f}, recall "
              f"{s['recall']:.3f}. ECE on the test split: {s['ece_before']:.3f} before, {s['ece_after']:.3f} after "
              f"temperature scaling (T = {s['temperature']:.2f}, fitted on the K=8 dev split)."]
    if "gold_direction" in s:
        lines += ["", f"Direction: of the suggested triples whose pair and relation are gold, {s['gold_direction']} "
                  f"point the gold way and {s['reversed_direction']} the other ({s['direction_share']:.1%})."]
    publish("suggest_quality", results, lines)


if __name__ == "__main__":
    main()
