"""Suggestions from text and from the graph with a stub model at the engine's boundary: mentions, evidence,
type marks, and the score cache (a second pass makes no model call)."""
from __future__ import annotations

import pytest
import torch

from engine.mention_index import MentionIndex
from engine.text_candidates import aggregate, mention_pairs
from engine.types import NO_RELATION, RelationSpec
from knowco.scoring import CachedScorer
from knowco.services import Actor, evidence, import_document, list_relations, queue, seed_demo
from engine.queue.policy import QueuePolicy
from knowco.suggest import Planning, plan_suggestions, write_suggestions
from storage.text_split import tokenize
from tests.storage_helpers import finished_runs, queued

ANN = Actor("ann", "admin")


class StubModel:
    """Says `treats` with p=0.9 for any sentence whose head is a drug name it knows, else no relation; every
    pair gets a flat distribution. Counts what it is asked."""

    def __init__(self, relations):
        self.classes = [RelationSpec(r, r) for r in relations] + [RelationSpec(NO_RELATION, "no relation")]
        self.index = {c.name: i for i, c in enumerate(self.classes)}
        self.calls = 0

    def encode_pair(self, head, tail):
        return ("pair", head.name, tail.name)

    def encode_sentence(self, example):
        return ("sentence", " ".join(example.tokens[example.head[0]:example.head[1]]).lower())

    def probabilities(self, items):
        self.calls += len(items)
        rows = []
        for item in items:
            row = torch.full((len(self.classes),), 0.1 / (len(self.classes) - 1))
            if item[0] == "sentence" and item[1] in ("aspirin", "metformin"):
                row[self.index["treats"]] = 0.9
            elif item[0] == "sentence":
                row[self.index[NO_RELATION]] = 0.9
            else:
                row = torch.full((len(self.classes),), 1.0 / len(self.classes))
            rows.append(row)
        return torch.stack(rows)


def test_mentions_longest_leftmost_case_punctuation_unicode():
    index = MentionIndex([("type 2 diabetes", "t2d"), ("diabetes", "diabetes"), ("Aspirin", "aspirin"),
                          ("Sjögren syndrome", "sjogren"), ("IL-6", "il6"), ("São Paulo", "sp")], tokenize)
    tokens = tokenize("TYPE 2 Diabetes, aspirin; (Aspirin) aspirinate IL-6 sjögren SYNDROME — são Paulo.")
    assert [(" ".join(tokens[m.start:m.end]), m.entity) for m in index.find(tokens)] == [
        ("TYPE 2 Diabetes", "t2d"), ("aspirin", "aspirin"), ("Aspirin", "aspirin"), ("IL-6", "il6"),
        ("sjögren SYNDROME", "sjogren"), ("são Paulo", "sp")]
    assert MentionIndex([], tokenize).find(tokens) == []


def test_a_possessive_s_does_not_hide_the_name_it_ends():
    """From a curator's trial: "Hungary's capital, Budapest" never mentioned Hungary."""
    index = MentionIndex([("Hungary", "hungary"), ("Budapest", "budapest"), ("Alzheimer's disease", "ad")],
                         tokenize)
    tokens = tokenize("Hungary’s capital, Budapest, studies Alzheimer's disease.")
    assert [(tokens[m.start], m.entity) for m in index.find(tokens)] == [
        ("Hungary’s", "hungary"), ("Budapest", "budapest"), ("Alzheimer's", "ad")]


def test_evidence_from_several_sentences_makes_one_suggestion():
    index = MentionIndex([("aspirin", "aspirin"), ("fever", "fever")], tokenize)
    sentences = [(1, tokenize("Aspirin lowers fever .")), (2, tokenize("Fever falls with aspirin ."))]
    pairs = mention_pairs(sentences, index)
    assert len(pairs) == 4
    verdicts = [{"treats": 0.8 if p.head.entity == "aspirin" else 0.1, NO_RELATION: 0.2} for p in pairs]
    verdicts[1] = {"treats": 0.1, NO_RELATION: 0.9}
    [found] = aggregate(pairs, verdicts, NO_RELATION, 0.5)
    assert (found.head, found.relation, found.tail, found.confidence) == ("aspirin", "treats", "fever", 0.8)
    assert [e[0] for e in found.evidence] == [1, 2]


@pytest.fixture
def demo_with_model(sqlite_db):
    seed_demo(sqlite_db, Actor("seeder", "admin"))
    [run] = finished_runs(sqlite_db, [{}], user="ann")
    return sqlite_db, run, StubModel([r.name for r in list_relations(sqlite_db)])


def _suggest(db, run, model, relation=None, **policy):
    """The suggest pass as a retrain runs it, with a stub model in place of a trained one."""
    plan = plan_suggestions(db, model, run.id, run.name, relation=relation,
                            planning=Planning(policy=QueuePolicy(**policy)))
    with db.transaction() as session:
        return write_suggestions(session, plan, "ann")


def test_text_suggestions_carry_their_sentences(demo_with_model):
    db, run, model = demo_with_model
    import_document(db, ANN, "notes.txt", b"Aspirin can relieve gout flares.\nMetformin helps with obesity.")
    report = _suggest(db, run, model, per_relation=0, max_pairs=50)
    assert report.text_suggestions >= 2
    queued = {(s.head, s.relation, s.tail): s for s in queue(db, limit=500)}
    gout = queued[("aspirin", "treats", "gout")]
    tokens, head, tail, score = evidence(db, gout.id).sentences[0]
    assert " ".join(tokens[slice(*head)]) == "Aspirin" and " ".join(tokens[slice(*tail)]) == "gout"
    # the stub reads 0.9 treats; the kinds give it the relation mass of the relations a drug and a disease never take
    assert 0.9 <= score <= 1.0
    # metformin treats obesity is already an accepted fact: never suggested
    assert ("metformin", "treats", "obesity") not in queued


def test_a_second_pass_with_the_same_version_makes_no_model_call(demo_with_model):
    db, run, model = demo_with_model
    import_document(db, ANN, "notes.txt", b"Aspirin can relieve gout flares.")
    first = _suggest(db, run, model, per_relation=3, max_pairs=40)
    assert first.model_calls == model.calls > 0
    calls = model.calls
    second = _suggest(db, run, model, per_relation=3, max_pairs=40)
    assert model.calls == calls and second.model_calls == 0 and second.rescored == first.new
    import_document(db, ANN, "more.txt", b"Aspirin may help with insomnia.")
    third = _suggest(db, run, model, per_relation=3, max_pairs=40)
    assert 0 < third.model_calls <= 3  # only the new sentence's two mention pairs and the pair it states


def test_cache_is_per_model_version(demo_with_model):
    db, run, model = demo_with_model
    [other, _] = finished_runs(db, [{}], user="ann")
    from engine.types import EntityText
    pairs = [(EntityText("a", "a"), EntityText("b", "b"))]
    CachedScorer(db, run.id, model).pairs(pairs)
    again = CachedScorer(db, run.id, model)
    again.pairs(pairs)
    fresh = CachedScorer(db, other.id, model)
    fresh.pairs(pairs)
    assert (again.model_calls, fresh.model_calls) == (0, 1)


def test_suggestions_breaking_the_relation_types_are_marked_not_hidden(demo_with_model):
    db, run, model = demo_with_model
    queued(db, [("headache", "treats", "aspirin", 0.7), ("aspirin", "treats", "gout", 0.6)], run_id=run.id)
    marks = {(s.head, s.tail): s.type_violation for s in queue(db)}
    assert marks[("aspirin", "gout")] is None
    assert "head is a symptom; the relation's heads are drug" in marks[("headache", "aspirin")]


def test_a_relation_marked_functional_gets_no_second_tail_for_a_head(demo_with_model):
    from knowco.services import mark_relation

    db, run, model = demo_with_model
    import_document(db, ANN, "notes.txt", b"Aspirin can relieve gout flares.")
    _suggest(db, run, model, per_relation=25, max_pairs=300)
    heads_with_fact = {h for h, r, _ in _facts(db) if r == "treats"}
    before = {(s.head, s.tail) for s in queue(db, relation="treats", limit=500)}
    assert any(h in heads_with_fact for h, _ in before)  # aspirin already treats something: a second tail offered
    assert mark_relation(db, ANN, "treats", functional=True) == {"functional": True, "symmetric": False,
                                                                 "one_head_per_tail": False}
    _suggest(db, run, model, per_relation=25, max_pairs=300)
    after = {(s.head, s.tail) for s in queue(db, relation="treats", limit=500)}
    assert not any(h in heads_with_fact for h, _ in after)  # (in the demo every drug has a treats fact)
    assert queue(db, limit=500)  # the other relations' suggestions stay
    assert [r.functional for r in list_relations(db) if r.name == "treats"] == [True]
    mark_relation(db, ANN, "treats", functional=False)
    mark_relation(db, ANN, "affects", functional=True)
    _suggest(db, run, model, per_relation=25, max_pairs=300)
    heads = [s.head for s in queue(db, relation="affects", limit=500)]
    assert heads and len(heads) == len(set(heads))  # one pass never offers two tails for one head


def _facts(db):
    from storage.labels import training_data

    with db.sessions() as session:
        return training_data(session).facts


def test_a_relation_that_holds_both_ways_gets_its_missing_reverses_suggested(demo_with_model):
    """`interacts_with` is marked symmetric: every fact of it whose reverse is not held becomes a candidate
    beside the pre-filter's pairs, and the Review queue tells such a suggestion from a reversal."""
    from knowco.services import mark_relation

    db, run, model = demo_with_model
    facts = [(h, t) for h, r, t in _facts(db) if r == "interacts_with"]
    missing = {(t, h) for h, t in facts if (t, h) not in set(facts)}
    assert missing
    mark_relation(db, ANN, "interacts_with", symmetric=True)
    report = _suggest(db, run, model, relation="interacts_with", per_relation=100, max_pairs=20)
    shown = {(s.head, s.tail): s for s in queue(db, relation="interacts_with", limit=500)}
    assert missing <= set(shown)
    assert report.candidates == 20 + len(missing)
    assert all(shown[pair].reverses_fact and shown[pair].opinions.get("both_ways") for pair in missing)


def test_a_standing_rule_puts_what_its_pattern_implies_in_the_queue(demo_with_model):
    """A curator makes a pattern a standing rule: the next pass suggests every pair its path links that is
    neither a fact nor judged, whatever the per-relation cap."""
    from knowco.services import drop_standing_rule, make_standing_rule, standing_rules

    db, run, model = demo_with_model
    facts = _facts(db)
    treats = [(h, t) for h, r, t in facts if r == "treats"]
    # "two drugs that treat the same disease": treats, then treats the other way
    implied = {(a, b) for a, d in treats for b, e in treats if d == e and a != b}
    interacting = {(h, t) for h, r, t in facts if r == "interacts_with"}
    # neither a fact nor a fact's reverse (whose way round the queue already knows)
    implied = {(a, b) for a, b in implied if (a, b) not in interacting and (b, a) not in interacting}
    assert len(implied) > 5
    pattern = {"rule": "treats ∘ treats⁻¹ ⇒ interacts_with", "body": [["treats", True], ["treats", False]],
               "relation": "interacts_with", "support": 3, "linked": 9, "confidence": 0.36}
    make_standing_rule(db, ANN, pattern)
    assert [r.words for r in standing_rules(db)] == ["treats ∘ treats⁻¹ ⇒ interacts_with"]
    report = _suggest(db, run, model, relation="interacts_with", per_relation=1, max_pairs=20)
    shown = {(s.head, s.tail) for s in queue(db, relation="interacts_with", limit=5000)}
    # of a pair and its reverse, the queue keeps the likelier way round, as it does for every candidate
    assert all((a, b) in shown or (b, a) in shown for a, b in implied) and isinstance(report.patterns, list)
    drop_standing_rule(db, ANN, "treats ∘ treats⁻¹ ⇒ interacts_with")
    assert standing_rules(db) == []


def test_a_sentence_that_names_an_entity_twice_is_shown_once_by_its_likeliest_marking(demo_with_model):
    """A curator's trial: "Niklaus Wirth was born in Winterthur, and Winterthur is a city in Switzerland" was
    printed twice on the card, once per marking of Winterthur."""
    db, run, model = demo_with_model
    import_document(db, ANN, "notes.txt", b"Aspirin relieves gout, and gout flares ease with aspirin.")
    _suggest(db, run, model, per_relation=0, max_pairs=50)
    gout = {(s.head, s.relation, s.tail): s for s in queue(db, limit=500)}[("aspirin", "treats", "gout")]
    from sqlalchemy import func, select
    from storage.models import Evidence as EvidenceRow

    with db.sessions() as session:
        markings = session.scalar(select(func.count()).select_from(EvidenceRow).where(EvidenceRow.triple_id == gout.id))
    shown = evidence(db, gout.id).sentences
    assert markings >= 2 and len(shown) == 1


def test_the_queue_marks_the_confidences_a_combiner_calibrated(demo_with_model):
    """The re-rank reads the mark: a pair's second link never lowers a calibrated confidence (the combiner was
    fitted without that rule), as in the suggest pass. A sentence's finding the combiner does not read keeps the
    text's own confidence, unmarked."""
    from engine.queue.combiner import FEATURES, Combiner

    db, run, model = demo_with_model
    import_document(db, ANN, "notes.txt", b"Aspirin can relieve gout flares.")
    n = len(FEATURES)
    even = Combiner([0.0] * n, [1.0] * n, [0.0] * n, 0.0, 1.0, 0.0, reads_text=False)
    for combiner in (None, even):
        plan = plan_suggestions(db, model, run.id, run.name, planning=Planning(
            combiner=combiner, policy=QueuePolicy(per_relation=3, max_pairs=40)))
        marked = {t for t, o in plan.opinions.items() if o.get("calibrated")}
        read = {t for t, o in plan.opinions.items() if o.get("sentences")}
        assert ("aspirin", "treats", "gout") in read
        assert marked == (set() if combiner is None else set(plan.opinions) - read)
        assert combiner is None or marked
