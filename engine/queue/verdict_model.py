"""Curators' verdicts as labelled data: the pending queue re-ranked from them in seconds, without a retrain.

After a retrain on a small KG, 33 rejections and 8 accepts taught the queue nothing until the next retrain, and
that one's top 30 held 1 fact. Every suggestion keeps its opinions (what the sentences say, the best pattern of
the graph, whether it is a second value, the names' probability, the structural opinion), so the judged ones
are rows of a small logistic regression whose label is the verdict: thirty rejected "second author"
suggestions weigh the `second_value` feature down for every pending one. Its probabilities are fitted on the
curators' own verdicts, so they are also the recalibration of the confidence on this KG.

With verdicts of one kind only (a curator who rejects everything) there is nothing to separate: the confidences
are shifted as a whole, by the log-odds between the share accepted (Beta(1, 1) smoothed) and the mean
confidence the judged ones were shown with.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from engine.queue.policy import QueuePolicy


@dataclass(frozen=True)
class Row:
    """One suggestion as the verdict model reads it: its relation, the model's confidence before any re-rank
    and its stored opinions."""

    relation: str
    prior: float
    opinions: dict


@dataclass
class Reranked:
    """New confidences of the pending rows (in their order), and what they were learnt from, in words."""

    confidence: list[float]
    verdicts: int
    accepted: int
    method: str
    #: the kinds of suggestions the verdicts said most about: (what, accepted, judged)
    kinds: list[tuple[str, int, int]] = field(default_factory=list)

    def summary(self, moved_down: int, moved_up: int, largest: float = 0.0) -> str:
        """In words; `moved_down`/`moved_up` count confidences that changed by more than 0.01, `largest` is the
        biggest change (a trial's banner said "0 moved" while every confidence had shifted a little)."""
        kinds = "; ".join(f"{what}: {accepted} of {judged} accepted" for what, accepted, judged in self.kinds)
        moved = (f"{moved_down} suggestions moved down, {moved_up} up (the largest change in confidence "
                 f"{largest:.2f})" if moved_down or moved_up else
                 f"no confidence changed by more than 0.01 (the largest change {largest:.3f})")
        verb = "updated" if moved_down or moved_up else "re-checked"
        return (f"The order was {verb} from {self.verdicts} verdicts ({self.accepted} accepted, "
                f"{self.verdicts - self.accepted} rejected): {moved}"
                + (f"; the most judged: {kinds}" if kinds else "") + ".")


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _second(opinions: dict) -> Optional[dict]:
    return opinions.get("second_value")


def features(row: Row) -> list[float]:
    """prior, names, says, sentences, pattern, second value, graph, fit: what the verdicts' regression reads of a
    suggestion's stored opinions (the prior is its offset; the relation comes beside them, one-hot)."""
    o = row.opinions
    second = _second(o)
    pattern = o.get("pattern") or {}
    graph = o.get("graph")
    return [_logit(row.prior), _logit(float(o.get("text", 0.0))), float(o.get("says", 0.0)),
            1.0 if o.get("sentences") else 0.0, float(pattern.get("confidence", 0.0)),
            math.log(float(second["chance"]) + 1e-3) if second else 0.0,
            0.5 if graph is None else float(graph), float(o.get("fit", 1.0))]


def _kinds(judged: Sequence[Row], accepted: Sequence[bool], limit: int = 3) -> list[tuple[str, int, int]]:
    """The relations and the 'second value' kind with the most verdicts, and how they were judged."""
    counts: Counter = Counter()
    yes: Counter = Counter()
    for row, ok in zip(judged, accepted):
        keys = [row.relation] + (["a second value where the KG has one"] if _second(row.opinions) else [])
        for key in keys:
            counts[key] += 1
            yes[key] += ok
    return [(key, yes[key], n) for key, n in counts.most_common(limit) if n >= 2]


def rerank(judged: Sequence[Row], accepted: Sequence[bool], pending: Sequence[Row],
           policy: QueuePolicy = QueuePolicy()) -> Optional[Reranked]:
    """The pending rows' confidences learnt from the `judged` rows and their verdicts (`accepted`); None with
    fewer than `policy.min_verdicts` verdicts."""
    n, yes = len(judged), int(sum(accepted))
    if n < policy.min_verdicts or not pending:
        return None
    kinds = _kinds(judged, accepted)
    floor = min(row.prior for row in judged)
    if yes in (0, n):
        rate = (yes + 1) / (n + 2)
        shown = float(np.mean([row.prior for row in judged]))
        shift = _logit(rate) - _logit(shown)
        new = [1 / (1 + math.exp(-(_logit(row.prior) + shift))) for row in pending]
        return Reranked(_no_lift_below(new, pending, floor), n, yes, "shifted as a whole (verdicts of one kind)",
                        kinds)
    relations = sorted({row.relation for row in judged})

    def matrix(rows: Sequence[Row]) -> np.ndarray:
        own = np.array([features(row)[1:] for row in rows], dtype=float)
        onehot = np.array([[row.relation == r for r in relations] for row in rows], dtype=float)
        return np.hstack([own, onehot.reshape(len(rows), len(relations))])

    x, gold = matrix(judged), np.array(accepted, dtype=float)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    offset = np.array([_logit(row.prior) for row in judged])
    standard = (x - mean) / scale
    weights, bias = _fit_with_offset(standard, gold, offset, _penalty(standard, gold, offset))
    # a pending row is read within the judged rows' range: the verdicts say nothing about a second value ten
    # times rarer than any they judged, and a regression extrapolated there put a 0.04 at 0.98
    unseen = np.clip(matrix(pending), x.min(axis=0), x.max(axis=0))
    z = ((unseen - mean) / scale) @ weights + bias + np.array([_logit(row.prior) for row in pending])
    new = 1.0 / (1.0 + np.exp(-z))
    return Reranked(_no_lift_below(new.tolist(), pending, floor), n, yes,
                    "the model's confidence corrected by a logistic regression on the verdicts", kinds)


def _no_lift_below(new: Sequence[float], pending: Sequence[Row], floor: float) -> list[float]:
    """A pending suggestion the model was less sure of than any judged one only ever moves down: verdicts on
    the top of a queue say nothing good about its bottom (a curator's trial: after ten accepts, 190
    suggestions moved up and a false one went from 0.20 to 0.64)."""
    return [round(float(min(p, row.prior) if row.prior < floor else p), 6) for p, row in zip(new, pending)]


#: the L2 penalties tried; the one whose leave-one-out predictions of the verdicts fit best is used
PENALTIES = (1.0, 3.0, 10.0, 30.0, 100.0)


#: the verdicts are split into at most this many folds to choose the penalty (leave-one-out up to this many)
PENALTY_FOLDS = 10


def _penalty(x: np.ndarray, y: np.ndarray, offset: np.ndarray) -> float:
    """The penalty that predicts each verdict best from the others (cross-validated log loss over up to
    `PENALTY_FOLDS` folds, leave-one-out up to that many verdicts): on 30 verdicts a weak one moved false
    suggestions to 0.8-1.0 on a KG kept aside (football: 2 of 11 held)."""
    folds = np.arange(len(y)) % min(PENALTY_FOLDS, len(y))

    def held_out_loss(l2: float) -> float:
        total = 0.0
        for fold in np.unique(folds):
            keep = folds != fold
            w, b = _fit_with_offset(x[keep], y[keep], offset[keep], l2)
            p = 1.0 / (1.0 + np.exp(-(x[~keep] @ w + b + offset[~keep])))
            total -= float(np.sum(np.log(np.clip(np.where(y[~keep] > 0, p, 1.0 - p), 1e-9, 1.0))))
        return total

    return min(PENALTIES, key=held_out_loss)


def _fit_with_offset(x: np.ndarray, y: np.ndarray, offset: np.ndarray, l2: float = 1.0
                     ) -> tuple[np.ndarray, float]:
    """Weights and bias of a logistic regression whose log-odds start at `offset` (the model's own confidence)
    and move only as far as the verdicts pull them against an L2 penalty: thirty verdicts on the top of a queue
    say how to correct its confidences, not how to rank from nothing (a free regression put a rejected kind's
    0.04 at 0.99)."""
    from scipy.optimize import minimize

    width = x.shape[1]

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:width], params[width]
        z = x @ w + b + offset
        p = 1.0 / (1.0 + np.exp(-z))
        eps = 1e-9
        value = -np.sum(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)) + l2 * (w @ w + 0.1 * b * b)
        residual = p - y
        return value, np.concatenate([x.T @ residual + 2 * l2 * w, [residual.sum() + 0.2 * l2 * b]])

    found = minimize(loss, np.zeros(width + 1), jac=True, method="L-BFGS-B")
    return found.x[:width], float(found.x[width])
