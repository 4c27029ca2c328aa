"""Confidence that means what it says: temperature scaling (one scalar T dividing the logits, fitted to
minimise the negative log-likelihood of held-out labels; Guo et al., 2017) and the expected calibration error
with the bins of a reliability diagram.

Temperature scaling keeps the ranking (argmax and order of scores are unchanged), so it costs no accuracy and
cannot be overfitted much by a handful of labels: one parameter.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

T_GRID = np.exp(np.linspace(np.log(0.05), np.log(20.0), 241))
#: held-out items needed before a temperature is fitted at all: one scalar fitted on 9 labels (T = 4.5) squeezed
#: every confidence into 0.33-0.67
MIN_CALIBRATION_ITEMS = 30


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    e = np.exp(scaled)
    return e / e.sum(axis=1, keepdims=True)


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    probs = softmax(logits, temperature)
    return float(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)).mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T in [0.05, 20] that minimises held-out NLL (a dense log-spaced grid, then a local refinement);
    1.0 when there is nothing to fit on."""
    logits, labels = np.asarray(logits, dtype=np.float64), np.asarray(labels)
    if len(labels) == 0:
        return 1.0
    losses = [nll(logits, labels, t) for t in T_GRID]
    best = int(np.argmin(losses))
    low, high = T_GRID[max(0, best - 1)], T_GRID[min(len(T_GRID) - 1, best + 1)]
    fine = np.linspace(low, high, 41)
    return float(fine[int(np.argmin([nll(logits, labels, t) for t in fine]))])


@dataclass
class Reliability:
    """Per confidence bin: mean confidence, accuracy and count; `ece` weighs |accuracy - confidence| by count."""

    ece: float
    bins: list[tuple[float, float, float, int]]  # (bin upper edge, mean confidence, accuracy, count)


def reliability(confidences: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> Reliability:
    confidences, correct = np.asarray(confidences, dtype=float), np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins, ece = [], 0.0
    which = np.clip(np.digitize(confidences, edges[1:-1], right=True), 0, n_bins - 1)
    for b in range(n_bins):
        mask = which == b
        count = int(mask.sum())
        if count:
            confidence, accuracy = float(confidences[mask].mean()), float(correct[mask].mean())
            ece += count / len(confidences) * abs(accuracy - confidence)
            bins.append((float(edges[b + 1]), confidence, accuracy, count))
    return Reliability(float(ece), bins)


def top_label_reliability(probs: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> Reliability:
    """Reliability of the predicted class's probability (the usual multi-class ECE)."""
    probs, labels = np.asarray(probs), np.asarray(labels)
    if len(labels) == 0:
        return Reliability(0.0, [])
    return reliability(probs.max(axis=1), probs.argmax(axis=1) == labels, n_bins)
