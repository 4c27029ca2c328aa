"""The engine's pieces behind a retrain and a suggest pass: held-out splits and candidate pairs."""
from __future__ import annotations

from engine.queue.candidates import candidates, role_sets
from engine.joint import split_held_out
from engine.types import SentenceExample, TripleExample

FACTS = [("aspirin", "treats", "fever"), ("ibuprofen", "treats", "pain"), ("fever", "symptom_of", "flu")]
TYPES = {"aspirin": "drug", "ibuprofen": "drug", "naproxen": "drug", "fever": "symptom", "pain": "symptom",
         "cough": "symptom", "flu": "disease", "untyped": None}


def test_held_out_split_is_per_relation_and_never_empties_small_groups():
    triples = [TripleExample(f"h{i}", "treats", f"t{i}") for i in range(8)]
    triples += [TripleExample("a", "causes", "b"), TripleExample("c", "causes", "d")]
    sentences = [SentenceExample(("x", "y"), (0, 1), (1, 2), None) for _ in range(4)]
    train, held = split_held_out(triples, sentences, 0.25, seed=3)
    assert len(held.triples) == 2 and all(x.relation == "treats" for x in held.triples)
    assert len(held.sentences) == 1 and len(train) + len(held) == 14
    again_train, again_held = split_held_out(triples, sentences, 0.25, seed=3)
    assert again_held.triples == held.triples and again_train.triples == train.triples


def test_roles_follow_the_types_of_known_heads_and_tails():
    heads, tails = role_sets(FACTS, TYPES, "treats")
    assert heads == {"aspirin", "ibuprofen", "naproxen"} and tails == {"fever", "pain", "cough"}
    heads, tails = role_sets(FACTS, TYPES, "treats", head_type="disease")
    assert heads == {"flu", "aspirin", "ibuprofen"}


def test_candidates_skip_known_and_rejected_triples_and_respect_the_cap():
    known = set(FACTS) | {("naproxen", "treats", "cough")}  # a rejected suggestion is in `known` too
    [treats] = candidates(FACTS, TYPES, {"treats": (None, None)}, known, max_pairs=100)
    assert ("aspirin", "fever") not in treats.pairs and ("naproxen", "cough") not in treats.pairs
    assert len(treats.pairs) == 9 - 3 and not treats.capped
    assert all(TYPES[h] == "drug" and TYPES[t] == "symptom" for h, t in treats.pairs)
    [capped] = candidates(FACTS, TYPES, {"treats": (None, None)}, known, max_pairs=2, seed=1)
    assert capped.capped and len(capped.pairs) == 2 and set(capped.pairs) <= set(treats.pairs)


def test_pairs_two_hops_apart_survive_the_cap_first():
    facts = FACTS + [("aspirin", "interacts_with", "ibuprofen")]
    [near] = candidates(facts, TYPES, {"treats": (None, None)}, set(facts), max_pairs=2)
    assert set(near.pairs) == {("aspirin", "pain"), ("ibuprofen", "fever")}


def test_corrupted_negatives_keep_the_replaced_entitys_type():
    import random

    from engine.link_prediction import corrupt

    names = sorted(TYPES)
    negatives = corrupt([("aspirin", "treats", "fever")], names, 40, set(), random.Random(1), TYPES)
    assert len(negatives) == 40 and all(not n.holds for n in negatives)
    for negative in negatives:
        if negative.head != "aspirin":
            assert TYPES[negative.head] == "drug" and negative.tail == "fever"
        else:
            assert TYPES[negative.tail] == "symptom"


def test_facts_are_held_out_per_relation_within_a_limit():
    from engine.joint import hold_out_facts

    facts = [TripleExample(f"h{i}", "treats", f"t{i}") for i in range(40)]
    facts += [TripleExample(f"a{i}", "causes", f"b{i}") for i in range(2)]
    kept, held = hold_out_facts(facts, 0.25, limit=6, seed=0)
    assert len(held) == 3 and {x.relation for x in held} == {"treats"}
    assert sorted(kept + held, key=str) == sorted(facts, key=str)


def test_every_epoch_draws_a_fresh_sample_of_the_pool():
    import torch

    from engine.training import Pool

    pool = Pool([(f"item{i}", 0) for i in range(100)], per_epoch=10)
    generator = torch.Generator().manual_seed(0)
    first, second = pool.sample(generator), pool.sample(generator)
    assert len(first) == len(second) == pool.drawn == 10 and first != second
    assert Pool(list(range(3)), per_epoch=10).sample(generator) == [0, 1, 2]
    encoded = []
    lazy = Pool(list(range(1000)), per_epoch=5, encode=lambda i: encoded.append(i) or (f"enc{i}", 0))
    drawn = lazy.sample(generator)
    assert len(drawn) == 5 and sorted(encoded) == sorted(int(x[3:]) for x, _ in drawn)  # only the drawn ones


def test_held_out_facts_never_exceed_the_limit():
    from engine.joint import hold_out_facts

    facts = [TripleExample(f"h{i}", f"r{i % 10}", f"t{i}") for i in range(100)]
    _, held = hold_out_facts(facts, 0.5, limit=4, seed=0)
    assert len(held) == 4
