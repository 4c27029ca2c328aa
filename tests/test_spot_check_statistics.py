"""The spot check's statistics: a stratified sample by confidence band, a Wilson interval per band with the
finite-population correction, and their weighting by the rest of the slice; simulated audits cover the truth."""
from __future__ import annotations

import random

import pytest

from engine.spot_check import Stratum, band_of, draw, estimate, wilson


def test_the_sample_is_stratified_by_band_and_takes_everything_from_a_small_slice():
    items = [(i, 0.55) for i in range(100)] + [(100 + i, 0.95) for i in range(300)]
    sample = draw(items, 40, seed=1)
    assert len(sample) == 40 and len(set(sample)) == 40
    assert sum(i < 100 for i in sample) == 10  # a quarter of the slice, a quarter of the sample
    assert draw(items, 40, seed=1) == sample and draw(items, 40, seed=2) != sample
    assert draw(items[:30], 40, seed=1) == list(range(30))
    # a band too small for its share still gets one item
    tiny = [(0, 0.72)] + [(i, 0.91) for i in range(1, 500)]
    assert 0 in draw(tiny, 20, seed=3) and band_of(0.72) != band_of(0.91)


def test_wilson_with_the_population_correction_narrows_as_the_band_is_judged():
    plain = wilson(18, 20)
    corrected = wilson(18, 20, population=25)
    assert plain[0] < 0.9 < plain[1] and plain[0] < corrected[0] and corrected[1] <= plain[1]
    assert wilson(18, 20, population=20) == (0.9, 0.9)
    assert wilson(0, 0) == (0.0, 1.0)


def test_the_estimate_weights_the_bands_by_what_is_left_and_says_nothing_of_an_unjudged_band():
    strata = [Stratum(0, size=100, judged=10, held=5, rest=90), Stratum(1, size=300, judged=30, held=30, rest=270)]
    found = estimate(strata)
    assert found.precision == pytest.approx(0.25 * 0.5 + 0.75 * 1.0)
    assert found.low < found.precision < found.high and found.rest == 360 and found.judged == 40
    unjudged = estimate([Stratum(0, 50, 0, 0, 50), Stratum(1, 50, 10, 10, 40)])
    assert unjudged.precision is None and unjudged.low < 0.5 and unjudged.high == 1.0


def test_simulated_audits_cover_the_rest_s_true_precision():
    """100 audits of 40 from slices of 200–1,000 with band-dependent precision: the stated interval contains the
    rest's true precision in at least 90 % of them."""
    rng = random.Random(7)
    covered = trials = 0
    for size in (200, 500, 1000):
        confidences = [rng.uniform(0.5, 1.0) for _ in range(size)]
        truth = {i: rng.random() < 0.35 + 0.6 * c for i, c in enumerate(confidences)}
        items = list(enumerate(confidences))
        for seed in range(34):
            sample = set(draw(items, 40, seed))
            strata = []
            for band in {band_of(c) for c in confidences}:
                members = [i for i, c in items if band_of(c) == band]
                judged = [i for i in members if i in sample]
                strata.append(Stratum(band, len(members), len(judged), sum(truth[i] for i in judged),
                                      len(members) - len(judged)))
            found = estimate(strata)
            rest = [i for i, _ in items if i not in sample]
            true = sum(truth[i] for i in rest) / len(rest)
            covered += found.low <= true <= found.high
            trials += 1
    assert covered / trials >= 0.9


def test_the_audit_benchmark_judges_slices_from_the_truth():
    from bench.audit import simulate, slices

    rng = random.Random(1)
    shown = sorted(((("h%d" % i, "r", "t%d" % i), 0.5 + 0.5 * rng.random()) for i in range(600)), key=lambda x: -x[1])
    truth = {t for t, c in shown if rng.random() < c}
    found = slices(shown)
    assert list(found) == ["top 200", "top 500", "relation r"] and len(found["top 500"]) == 500
    measured = simulate(found["top 200"], truth, audits=50, sample=40)
    assert measured["size"] == 200 and measured["audits"] == 50 and measured["coverage"] >= 0.85
    assert 0 < measured["mean_width"] < 0.4
