"""Metrics, as the literature computes them: micro-F1 without the no-relation label; rank metrics raw and filtered."""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np


def _kept_labels(gold: Sequence[int], predicted: Sequence[int], ignore: Iterable[int]) -> list[int]:
    return sorted((set(np.asarray(gold).tolist()) | set(np.asarray(predicted).tolist())) - set(ignore))


def micro_f1(gold: Sequence[int], predicted: Sequence[int], ignore: Iterable[int] = ()) -> float:
    """Micro-F1 over every label except `ignore` (e.g. Other): each direction of a relation is its own label
    (scikit-learn's, restricted to the kept labels)."""
    from sklearn.metrics import f1_score

    labels = _kept_labels(gold, predicted, ignore)
    if not labels:
        return 0.0
    return float(f1_score(gold, predicted, labels=labels, average="micro", zero_division=0))


def per_label(gold: Sequence[int], predicted: Sequence[int], names: Sequence[str], ignore: Iterable[int] = ()
              ) -> list[dict]:
    """Precision, recall, F1 and support of each label that occurs (gold or predicted), `ignore` left out:
    which relations a model gets and which it misses, where one micro-F1 hides it."""
    from sklearn.metrics import precision_recall_fscore_support

    labels = _kept_labels(gold, predicted, ignore)
    if not labels:
        return []
    precision, recall, f1, support = precision_recall_fscore_support(gold, predicted, labels=labels,
                                                                     zero_division=0)
    return [{"relation": names[label], "precision": round(float(p), 4), "recall": round(float(r), 4),
             "f1": round(float(f), 4), "support": int(n)}
            for label, p, r, f, n in zip(labels, precision, recall, f1, support)]


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
