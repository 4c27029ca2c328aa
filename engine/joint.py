"""One model for the curator's labels of both kinds: triples (link prediction) and sentences (relation
extraction) train the same prompt model, since both read p(r | ...) at `[MASK]` over the same label words.

A held-out share of the labels is kept out of training to estimate quality; early stopping watches the
training loss instead, so the held-out estimate is not tuned on.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import asdict, dataclass, field
from typing import Optional, Sequence

import numpy as np

from engine.backbones import load_backbone
from engine.calibration import MIN_CALIBRATION_ITEMS, fit_temperature, softmax, top_label_reliability
from engine.classifier import PromptClassifier
from engine.config import TrainConfig
from engine.queue.direction import reversed_sentences, reversed_triples
from engine.link_prediction import corrupt
from engine.metrics import accuracy, micro_f1, per_label
from engine.training import CancelFlag, Pool, Pools, ProgressCallback, TrainResult, seed_everything, train
from engine.types import NO_RELATION, EntityText, RelationSpec, SentenceExample, TripleExample
from engine.verbalizer import with_no_relation


@dataclass
class LabelledSet:
    """The curator's labels (trained on in every epoch), the KG's facts with their negatives (`pool`) and the
    corpus sentences that mention an accepted fact's two entities (`fact_sentences`, engine.distant): both
    sampled afresh each epoch, so a big KG or corpus costs a bounded number of steps."""

    triples: list[TripleExample] = field(default_factory=list)
    sentences: list[SentenceExample] = field(default_factory=list)
    pool: list[TripleExample] = field(default_factory=list)
    fact_sentences: list[SentenceExample] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.triples) + len(self.sentences) + len(self.pool) + len(self.fact_sentences)


def label_groups(triples: Sequence[TripleExample], sentences: Sequence[SentenceExample]) -> list[tuple[str, list]]:
    """The labels by kind ("triple" or "sentence") and relation (a triple that does not hold and a sentence that
    states none under ""), in a stable order: what a held-out share or the folds are drawn from per relation."""
    groups: dict[tuple[str, str], list] = {}
    for item in triples:
        groups.setdefault(("triple", item.relation if item.holds else ""), []).append(item)
    for item in sentences:
        groups.setdefault(("sentence", item.relation or ""), []).append(item)
    return [(kind, groups[(kind, relation)]) for kind, relation in sorted(groups)]


def split_held_out(triples: Sequence[TripleExample], sentences: Sequence[SentenceExample], share: float,
                   seed: int) -> tuple[LabelledSet, LabelledSet]:
    """(train, held out): per relation, every 1/share-th label is held out, where the relation has at least 3."""
    rng = random.Random(seed)
    train_set, held_out = LabelledSet(), LabelledSet()
    for kind, items in label_groups(triples, sentences):
        items = list(items)
        rng.shuffle(items)
        cut = int(len(items) * share) if len(items) >= 3 else 0
        target_held = held_out.triples if kind == "triple" else held_out.sentences
        target_train = train_set.triples if kind == "triple" else train_set.sentences
        target_held.extend(items[:cut])
        target_train.extend(items[cut:])
    return train_set, held_out


def build(relations: Sequence[RelationSpec], config: TrainConfig) -> PromptClassifier:
    seed_everything(config.seed)
    return PromptClassifier(load_backbone(config.backbone), with_no_relation(relations), config)


def with_negatives(labels: LabelledSet, entities: dict[str, EntityText], ratio: int, known: set[tuple[str, str]],
                   seed: int, types: Optional[dict[str, Optional[str]]] = None) -> LabelledSet:
    """Add `ratio` corrupted triples (type-aware where entities have types) per positive triple, to the labels
    and to the pool alike: the "no relation" class needs examples."""
    rng = random.Random(seed)

    def negatives(triples: list[TripleExample]) -> list[TripleExample]:
        positives = [(x.head, x.relation, x.tail) for x in triples if x.holds]
        return corrupt(positives, sorted(entities), ratio, known, rng, types)

    return LabelledSet(labels.triples + negatives(labels.triples), list(labels.sentences),
                       labels.pool + negatives(labels.pool), list(labels.fact_sentences))


def with_reversals(labels: LabelledSet, symmetric: set[str], known_pairs: set[tuple[str, str]]) -> LabelledSet:
    """Each labelled triple, fact and sentence also reversed (engine.queue.direction), so the model learns which way
    a relation points and not only which entities it links."""
    return LabelledSet(labels.triples + reversed_triples(labels.triples, symmetric, known_pairs),
                       labels.sentences + reversed_sentences(labels.sentences, symmetric),
                       labels.pool + reversed_triples(labels.pool, symmetric, known_pairs),
                       labels.fact_sentences + reversed_sentences(labels.fact_sentences, symmetric))


def _stable_order(fact: TripleExample, seed: int) -> str:
    return hashlib.sha256(f"{seed}\t{fact.head}\t{fact.relation}\t{fact.tail}".encode()).hexdigest()


def hold_out_facts(facts: Sequence[TripleExample], share: float, limit: int, seed: int
                   ) -> tuple[list[TripleExample], list[TripleExample]]:
    """(kept, held out): a share of each relation's facts (where it has at least 3), `limit` in all, kept out of
    every model's training: the combiner's positives, and the run's measure where there are no labels.

    Which facts go first is fixed by each fact's own hash with the seed: a later retrain with the same seed
    holds out mostly the same facts, so a new version and the active one can be compared on facts neither
    trained on (`engine.comparison`). (Without the seed every seed held out the same facts: on the curator
    benchmark's companies KG those were ones its document restates, and every seed lost their sentences.)"""
    by_relation: dict[str, list[TripleExample]] = {}
    for fact in facts:
        by_relation.setdefault(fact.relation, []).append(fact)
    per_relation = max(1, limit // max(1, len(by_relation)))
    kept, held = [], []
    for relation in sorted(by_relation):
        items = sorted(by_relation[relation], key=lambda fact: _stable_order(fact, seed))
        cut = min(int(len(items) * share), per_relation, limit - len(held)) if len(items) >= 3 else 0
        held += items[:cut]
        kept += items[cut:]
    return kept, held


def _triple_item(model: PromptClassifier, entities: dict[str, EntityText], x: TripleExample):
    return model.encode_pair(entities[x.head], entities[x.tail]), model.index[x.relation if x.holds else NO_RELATION]


def _triple_items(model: PromptClassifier, entities: dict[str, EntityText], triples: Sequence[TripleExample]):
    return [_triple_item(model, entities, x) for x in triples]


def measured_items(model: PromptClassifier, entities: dict[str, EntityText], labels: LabelledSet):
    """Labels and sentences, and the pools too: what a held-out set is measured on."""
    items = _triple_items(model, entities, labels.triples + labels.pool)
    items += [_sentence_item(model, x) for x in labels.sentences + labels.fact_sentences]
    return items


def _sentence_item(model: PromptClassifier, x: SentenceExample):
    return model.encode_sentence(x), model.index[x.relation or NO_RELATION]


def fit(model: PromptClassifier, entities: dict[str, EntityText], labels: LabelledSet, config: TrainConfig, *,
        pool_per_epoch: int = 0, sentences_per_epoch: int = 0, progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelFlag] = None) -> TrainResult:
    """Every epoch: all labels, `pool_per_epoch` facts and negatives and `sentences_per_epoch` fact sentences
    drawn afresh."""
    always = measured_items(model, entities, LabelledSet(labels.triples, labels.sentences))
    pool = Pools([Pool(labels.pool, pool_per_epoch, encode=lambda x: _triple_item(model, entities, x)),
                  Pool(labels.fact_sentences, sentences_per_epoch, encode=lambda x: _sentence_item(model, x))])
    return train(model, always, [], batch_size=config.batch_size, eval_batch_size=config.eval_batch_size,
                 patience=config.patience, seed=config.seed, evaluate=lambda logits, labels_: 0.0,
                 auxiliary_weight=config.entity_loss_weight if config.entity_loss else 0.0,
                 progress=progress, cancel=cancel, pool=pool)


@dataclass
class HeldOutReport:
    """Quality on the held-out labels, and the calibration fitted on them (in-sample: the same labels fit T)."""

    held_out: int
    accuracy: float
    micro_f1: float
    temperature: float
    ece_before: float
    ece_after: float
    #: (bin upper edge, mean confidence, share correct, count) per confidence bin
    reliability_before: list = field(default_factory=list)
    reliability_after: list = field(default_factory=list)
    #: precision, recall, F1 and support per relation ("no relation" left out)
    per_relation: list = field(default_factory=list)

    def scores(self) -> dict:
        """The figures without the reliability bins and the per-relation table (what a checkpoint keeps)."""
        return {k: v for k, v in asdict(self).items() if not k.startswith("reliability") and k != "per_relation"}


def report(model: PromptClassifier, logits: np.ndarray, gold: np.ndarray) -> HeldOutReport:
    """Accuracy and micro-F1 (without "no relation") of held-out logits, and the model calibrated on them (its
    temperature is set)."""
    predicted = logits.argmax(-1)
    ignore = [model.index[NO_RELATION]]
    # below MIN_CALIBRATION_ITEMS the model keeps its own probabilities: a fit on a handful flattens them
    temperature = fit_temperature(logits, gold) if len(gold) >= MIN_CALIBRATION_ITEMS else 1.0
    before = top_label_reliability(softmax(logits), gold)
    after = top_label_reliability(softmax(logits, temperature), gold)
    model.temperature = temperature
    return HeldOutReport(len(gold), accuracy(gold.tolist(), predicted.tolist()),
                         micro_f1(gold.tolist(), predicted.tolist(), ignore), round(temperature, 4),
                         round(before.ece, 4), round(after.ece, 4), before.bins, after.bins,
                         per_label(gold.tolist(), predicted.tolist(), [c.name for c in model.classes], ignore))
