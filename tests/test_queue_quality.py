"""The pieces behind a trustworthy queue: kinds learned without types, the structural pre-filter's recall on
planted facts, the combiner's fit and calibration, and the margin order."""
from __future__ import annotations

import math
import numpy as np
import pytest

from engine.candidates import Kinds, candidates
from engine.combiner import FEATURES, MIN_FACTS, Combiner, fit_combiner
from engine.ranking import pair_margins, select
from engine.roles import Roles
from engine.structure import StructuralModel, StructureConfig

EUROPE = [("paris", "capital_of", "france"), ("madrid", "capital_of", "spain"), ("rome", "capital_of", "italy"),
          ("france", "borders", "spain"), ("france", "borders", "italy"), ("spain", "borders", "portugal"),
          ("paris", "located_in", "france"), ("lisbon", "located_in", "portugal"),
          ("seine", "flows_through", "france"), ("tagus", "flows_through", "spain")]
UNTYPED = {e: None for h, _, t in EUROPE for e in (h, t)}


def test_without_types_the_kinds_come_from_the_places_entities_fill():
    roles = Roles(EUROPE)
    assert roles.fit("madrid", "capital_of", "tail") == 0.0  # a city: never where countries are
    assert roles.fit("portugal", "capital_of", "tail") > 0.4  # a country without a known capital
    kinds = Kinds(EUROPE, UNTYPED, {"capital_of": (None, None)})
    heads, tails = kinds.sides["capital_of"]
    assert "madrid" not in tails and "seine" not in tails and "portugal" in tails
    assert "lisbon" in heads and "france" not in heads
    assert kinds.fit("paris", "capital_of", "madrid") == 0.0 and kinds.fit("lisbon", "capital_of", "portugal") > 0.3
    [capital] = candidates(EUROPE, UNTYPED, {"capital_of": (None, None)}, set(EUROPE), max_pairs=100)
    assert ("paris", "madrid") not in capital.pairs and ("lisbon", "portugal") in capital.pairs


def test_declared_types_still_decide_where_there_are_types():
    types = {**UNTYPED, "madrid": "city", "paris": "city", "rome": "city", "lisbon": "city",
             "france": "country", "spain": "country", "italy": "country", "portugal": "country"}
    kinds = Kinds(EUROPE, types, {"capital_of": (None, None)})
    assert kinds.fit("lisbon", "capital_of", "portugal") == 1.0 and kinds.fit("paris", "capital_of", "madrid") == 0.0


def _ring(size: int = 20):
    """`next` links each entity to the following one and `prev` back; four `next` links are hidden, but their
    `prev` twins are known: a pattern a rotation learns and two-hop proximity cannot rank."""
    names = [f"e{i}" for i in range(size)]
    forward = [(names[i], "next", names[(i + 1) % size]) for i in range(size)]
    backward = [(names[(i + 1) % size], "prev", names[i]) for i in range(size)]
    hidden = [forward[i] for i in (2, 7, 12, 17)]
    return names, [f for f in forward + backward if f not in hidden], hidden


def test_the_structural_pre_filter_finds_planted_facts_the_proximity_order_misses():
    names, kept, hidden = _ring()
    # pinned seed: the tiny ring is learnt on most seeds, not all (seed 2 finds half)
    config = StructureConfig(interactions=("rotate",), embedding_dim=16, epochs=200, batch_size=16, seed=1)
    model = StructuralModel(names, ["next", "prev"], kept, "rotate", config)
    model.fit()
    budget = 10  # of 340 open pairs
    untyped = {n: None for n in names}
    [ranked] = candidates(kept, untyped, {"next": (None, None)}, set(kept), budget, structure=model)
    [near] = candidates(kept, untyped, {"next": (None, None)}, set(kept), budget, seed=1)
    recall = lambda pairs: sum((h, t) in set(pairs) for h, _, t in hidden) / len(hidden)  # noqa: E731
    assert len(ranked.pairs) == budget and ranked.capped
    assert recall(ranked.pairs) >= 0.75 > recall(near.pairs)
    # its opinion (0..1): a hidden fact above most random pairs, and above a pair two steps apart
    two_steps = [(h, "next", names[(int(h[1:]) + 2) % 20]) for h, _, _ in hidden]
    assert (model.opinion(hidden) > 0.4).all() and model.opinion(hidden).min() > model.opinion(two_steps).max()


def test_a_saved_structural_model_gives_the_same_opinions(tmp_path):
    names, kept, hidden = _ring()
    model = StructuralModel(names, ["next", "prev"], kept, "rotate", StructureConfig(embedding_dim=8, epochs=5))
    model.fit()
    model.save(tmp_path / "structure")
    again = StructuralModel.load(tmp_path / "structure")
    probe = hidden + [("e0", "prev", "e5"), ("e0", "next", "new entity")]
    mine, theirs = model.opinion(probe), again.opinion(probe)
    assert np.allclose(mine[:-1], theirs[:-1]) and math.isnan(theirs[-1]) and (0 <= theirs[:-1]).all()
    assert StructuralModel.load(tmp_path / "nothing here") is None


def _rows(n: int, shift: float, rng: np.random.Generator) -> np.ndarray:
    rows = rng.normal(0.0, 1.0, size=(n, len(FEATURES)))
    rows[:, 0] += shift  # the text model separates; the other features are noise
    rows[:, 1] += shift / 2
    return rows


def test_the_combiner_separates_and_its_calibration_is_not_flat():
    rng = np.random.default_rng(0)
    combiner, report = fit_combiner(_rows(120, 3.0, rng), _rows(480, 0.0, rng))
    assert report.fitted and report.auc > 0.95 and report.ece < 0.08
    assert report.above_08 > 0.1 and report.below_02 > 0.5  # confident both ways: not squeezed towards 0.5
    assert report.weights["text"] > abs(report.weights["fit"])
    probe = _rows(200, 3.0, rng)
    assert combiner.probability(probe).mean() > 0.6 > combiner.probability(_rows(200, 0.0, rng)).mean()
    again = Combiner.from_dict(combiner.as_dict())
    assert np.allclose(again.probability(probe), combiner.probability(probe))
    assert Combiner.from_dict({**combiner.as_dict(), "features": ["text"]}) is None  # another version's
    unknown = probe[:3].copy()
    unknown[:, FEATURES.index("graph")] = np.nan  # an entity the structural model has not seen
    filled = unknown.copy()
    filled[:, FEATURES.index("graph")] = combiner.graph_fill
    assert np.allclose(combiner.probability(unknown), combiner.probability(filled))


def test_too_few_facts_fit_no_combiner_and_say_so():
    rng = np.random.default_rng(1)
    combiner, report = fit_combiner(_rows(MIN_FACTS - 1, 3.0, rng), _rows(200, 0.0, rng))
    assert combiner is None and not report.fitted and "too few" in report.reason


def test_margins_rank_the_whole_pool_and_uncertain_pairs_join_the_queue():
    confidence = {("a", "r", "b"): 0.95, ("a", "s", "b"): 0.05, ("c", "r", "d"): 0.5, ("e", "r", "f"): 0.3,
                  ("g", "s", "h"): 0.9}
    margins = pair_margins(confidence)
    assert margins[("a", "r", "b")] == margins[("a", "s", "b")] == pytest.approx(0.9)
    assert margins[("c", "r", "d")] == 0.0 and margins[("e", "r", "f")] == pytest.approx(0.4)
    queue = select(confidence, margins, per_relation=1, uncertain=1)
    top = {("a", "r", "b"), ("g", "s", "h")}
    assert set(queue) == top | {("c", "r", "d")}  # the r and s bests, and the pool's closest tie
    stated = select(confidence, margins, per_relation=1, stated=[("e", "r", "f")], min_text=0.25)
    assert ("e", "r", "f") in stated


def test_uncalibrated_text_findings_are_capped_per_relation():
    """A corpus can give thousands of pairs a text probability over the threshold; where no combiner reads the
    text to calibrate them, only each relation's most confident findings join the queue."""
    confidence = {(f"h{i}", "r", f"t{i}"): 0.6 + i / 100 for i in range(30)}
    stated = list(confidence)
    margins = pair_margins(confidence)
    assert len(select(confidence, margins, per_relation=0, stated=stated)) == 30
    capped = select(confidence, margins, per_relation=0, stated=stated, stated_per_relation=5)
    assert set(capped) == {(f"h{i}", "r", f"t{i}") for i in range(25, 30)}
