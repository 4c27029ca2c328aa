"""The benchmarks' "app" method: the curator's labels go through the app's own retrain (engine.retrain, with
knowco.options.TrainOptions' defaults), not through a benchmark-only training loop.

Link prediction: the K-shot training triples are the curator's triple labels (the KG has no other facts).
Relation extraction:
the app imports SemEval's directed labels as one relation with the direction in head and tail
(`Cause-Effect(e2,e1)` → `Cause-Effect` from the second mention to the first), and learns each sentence both
ways round (the reversal as "no relation"). So the same K-shot sentences are given to it that way, and its
answer for a test sentence is read back as the benchmark's 19 labels the way the app reads a sentence: both
orders of the two mentions are scored, no relation when neither order names one, else the likelier direction.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

from engine import retrain
from engine.queue.direction import symmetric_relations
from engine.link_prediction import LpTask
from engine.types import NO_RELATION, RelationSpec, SentenceExample, TripleExample
from engine.verbalizer import label_words
from storage.naming import directed_label, readable_label

from knowco.options import TrainOptions

from bench.re_data import ReData


def as_imported(example: SentenceExample) -> SentenceExample:
    """A benchmark sentence as the app's importer stores it."""
    if example.relation is None:
        return example
    base, swapped = directed_label(example.relation)
    head, tail = (example.tail, example.head) if swapped else (example.head, example.tail)
    return SentenceExample(example.tokens, head, tail, base)


def _relations(data: ReData) -> list[RelationSpec]:
    names = sorted({directed_label(r.name)[0] for r in data.relations})
    return [RelationSpec(name, label_words(name, readable_label(name))) for name in names]


def retrain_like_the_app(given: retrain.RetrainInput, options: TrainOptions) -> retrain.Retrained:
    config, plan = options.engine_config(), options.retrain_plan()
    return retrain.train_model(given, retrain.split(given, config, plan), config, plan)


def train_app(data: ReData, train: list[SentenceExample], options: TrainOptions) -> retrain.Retrained:
    """The app's retrain on K-shot sentences (no KG facts, no corpus): what a curator who labelled them gets."""
    return retrain_like_the_app(retrain.RetrainInput(_relations(data), {}, sentences=[as_imported(x) for x in train]),
                                options)


def train_app_lp(task: LpTask, train: list[tuple[str, str, str]], options: TrainOptions) -> retrain.Retrained:
    """The app's retrain on K-shot triples entered as the curator's labels."""
    given = retrain.RetrainInput(list(task.relations), task.entities, triples=[TripleExample(*t) for t in train],
                                 symmetric=symmetric_relations(train), known={(h, t) for h, _, t in train})
    return retrain_like_the_app(given, options)


def _directed(relation: str, first_is_head: bool, known: set[str]) -> str:
    """`Cause-Effect` read from e1 to e2 → `Cause-Effect(e1,e2)` (the name itself where the data's is undirected)."""
    name = f"{relation}({'e1,e2' if first_is_head else 'e2,e1'})"
    return name if name in known or relation not in known else relation


def predict_app(model, data: ReData, test: list[SentenceExample]) -> list[Optional[str]]:
    """The benchmark's label of each test sentence from the app model's two readings of it."""
    known = {r.name for r in data.relations}
    forward = model.relation_distribution(test)
    backward = model.relation_distribution(replace(x, head=x.tail, tail=x.head) for x in test)
    answers = []
    for one_way, other_way in zip(forward, backward):
        readings = []
        for probabilities, first_is_head in ((one_way, True), (other_way, False)):
            relation = max(probabilities, key=probabilities.get)
            if relation != NO_RELATION:
                readings.append((probabilities[relation], _directed(relation, first_is_head, known)))
        answers.append(max(readings)[1] if readings else None)
    return answers


def app_options(base: dict, seed: int) -> TrainOptions:
    """The app's defaults, with the benchmark's explicit settings (backbone, device, --set) and the run's seed."""
    return replace(TrainOptions(**base), seed=seed)
