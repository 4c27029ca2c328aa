"""What a sentence says: each of its mention pairs reads a relation, but a sentence mostly states one fact.
SemEval's test sentences mention 20 entity pairs each; a wrong pair's likeliest relation is 0.9 as easily as
the right pair's. A finding is worth its share of what its sentence states and how clearly it reads the way
round (`TextSupport.sentence_share`), and only the sentence's likeliest finding with a clear way round leads it into
the queue (`TextSupport.leading`)."""
from __future__ import annotations

import math

import pytest

from engine.mention_index import MentionSpan
from engine.text_candidates import MentionPair
from engine.queue.policy import QueuePolicy
from engine.queue.opinions import read_text

CLEAR_WAY = QueuePolicy().clear_way

NONE = "no_relation"


def _sentence(sentence_id: int, words: str, readings: dict[tuple[int, int], dict[str, float]]):
    """Mention pairs of one sentence (each word an entity, named by itself) with the model's answers, keyed by
    (head word, tail word)."""
    tokens = tuple(words.split())
    spans = [MentionSpan(i, i + 1, word) for i, word in enumerate(tokens)]
    mentions, answers = [], []
    for (head, tail), answer in readings.items():
        mentions.append(MentionPair(sentence_id, tokens, spans[head], spans[tail]))
        answers.append(answer)
    return mentions, answers


def _both(forward: float, backward: float, relation: str = "capital_of") -> tuple[dict, dict]:
    return {relation: forward, NONE: 1 - forward}, {relation: backward, NONE: 1 - backward}


def _way(forward: float, backward: float) -> float:
    return 1 / (1 + math.exp(-abs(math.log(forward) - math.log(backward))))


def test_a_finding_says_its_share_of_what_its_sentence_states():
    paris_france, france_paris = _both(0.9, 0.1)
    paris_spain, spain_paris = _both(0.8, 0.1)
    crowded = _sentence(1, "paris france spain", {(0, 1): paris_france, (1, 0): france_paris,
                                                  (0, 2): paris_spain, (2, 0): spain_paris})
    lone = _sentence(2, "madrid spain", dict(zip([(0, 1), (1, 0)], _both(0.8, 0.1))))
    support = read_text(crowded[0] + lone[0], crowded[1] + lone[1])
    says = support.sentence_share
    assert says[("paris", "capital_of", "france")] == pytest.approx(0.9 * 0.9 / 1.7 * _way(0.9, 0.1))
    assert says[("paris", "capital_of", "spain")] == pytest.approx(0.8 * 0.8 / 1.7 * _way(0.8, 0.1))
    # the same probability alone in its sentence says more than beside a likelier finding
    assert says[("madrid", "capital_of", "spain")] > says[("paris", "capital_of", "spain")]
    assert support.leading == {("paris", "capital_of", "france"): 1, ("madrid", "capital_of", "spain"): 1}


def test_a_finding_whose_way_round_is_unclear_does_not_lead():
    forward, backward = _both(0.6, 0.5)  # read both ways: the sentence does not say which way round
    support = read_text(*_sentence(1, "paris france", {(0, 1): forward, (1, 0): backward}))
    assert set(support.stated) == {("paris", "capital_of", "france")}
    assert support.sentence_share[("paris", "capital_of", "france")] < 0.6 * CLEAR_WAY / (1 + CLEAR_WAY)
    assert not support.leading
    forward, backward = _both(0.6, 0.6 / CLEAR_WAY - 0.01)
    assert read_text(*_sentence(1, "paris france", {(0, 1): forward, (1, 0): backward})).leading


def test_the_sentence_s_likeliest_finding_leads_even_where_it_is_a_fact_already():
    """A sentence stating a fact the KG holds has been read: its other findings do not lead in its place
    (the queue leaves the fact out, being known)."""
    known, known_back = _both(0.95, 0.01)
    other, other_back = _both(0.7, 0.01)
    support = read_text(*_sentence(1, "paris france spain", {(0, 1): known, (1, 0): known_back,
                                                             (2, 1): other, (1, 2): other_back}))
    assert support.leading == {("paris", "capital_of", "france"): 1}
    assert ("spain", "capital_of", "france") in support.stated


def test_the_kg_s_kinds_say_which_relation_a_related_pair_states_and_which_way_round():
    """'Satya Nadella, who was born in Hyderabad, ...': the model reads that the two are related (as ceo_of);
    a person and a city take only born_in in the KG, with the person as its head."""
    from engine.queue.candidates import Kinds

    facts = [("p1", "born_in", "c1"), ("p2", "born_in", "c2"), ("p1", "ceo_of", "k1"), ("p2", "ceo_of", "k2")]
    kinds = Kinds(facts, {"p1": "person", "p2": "person", "nadella": "person", "c1": "city", "c2": "city",
                          "hyderabad": "city", "k1": "company", "k2": "company"},
                  {"born_in": (None, None), "ceo_of": (None, None)})
    read = {"ceo_of": 0.5, "born_in": 0.1, NONE: 0.4}
    mentions, answers = _sentence(1, "nadella hyderabad", {(0, 1): read, (1, 0): dict(read)})
    support = read_text(mentions, answers, kinds=kinds)
    assert ("nadella", "born_in", "hyderabad") in support.stated
    assert support.best[("nadella", "hyderabad")]["born_in"] == pytest.approx(0.6)
    assert not any(t[1] == "ceo_of" for t in support.stated)


def test_a_relation_close_behind_no_relation_is_still_what_the_marking_states():
    """The curator benchmark's companies document: "Oliver Zipse has served as chief executive of BMW" read as
    "no relation" at 0.55 with ceo_of next; at `reading_odds` 0.4 a relation reaching 0.4 of "no relation"'s
    probability is stated, one further behind is not."""
    mentions, answers = _sentence(1, "zipse bmw munich", {
        (0, 1): {NONE: 0.55, "ceo_of": 0.35, "born_in": 0.10}, (1, 0): {NONE: 0.9, "ceo_of": 0.1},
        (1, 2): {NONE: 0.8, "headquartered_in": 0.15, "ceo_of": 0.05}, (2, 1): {NONE: 0.95, "ceo_of": 0.05}})
    read = read_text(mentions, answers, policy=QueuePolicy(reading_odds=0.4))
    assert ("zipse", "ceo_of", "bmw") in read.stated
    assert not any(t[0] == "bmw" or t[2] == "munich" for t in read.stated)  # 0.15 is under 0.4 × 0.8
    assert not read_text(mentions, answers, policy=QueuePolicy(reading_odds=1.0)).stated
