"""What the KG says about its own relations: how many values an entity takes on each side (a book has one
author), which paths imply a relation ("born in a city of a country" ⇒ citizen), and the conservative
confidence a candidate gets from them before anything is calibrated."""
from __future__ import annotations

import pytest

from engine.queue.candidates import Kinds
from engine.queue.cardinality import Cardinalities, compete
from engine.queue.combiner import GraphCounts
from engine.queue.patterns import Patterns
from engine.queue.policy import QueuePolicy
from engine.queue.opinions import OpinionSources, TextSupport, score_candidates

BOOKS = [(f"book{i}", "written_by", f"author{i % 4}") for i in range(12)]
CITIES = [(f"city{i}", "located_in", f"country{i % 3}") for i in range(9)]


def test_a_second_value_of_a_one_valued_side_is_worth_the_chance_of_several():
    cardinalities = Cardinalities(BOOKS, QueuePolicy(small_side_entities=0))  # the count alone (no small-side floor)
    second = cardinalities.second_value(("book0", "written_by", "author3"))
    assert second is not None and second.side == "tail" and second.existing == ("author0",)
    assert second.chance() == pytest.approx(1 / 14)  # 12 books, each with one author: (0 + 1) / (12 + 2)
    assert cardinalities.chance(("book99", "written_by", "author1")) == 1.0  # a first value
    # an author has several books: the head side is not one-valued, a third book of author0 is not demoted
    assert not cardinalities.one_valued("written_by", "head")
    assert cardinalities.second_value(("book99", "written_by", "author0")) is None


def test_a_relation_with_few_facts_says_nothing_about_its_cardinality():
    few = BOOKS[:3]
    cardinalities = Cardinalities(few)
    assert cardinalities.second_value(("book0", "written_by", "author3")) is None
    assert not cardinalities.one_valued("written_by", "tail")


def test_a_curator_s_mark_makes_a_side_one_valued_whatever_the_facts():
    cardinalities = Cardinalities(BOOKS[:2], marked={"tail": {"written_by"}})
    assert cardinalities.one_valued("written_by", "tail")
    assert cardinalities.chance(("book0", "written_by", "author3")) == 0.0


def test_the_values_of_an_entity_without_one_compete_for_its_one_place():
    cardinalities = Cardinalities(CITIES)
    scored = {("osaka", "located_in", "country0"): 0.99, ("osaka", "located_in", "country1"): 0.99,
              ("osaka", "located_in", "country2"): 0.5, ("city0", "located_in", "country1"): 0.3}
    out = compete(scored, cardinalities)
    assert sum(p for (h, _, _), p in out.items() if h == "osaka") == pytest.approx(1.0)
    # the two as likely as one another split the place; the third gets what they leave: nothing
    assert out[("osaka", "located_in", "country0")] == pytest.approx(0.5)
    assert out[("osaka", "located_in", "country2")] == 0.0
    # a value a sentence states keeps its confidence beside a crowd of guesses from names
    crowd = {("kobe", "located_in", "country0"): 0.74, **{("kobe", "located_in", f"country{i}"): 0.27 for i in (1, 2)}}
    shared = compete(crowd, cardinalities)
    assert shared[("kobe", "located_in", "country0")] == 0.74
    assert shared[("kobe", "located_in", "country1")] == pytest.approx(0.13)
    assert out[("city0", "located_in", "country1")] == 0.3  # a second value: demoted elsewhere, not here


def test_patterns_count_how_often_a_path_implies_a_relation():
    people = [(f"p{i}", "born_in", f"city{i % 9}") for i in range(12)]
    citizens = [(f"p{i}", "citizen_of", f"country{i % 9 % 3}") for i in range(11)]  # p11 lacks it
    patterns = Patterns(people + CITIES + citizens)
    [rule] = [r for r in patterns.rules["citizen_of"] if r.words() == "born_in ∘ located_in ⇒ citizen_of"]
    assert (rule.support, rule.linked) == (11, 12) and rule.confidence == pytest.approx(12 / 14)
    best = patterns.best([("p11", "citizen_of", "country2"), ("p11", "citizen_of", "country0")])
    assert best[0] == rule and best[1] is None  # p11 born in city2, of country2
    assert rule in patterns.strongest()


def test_a_pattern_needs_support():
    patterns = Patterns([("a", "born_in", "x"), ("x", "located_in", "y"), ("a", "citizen_of", "y")])
    assert not patterns.rules["citizen_of"]


KINDS = {**{f"city{i}": "city" for i in range(9)}, "osaka": "city", **{f"country{i}": "country" for i in range(3)},
         **{f"book{i}": "book" for i in range(100)}, **{f"author{i}": "person" for i in range(4)},
         **{f"p{i}": "person" for i in range(12)}}


def _score(facts, distributions, text=TextSupport()):
    relations = {r: (None, None) for _, r, _ in facts}
    return OpinionSources(distributions, text, None, Kinds(facts, KINDS, relations), GraphCounts(facts))


def test_before_calibration_names_alone_never_look_sure_and_a_second_value_sinks():
    """An 80-fact KG: 'Osaka located_in India 0.99' from names alone, a second author for a book at 0.97."""
    policy = QueuePolicy()
    facts = BOOKS + CITIES
    names = {("city0", "country1"): {"located_in": 0.99}, ("osaka", "country1"): {"located_in": 0.99}}
    judged = score_candidates(_score(facts, names), [("city0", "located_in", "country1"), ("osaka", "located_in", "country1")])
    first = judged.confidence[("osaka", "located_in", "country1")]
    assert first == pytest.approx(0.99 * policy.names_only_ceiling) and first < 0.5
    chance = max(1 / 11, policy.small_side_second_chance)  # what the KG's 9 cities leave of a second country
    second = first * chance / (first * chance + (1 - first) * (1 - chance))  # evidence and chance as odds
    assert judged.confidence[("city0", "located_in", "country1")] == pytest.approx(second, rel=1e-3) and second < 0.1
    assert judged.opinions[("city0", "located_in", "country1")]["second_value"]["existing"] == ["country0"]


def test_before_calibration_a_sentence_outranks_names_and_nothing_reaches_the_ceiling():
    policy = QueuePolicy()
    stated = ("book99", "written_by", "author1")
    text = TextSupport(best={("book99", "author1"): {"written_by": 0.99}},
                       stated={stated: [(1, 0, 1, 3, 4, 0.99)]}, sentence_share={stated: 0.99}, leading={stated: 1})
    names = {("book99", "author1"): {"written_by": 0.99}, ("book98", "author2"): {"written_by": 0.99}}
    judged = score_candidates(_score(BOOKS, names, text), [stated, ("book98", "written_by", "author2")])
    low, high = policy.names_only_ceiling, policy.uncalibrated_ceiling
    assert judged.confidence[stated] == pytest.approx(low + (high - low) * 0.99 ** policy.evidence_exponent)
    assert high < 0.8
    assert judged.confidence[stated] > low >= judged.confidence[("book98", "written_by", "author2")]


def test_before_calibration_a_pattern_is_worth_the_share_of_the_time_it_holds():
    """A browser trial's river KG: a pattern mapped like a sentence put every country it implied at 0.61-0.71.
    Uncalibrated, a pattern is worth how often the KG shows it holding, and a sentence's finding stays above a
    pattern that holds about half the time."""
    people = [(f"p{i}", "born_in", f"city{i % 9}") for i in range(12)]
    half = [(f"p{i}", "citizen_of", f"country{i % 9 % 3}") for i in range(0, 12, 2)]  # 6 of the 12 linked pairs
    facts = people + CITIES + half
    implied, stated = ("p1", "citizen_of", "country1"), ("p3", "citizen_of", "country0")
    text = TextSupport(best={("p3", "country0"): {"citizen_of": 0.9}}, stated={stated: [(1, 0, 1, 3, 4, 0.9)]},
                       sentence_share={stated: 0.5}, leading={stated: 1})
    names = {("p1", "country1"): {"citizen_of": 0.1}, ("p3", "country0"): {"citizen_of": 0.1}}
    judged = score_candidates(_score(facts, names, text), [implied, stated])
    policy = QueuePolicy()
    assert judged.confidence[implied] == pytest.approx((6 + 1) / (12 + 2))  # its smoothed share, 0.5
    assert judged.confidence[stated] > judged.confidence[implied] > policy.names_only_ceiling
    assert judged.opinions[implied]["pattern"]["rule"] == "born_in ∘ located_in ⇒ citizen_of"


def test_before_calibration_a_kind_that_never_fits_the_relation_sinks():
    names = {("author1", "book3"): {"written_by": 0.99}}
    judged = score_candidates(_score(BOOKS, names), [("author1", "written_by", "book3")])
    assert judged.confidence[("author1", "written_by", "book3")] == 0.0


def test_where_more_values_than_entities_take_part_a_side_is_not_one_valued():
    """A curator's trial: 3 of 6 countries had one city in the KG, and Gothenburg → Sweden was halved; where
    more cities than countries take part, some country takes several cities whatever share shows one."""
    facts = [(f"city{i}", "located_in", f"country{i}") for i in range(6)]
    cardinalities = Cardinalities(facts, QueuePolicy(second_value_share=0.5))
    assert cardinalities.second_value(("city8", "located_in", "country2")) is not None  # one city per country so far
    facts += [("city6", "located_in", "country0"), ("city7", "located_in", "country1")]
    cardinalities = Cardinalities(facts, QueuePolicy(second_value_share=0.5))
    assert cardinalities.second_value(("city8", "located_in", "country2")) is None
    assert cardinalities.second_value(("city0", "located_in", "country2")) is not None  # a second country still sinks


def test_a_kind_of_many_entities_leaves_a_one_valued_side_one_valued():
    """The curator benchmark's film KG: 10 films with one director each, 4 directors among 17 persons (most
    of them actors); a second director for a film sinks although the kind "person" outnumbers the films."""
    facts = [(f"film{i}", "directed_by", f"director{i % 4}") for i in range(10)]
    facts += [(f"film{i}", "starring", f"actor{i}") for i in range(13)]
    cardinalities = Cardinalities(facts)
    assert cardinalities.second_value(("film0", "directed_by", "actor0")) is not None
    assert cardinalities.second_value(("film12", "directed_by", "director1")) is None  # a first director


def test_a_rule_s_path_implies_the_pairs_it_links():
    facts = [("ana", "born_in", "lisbon"), ("lisbon", "located_in", "portugal"), ("rui", "born_in", "lisbon"),
             ("ana", "citizen_of", "portugal"), ("ola", "born_in", "oslo"), ("oslo", "located_in", "norway")]
    patterns = Patterns(facts)
    assert patterns.implied([("born_in", True), ("located_in", True)]) == [
        ("ana", "portugal"), ("ola", "norway"), ("rui", "portugal")]
    assert patterns.implied([("born_in", True), ("born_in", False)]) == [("ana", "rui"), ("rui", "ana")]
    assert patterns.implied([("married_to", True)]) == []


def test_a_second_value_a_sentence_states_rises_above_one_guessed_from_names():
    """A crew KG where 18 of 19 astronauts had one mission buried "Buzz Aldrin flew on Gemini 12" (stated in the
    curator's document) at rank 26: evidence and the chance of a second value combine as odds, so a sentence
    lifts a second value that a guess from the names cannot."""
    stated = ("book1", "written_by", "author2")  # book1 has author1 already
    guessed = ("book2", "written_by", "author3")  # book2 has author2 already
    text = TextSupport(best={("book1", "author2"): {"written_by": 0.99}},
                       stated={stated: [(1, 0, 1, 3, 4, 0.99)]}, sentence_share={stated: 0.99}, leading={stated: 1})
    names = {("book1", "author2"): {"written_by": 0.99}, ("book2", "author3"): {"written_by": 0.99}}
    judged = score_candidates(_score(BOOKS, names, text), [stated, guessed])
    assert judged.opinions[stated]["second_value"] and judged.opinions[guessed]["second_value"]
    assert judged.confidence[stated] > 0.4 > 0.1 > judged.confidence[guessed]
    assert judged.confidence[stated] < 0.5  # still a second value: never shown as likely


def test_a_side_of_few_entities_is_a_prior_not_a_rule():
    """Two browser trials: every city of a small KG with one person born there, every book set in one city; the
    document's "X was born in Copenhagen" (another person's city) and "A Tale of Two Cities is set in Paris" sank
    to 0.15-0.27. On a side of at most `small_side_entities` entities a second value keeps at least
    `small_side_second_chance`: a sentence lifts it near 0.5, never past it, a guess from names stays low."""
    policy = QueuePolicy()
    facts = [(f"p{i}", "born_in", f"city{i}") for i in range(9)]
    cardinalities = Cardinalities(facts)
    second = cardinalities.second_value(("p10", "born_in", "city3"))
    assert second is not None and second.side == "head" and second.as_dict()["few"]
    assert second.chance() == pytest.approx(policy.small_side_second_chance)
    # a curator's mark is still a rule
    assert Cardinalities(facts, marked={"head": {"born_in"}}).chance(("p10", "born_in", "city3")) == 0.0

    stated, guessed = ("p10", "born_in", "city3"), ("p11", "born_in", "city4")
    text = TextSupport(best={("p10", "city3"): {"born_in": 0.99}},
                       stated={stated: [(1, 0, 1, 3, 4, 0.99)]}, sentence_share={stated: 0.99}, leading={stated: 1})
    names = {("p10", "city3"): {"born_in": 0.99}, ("p11", "city4"): {"born_in": 0.99}}
    judged = score_candidates(_score(facts, names, text), [stated, guessed])
    assert 0.4 < judged.confidence[stated] < 0.5
    assert judged.confidence[guessed] < 0.1


def test_a_pair_the_kg_already_links_rarely_takes_a_second_relation():
    """The curator benchmark's film KG: a director read as the film's star, beside the KG's director fact.
    Where the KG's pairs of a relation often carry the other one too (a company's founder as its CEO), neither
    sinks the other."""
    facts = [(f"film{i}", "directed_by", f"p{i}") for i in range(8)]
    facts += [(f"film{i}", "starring", f"{cast}{i}") for i in range(8) for cast in ("a", "b")]
    cardinalities = Cardinalities(facts)
    second = cardinalities.second_value(("film0", "starring", "p0"))
    assert second is not None and second.side == "pair" and second.existing == ("directed_by",)
    assert second.chance() == pytest.approx(1 / 10)  # 8 directed pairs, none starring: (0 + 1) / (8 + 2)
    assert cardinalities.second_value(("film0", "starring", "p5")) is None  # a pair the KG does not link
    founders = [(f"co{i}", "founded_by", f"p{i}") for i in range(6)] + [(f"co{i}", "ceo_of", f"p{i}") for i in range(3)]
    assert Cardinalities(founders).second_value(("co5", "ceo_of", "p5")) is None  # 3 of 6 founders are CEOs


def test_a_relation_whose_pairs_lie_inside_another_s_is_no_second_link():
    """A capital is a city located in its country, a CEO often the founder: a candidate of such a relation on
    a pair the other already links is not sunk; nor is one of a relation with no facts yet."""
    facts = [(f"city{i}", "located_in", f"country{i % 5}") for i in range(50)]
    facts += [(f"city{i}", "capital_of", f"country{i}") for i in range(5)]
    cardinalities = Cardinalities(facts)
    assert not cardinalities._second_relation(("city7", "capital_of", "country2"))
    assert not cardinalities._second_relation(("city7", "founded_in", "country2"))  # no facts of its own yet


def test_past_a_few_entities_the_kg_s_own_count_speaks():
    policy = QueuePolicy()
    large = Cardinalities([(f"c{i}", "capital_of", f"n{i}") for i in range(2000)])
    assert large.chance(("c2000", "capital_of", "n3")) == pytest.approx(1 / 2002)
    assert not large.second_value(("c2000", "capital_of", "n3")).as_dict()["few"]
    assert policy.small_side_entities < 2000


def test_near_ties_share_one_place():
    cardinalities = Cardinalities(CITIES)
    shared = compete({("kobe", "located_in", "country0"): 0.99, ("kobe", "located_in", "country1"): 0.98},
                     cardinalities)
    assert shared[("kobe", "located_in", "country0")] == pytest.approx(0.99 / 1.97)
    assert shared[("kobe", "located_in", "country1")] == pytest.approx(0.98 / 1.97)


def test_a_second_link_is_a_prior_before_calibration_never_a_combiner_feature():
    """CoDEx-S: read into the fitted combiner's second-value feature, the pair rule cost the queue's recall
    (0.066 -> 0.056); it sinks a candidate only where no combiner calibrated its confidence."""
    from engine.queue.combiner import Opinions
    from engine.queue.opinions import _shown

    facts = [(f"film{i}", "directed_by", f"p{i}") for i in range(8)]
    facts += [(f"film{i}", "starring", f"{cast}{i}") for i in range(8) for cast in ("a", "b")]
    link = Cardinalities(facts).second_link(("film0", "starring", "p0"))
    opinion = Opinions(text=0.5, graph=0.5, link=link)
    assert opinion.second_chance == 1.0 and opinion.prior_chance == pytest.approx(1 / 10)
    assert _shown(opinion)["second_value"]["side"] == "pair"
    assert "second_value" not in _shown(opinion, calibrated=True)
