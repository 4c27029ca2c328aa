"""The structural second opinion (PyKEEN): trained on facts, its interaction chosen on held-out facts."""
from __future__ import annotations

import numpy as np

from engine.structure import StructureConfig, train_structure


def _ring_kg(size: int = 12):
    """`next` links each entity to the following one and `prev` back: a pattern any interaction can learn."""
    names = [f"e{i}" for i in range(size)]
    facts = [(names[i], "next", names[(i + 1) % size]) for i in range(size)]
    facts += [(names[(i + 1) % size], "prev", names[i]) for i in range(size)]
    return names, facts


def test_the_interaction_is_chosen_by_held_out_facts():
    names, facts = _ring_kg()
    held_out = [facts[0], facts[13]]
    kept = [f for f in facts if f not in held_out]
    config = StructureConfig(interactions=("distmult", "rotate"), embedding_dim=16, epochs=15, batch_size=8)
    seen = []
    model, report = train_structure(names, ["next", "prev"], kept, held_out, config, progress=lambda message, done: seen.append((message, done)))
    assert set(report.mrr) == {"distmult/16", "rotate/16"} and all(0.0 < m <= 1.0 for m in report.mrr.values())
    assert f"{report.interaction}/{report.embedding_dim}" == max(report.mrr, key=report.mrr.get)
    assert report.interaction == model.interaction
    scores = model.score([("e0", "next", "e1"), ("e0", "next", "e7")])
    assert scores.shape == (2,) and np.isfinite(scores).all()
    assert seen[-1] == ("structural model rotate/16 (2 of 2): epoch 15 of 15", 1.0)
    assert [done for _, done in seen] == sorted(done for _, done in seen)


def test_a_big_kg_trains_within_the_batch_budget():
    config = StructureConfig(epochs=100, batch_size=256, max_batches=3000)
    assert config.schedule(5216) == (100, 256)  # UMLS: 21 batches an epoch, all 100 epochs
    for facts in (86_835, 1_000_000):  # WN18RR, and a KG ten times its size
        epochs, batch_size = config.schedule(facts)
        assert 1 <= epochs < 100 and epochs * -(-facts // batch_size) <= 3000


def test_the_size_is_chosen_on_held_out_facts_too():
    names, facts = _ring_kg()
    held_out = [facts[0], facts[13]]
    config = StructureConfig(interactions=("rotate",), dims=(4, 16), epochs=10, batch_size=8)
    model, report = train_structure(names, ["next", "prev"], [f for f in facts if f not in held_out], held_out,
                                    config)
    assert set(report.mrr) == {"rotate/4", "rotate/16"}
    assert model.config.embedding_dim == report.embedding_dim
    assert report.mrr[f"rotate/{report.embedding_dim}"] == max(report.mrr.values())


def test_early_stopping_keeps_the_weights_that_ranked_the_held_out_facts_best():
    names, facts = _ring_kg()
    held_out = [facts[0], facts[13]]
    config = StructureConfig(embedding_dim=16, epochs=400, batch_size=8, patience=2, check_every=5)
    from engine.structure import PykeenModel

    model = PykeenModel(names, ["next", "prev"], [f for f in facts if f not in held_out], "rotate", config)
    model.fit(stop_on=held_out, known=set(facts))
    stopped = model.stopped
    assert stopped["epochs"] < 400 and stopped["epochs"] == stopped["best_epoch"] + 2 * 5
    assert round(model.mrr(held_out, set(facts)), 4) == stopped["best_mrr"]  # the best weights, not the last


def test_transe_scores_every_tail_as_pykeen_does():
    """TransE is scored with one `cdist` (L1, PyKEEN's default): the same numbers as PyKEEN's broadcast."""
    import torch

    from engine.structure import PykeenModel

    names, facts = _ring_kg()
    model = PykeenModel(names, ["next", "prev"], facts, "transe", StructureConfig(embedding_dim=8, epochs=3))
    model.fit()
    pykeen = model.model.score_t(torch.tensor([[0, 0], [3, 1]])).detach().numpy()
    assert np.allclose(model.tail_matrix(["e0", "e3"], "next")[0], pykeen[0], atol=1e-5)
    assert np.allclose(model.tail_matrix(["e3"], "prev")[0], pykeen[1], atol=1e-5)
