"""Temperature scaling lowers the calibration error of an over-confident model and keeps its ranking."""
from __future__ import annotations

import numpy as np

from engine.calibration import fit_temperature, reliability, softmax, top_label_reliability


def _overconfident(n=2000, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    logits = rng.normal(0, 1, (n, classes))
    logits[np.arange(n), labels] += 1.0  # right about 55 % of the time ...
    return logits * 6.0, labels           # ... but sure of itself


def test_temperature_scaling_lowers_ece_on_a_miscalibrated_model():
    logits, labels = _overconfident()
    t = fit_temperature(logits[:1000], labels[:1000])
    before = top_label_reliability(softmax(logits[1000:]), labels[1000:])
    after = top_label_reliability(softmax(logits[1000:], t), labels[1000:])
    assert t > 2.0 and before.ece > 0.2 and after.ece < 0.05
    assert (softmax(logits, t).argmax(1) == logits.argmax(1)).all()


def test_a_calibrated_model_keeps_a_temperature_near_one():
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 2, (4000, 3))
    labels = np.array([rng.choice(3, p=p) for p in softmax(logits)])
    assert 0.85 < fit_temperature(logits, labels) < 1.15


def test_reliability_bins_and_ece_by_hand():
    result = reliability(np.array([0.95, 0.95, 0.15, 0.15]), np.array([1, 0, 0, 0]))
    assert [(round(c, 2), a, n) for _, c, a, n in result.bins] == [(0.15, 0.0, 2), (0.95, 0.5, 2)]
    assert abs(result.ece - (0.5 * 0.15 + 0.5 * 0.45)) < 1e-9
    assert fit_temperature(np.zeros((0, 3)), np.zeros(0, dtype=int)) == 1.0


def test_a_handful_of_held_out_items_fits_no_temperature():
    """Nine labels fitted T = 4.5 and squeezed every confidence into 0.33-0.67: below the minimum the model keeps
    its own probabilities, at it a temperature is fitted."""
    from engine import joint
    from engine.calibration import MIN_CALIBRATION_ITEMS
    from tests.engine_helpers import EXAMPLES, RELATIONS, tiny_config

    model = joint.build(RELATIONS, tiny_config())

    def measured(examples):
        items = joint.measured_items(model, {}, joint.LabelledSet(sentences=examples))
        logits = model.logits_for([encoded for encoded, _ in items]).numpy()
        return joint.report(model, logits, np.array([label for _, label in items]))

    few = measured(EXAMPLES)
    assert few.held_out == len(EXAMPLES) < MIN_CALIBRATION_ITEMS and few.temperature == 1.0 == model.temperature
    many = measured(EXAMPLES * 4)
    assert many.held_out >= MIN_CALIBRATION_ITEMS and many.temperature != 1.0
