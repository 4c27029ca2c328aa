"""Metrics against cases worked out by hand."""
from __future__ import annotations

import numpy as np
import pytest

from engine.metrics import accuracy, micro_f1, rank_metrics, rank_of


def test_micro_f1_ignores_no_relation():
    gold = [0, 1, 1, 2, 2, 2]
    predicted = [1, 1, 0, 2, 2, 1]
    # label 0 ignored: predicted positives = 5 (1,1,2,2,1), correct = 3 (1, 2, 2); gold positives = 5
    assert micro_f1(gold, predicted, ignore=[0]) == pytest.approx(2 * 0.6 * 0.6 / 1.2)
    assert micro_f1(gold, predicted) == pytest.approx(3 / 6)
    assert micro_f1([0, 0], [0, 0], ignore=[0]) == 0.0
    assert accuracy(gold, predicted) == pytest.approx(3 / 6)


def test_ranks_raw_filtered_and_ties():
    scores = np.array([0.9, 0.5, 0.7, 0.1])
    assert rank_of(scores, 1) == 3.0
    assert rank_of(scores, 1, exclude=[0]) == 2.0
    assert rank_of(np.zeros(5), 2) == 3.0, "ties count half"
    metrics = rank_metrics([1, 2, 10, 20], "raw")
    assert metrics["mr_raw"] == 8.25
    assert metrics["mrr_raw"] == pytest.approx((1 + 0.5 + 0.1 + 0.05) / 4)
    assert (metrics["hits@1_raw"], metrics["hits@3_raw"], metrics["hits@10_raw"]) == (0.25, 0.5, 0.75)


def test_per_label_report_leaves_out_the_ignored_label():
    from engine.metrics import per_label

    report = per_label([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], ["treats", "causes", "none"], ignore=[2])
    assert report == [
        {"relation": "treats", "precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2},
        {"relation": "causes", "precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1},
    ]
    assert round(micro_f1([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], ignore=[2]), 4) == 0.5714  # P 2/4, R 2/3
