"""Metrics, as the literature computes them: micro-F1 without the no-relation label; rank metrics raw and filtered."""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np


def micro_f1(gold: Sequence[int], predicted: Sequence[int], ignore: Iterable[int] = ()) -> float:
    """Micro-F1 over every label except `ignore` (e.g. Other): each direction of a relation is its own label."""
    ignore = set(ignore)
    gold, predicted = np.asarray(gold), np.asarray(predicted)
    predicted_positive = ~np.isin(predicted, list(ignore))
    gold_positive = ~np.isin(gold, list(ignore))
    correct = int(np.sum((gold == predicted) & gold_positive))
    precision = correct / max(1, int(predicted_positive.sum()))
    recall = correct / max(1, int(gold_positive.sum()))
    return 0.0 if correct == 0 else 2 * precision * recall / (precision + recall)


def accuracy(gold: Sequence[int], predicted: Sequence[int]) -> float:
    gold, predicted = np.asarray(gold), np.asarray(predicted)
    return float(np.mean(gold == predicted)) if len(gold) else 0.0


def rank_of(scores: np.ndarray, target: int, exclude: Iterable[int] = ()) -> float:
    """Rank of `target` among `scores` (1 = best); `exclude` (other true answers) is removed first (filtered).

    Ties count half, the "realistic" rank: a constant scorer ranks the target in the middle, not first.
    """
    keep = np.ones(len(scores), dtype=bool)
    excluded = [i for i in exclude if i != target]
    keep[excluded] = False
    others = scores[keep]
    value = scores[target]
    higher = int(np.sum(others > value))
    ties = int(np.sum(others == value)) - 1
    return 1.0 + higher + ties / 2.0


def rank_metrics(ranks: Sequence[float], prefix: str) -> dict[str, float]:
    ranks = np.asarray(ranks, dtype=float)
    if not len(ranks):
        return {}
    return {
        f"mr_{prefix}": float(ranks.mean()),
        f"mrr_{prefix}": float(np.mean(1.0 / ranks)),
        **{f"hits@{k}_{prefix}": float(np.mean(ranks <= k)) for k in (1, 3, 10)},
    }
