"""Link prediction with the prompt model: training pairs with corrupted negatives, and ranking evaluation.

A pair (h, t) is read once and gives p(r | h, t) for every relation r at `[MASK]`, so ranking all tails of
(h, r, ?) costs one forward per candidate pair, shared by every relation and by head queries on the same pair.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

import numpy as np

from engine.classifier import PromptClassifier
from engine.backbones import load_backbone
from engine.config import TrainConfig
from engine.metrics import rank_metrics, rank_of
from engine.training import CancelFlag, ProgressCallback, TrainResult, seed_everything, train
from engine.types import NO_RELATION, EntityText, RelationSpec, TripleExample
from engine.verbalizer import with_no_relation

Triple = tuple[str, str, str]


@dataclass
class LpTask:
    entities: dict[str, EntityText]
    relations: list[RelationSpec]


def corrupt(positives: Sequence[Triple], entity_names: Sequence[str], ratio: int, known_pairs: set[tuple[str, str]],
            rng: random.Random, types: Optional[dict[str, Optional[str]]] = None) -> list[TripleExample]:
    """`ratio` negatives per positive: head or tail replaced, never a pair known to hold some relation. With
    `types`, the replacement has the replaced entity's type where it has one (a drug for a drug: the harder
    negatives a curator's suggestions must be told apart from)."""
    same_type: dict[Optional[str], list[str]] = {}
    for name in entity_names:
        same_type.setdefault((types or {}).get(name), []).append(name)
    negatives: list[TripleExample] = []
    for head, relation, tail in positives:
        made, attempts = 0, 0
        while made < ratio and attempts < 50 * ratio:
            attempts += 1
            replace_head = rng.random() < 0.5
            kind = (types or {}).get(head if replace_head else tail)
            candidate = rng.choice(same_type.get(kind) or entity_names)
            pair = (candidate, tail) if replace_head else (head, candidate)
            if pair[0] == pair[1] or pair in known_pairs or pair[::-1] in known_pairs:
                continue
            negatives.append(TripleExample(pair[0], relation, pair[1], holds=False))
            made += 1
    return negatives


def build(task: LpTask, config: TrainConfig) -> PromptClassifier:
    seed_everything(config.seed)
    return PromptClassifier(load_backbone(config.backbone), with_no_relation(task.relations), config)


def _items(model: PromptClassifier, task: LpTask, examples: Iterable[TripleExample]):
    return [(model.encode_pair(task.entities[x.head], task.entities[x.tail]),
             model.index[x.relation if x.holds else NO_RELATION]) for x in examples]


def fit(model: PromptClassifier, task: LpTask, train_triples: Sequence[Triple], dev_triples: Sequence[Triple],
        config: TrainConfig, *, progress: Optional[ProgressCallback] = None, cancel: Optional[CancelFlag] = None
        ) -> TrainResult:
    rng = random.Random(config.seed)
    names = sorted(task.entities)
    known = {(h, t) for h, _, t in train_triples}
    train_examples = [TripleExample(*t) for t in train_triples]
    train_examples += corrupt(train_triples, names, config.negative_ratio, known, rng)
    dev_examples = [TripleExample(*t) for t in dev_triples]
    dev_examples += corrupt(dev_triples, names, config.negative_ratio, known | {(h, t) for h, _, t in dev_triples}, rng)

    def dev_score(logits, labels) -> float:
        """Mean probability of the gold class on dev: smooth, and what ranking by probability rewards."""
        return float(logits.softmax(-1).gather(1, labels[:, None]).mean())

    return train(model, _items(model, task, train_examples), _items(model, task, dev_examples),
                 batch_size=config.batch_size, eval_batch_size=config.eval_batch_size, patience=config.patience,
                 seed=config.seed, evaluate=dev_score,
                 auxiliary_weight=config.entity_loss_weight if config.entity_loss else 0.0,
                 progress=progress, cancel=cancel)


class PairScores:
    """p(r | h, t) for the pairs a ranking needs, computed once each and kept."""

    def __init__(self, model: PromptClassifier, task: LpTask) -> None:
        self.model, self.task = model, task
        self.cache: dict[tuple[str, str], np.ndarray] = {}

    def fill(self, pairs: Iterable[tuple[str, str]]) -> None:
        missing = sorted({p for p in pairs if p not in self.cache})
        if not missing:
            return
        probs = self.model.probabilities([self.model.encode_pair(self.task.entities[h], self.task.entities[t])
                                          for h, t in missing]).numpy()
        self.cache.update(zip(missing, probs))

    def score(self, head: str, relation: str, tail: str) -> float:
        return float(self.cache[(head, tail)][self.model.index[relation]])


def candidate_lists(test: Sequence[Triple], entity_names: Sequence[str], sample: Optional[int], seed: int
                    ) -> list[tuple[list[str], list[str]]]:
    """Per test triple: (tail candidates, head candidates): every entity, or `sample` random ones plus the answer."""
    if sample is None or sample >= len(entity_names):
        return [(list(entity_names), list(entity_names))] * len(test)
    rng = random.Random(seed)
    lists = []
    for head, _, tail in test:
        tails = rng.sample(list(entity_names), sample)
        heads = rng.sample(list(entity_names), sample)
        lists.append(([tail] + [e for e in tails if e != tail], [head] + [e for e in heads if e != head]))
    return lists


def rank_evaluation(score_tails, score_heads, test: Sequence[Triple], known: set[Triple],
                    candidates: Sequence[tuple[list[str], list[str]]]) -> dict[str, float]:
    """MR, MRR, Hits@1/3/10, raw and filtered, over head and tail queries.

    `score_tails(h, r, names)` and `score_heads(t, r, names)` return one score per candidate (higher = more
    plausible), so the prompt model and the PyKEEN baselines are ranked by the same code.
    """
    raw, filtered = [], []
    for (head, relation, tail), (tail_candidates, head_candidates) in zip(test, candidates):
        tail_scores = np.asarray(score_tails(head, relation, tail_candidates), dtype=float)
        target = tail_candidates.index(tail)
        others = [i for i, e in enumerate(tail_candidates) if (head, relation, e) in known]
        raw.append(rank_of(tail_scores, target))
        filtered.append(rank_of(tail_scores, target, others))
        head_scores = np.asarray(score_heads(tail, relation, head_candidates), dtype=float)
        target = head_candidates.index(head)
        others = [i for i, e in enumerate(head_candidates) if (e, relation, tail) in known]
        raw.append(rank_of(head_scores, target))
        filtered.append(rank_of(head_scores, target, others))
    return {**rank_metrics(raw, "raw"), **rank_metrics(filtered, "filtered")}


def evaluate(model: PromptClassifier, task: LpTask, test: Sequence[Triple], known: set[Triple],
             candidates: Sequence[tuple[list[str], list[str]]]) -> tuple[dict[str, float], float]:
    started = time.perf_counter()
    scores = PairScores(model, task)
    pairs = [(h, e) for (h, _, _), (tails, _) in zip(test, candidates) for e in tails]
    pairs += [(e, t) for (_, _, t), (_, heads) in zip(test, candidates) for e in heads]
    scores.fill(pairs)
    metrics = rank_evaluation(
        lambda h, r, names: [scores.score(h, r, e) for e in names],
        lambda t, r, names: [scores.score(e, r, t) for e in names],
        test, known, candidates,
    )
    return metrics, time.perf_counter() - started
