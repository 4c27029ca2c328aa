"""The corpus's sentences about accepted facts are training examples (distant supervision): found by the facts'
entity names, kept out where their pair is held out, and counted in the run's metrics."""
from __future__ import annotations

from engine.distant import fact_sentences
from engine.mention_index import MentionIndex
from engine.types import EntityText, TripleExample
from storage.text_split import tokenize
from engine.retrain import RetrainInput, split
from knowco.options import TrainOptions
from knowco.training_job import _Corpus

NAMES = ["budapest", "hungary", "paris", "france", "madrid", "spain", "danube", "rome", "italy"]
INDEX = MentionIndex(((name, name) for name in NAMES), tokenize)


def _tokens(text: str) -> list[str]:
    return text.split()


def _split(sentences, facts, options, corpus):
    """(training set, held-out facts) as a retrain splits them."""
    entities = {name: EntityText(name, name, "") for name in NAMES}
    given = RetrainInput([], entities, sentences=sentences, facts=facts, stating=corpus.stating)
    made = split(given, options.engine_config(), options.retrain_plan())
    return made.train, made.held_facts


def test_a_sentence_naming_both_entities_of_a_fact_is_an_example_of_its_relation_that_way_round():
    sentences = [(1, _tokens("the capital of hungary is budapest .")), (2, _tokens("paris and madrid are far ."))]
    found = fact_sentences(sentences, INDEX, [("budapest", "capital_of", "hungary")])
    assert len(found) == 1
    example = found[0]
    assert example.relation == "capital_of"
    assert example.tokens[example.head[0]:example.head[1]] == ("budapest",)
    assert example.tokens[example.tail[0]:example.tail[1]] == ("hungary",)


def test_ambiguous_and_skipped_pairs_are_left_out():
    sentences = [(1, _tokens("budapest lies on the danube in hungary ."))]
    facts = [("budapest", "capital_of", "hungary"), ("budapest", "largest_city_of", "hungary"),
             ("danube", "flows_through", "hungary")]
    found = fact_sentences(sentences, INDEX, facts)
    assert [x.relation for x in found] == ["flows_through"]  # budapest–hungary could state either relation
    assert fact_sentences(sentences, INDEX, facts, skip={frozenset(("hungary", "danube"))}) == []


def test_held_out_facts_never_train_through_their_sentences():
    capitals = [("budapest", "hungary"), ("paris", "france"), ("madrid", "spain"), ("rome", "italy")]
    facts = [TripleExample(city, "capital_of", country) for city, country in capitals]
    sentences = [(i, _tokens(f"{city} is the capital of {country} .")) for i, (city, country) in enumerate(capitals)]
    corpus = _Corpus(sentences, [(name, name) for name in NAMES])
    options = TrainOptions(held_out_share=0.25, seed=1)
    train_set, held = _split([], facts, options, corpus)
    held_pairs = {frozenset((f.head, f.tail)) for f in held}
    assert held_pairs
    named = {frozenset((" ".join(x.tokens[x.head[0]:x.head[1]]), " ".join(x.tokens[x.tail[0]:x.tail[1]])))
             for x in train_set.fact_sentences}
    assert named and not named & held_pairs
    assert len(named) == len(capitals) - len(held)
    off = _split([], facts, TrainOptions(held_out_share=0.25, seed=1, corpus_sentences_per_epoch=0), corpus)[0]
    assert off.fact_sentences == []


def test_a_big_corpus_is_sampled_uniformly_in_bounded_memory():
    sentences = [(i, _tokens(f"budapest is the capital of hungary , said report {i} .")) for i in range(500)]
    found = fact_sentences(sentences, INDEX, [("budapest", "capital_of", "hungary")], limit=50, seed=3)
    assert len(found) == 50
    reports = sorted(int(x.tokens[-2]) for x in found)
    assert reports[0] < 100 and reports[-1] > 400  # drawn from the whole corpus, not its first 50 sentences


def test_a_labelled_sentence_never_trains_as_a_fact_sentence():
    from engine.types import SentenceExample

    tokens = _tokens("budapest is the capital of hungary .")
    corpus = _Corpus([(1, tokens)], [(name, name) for name in NAMES])
    labelled = SentenceExample(tuple(tokens), (0, 1), (5, 6), None)  # the curator says: no relation stated
    facts = [TripleExample("budapest", "capital_of", "hungary"), TripleExample("paris", "capital_of", "france"),
             TripleExample("madrid", "capital_of", "spain"), TripleExample("rome", "capital_of", "italy")]
    train_set, _ = _split([labelled], facts, TrainOptions(held_out_share=0.0, seed=1), corpus)
    assert train_set.fact_sentences == []
