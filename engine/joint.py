"""One model for the curator's labels of both kinds: triples (link prediction) and sentences (relation
extraction) train the same prompt model, since both read p(r | ...) at `[MASK]` over the same label words.

A held-out share of the labels is kept out of training to estimate quality; early stopping watches the
training loss instead, so the held-out estimate is not tuned on.
"""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Optional, Sequence

import numpy as np

from engine.backbones import load_backbone
from engine.calibration import fit_temperature, softmax, top_label_reliability
from engine.classifier import PromptClassifier
from engine.config import TrainConfig
from engine.direction import reversed_sentences, reversed_triples
from engine.link_prediction import corrupt
from engine.metrics import accuracy, micro_f1
from engine.training import CancelFlag, ProgressCallback, TrainResult, seed_everything, train
from engine.types import NO_RELATION, EntityText, RelationSpec, SentenceExample, TripleExample
from engine.verbalizer import with_no_relation


@dataclass
class LabelledSet:
    triples: list[TripleExample] = field(default_factory=list)
    sentences: list[SentenceExample] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.triples) + len(self.sentences)


def split_held_out(triples: Sequence[TripleExample], sentences: Sequence[SentenceExample], share: float,
                   seed: int) -> tuple[LabelledSet, LabelledSet]:
    """(train, held out): per relation, every 1/share-th label is held out, where the relation has at least 3."""
    groups: dict[tuple[str, Optional[str]], list] = {}
    for item in triples:
        groups.setdefault(("triple", item.relation if item.holds else None), []).append(item)
    for item in sentences:
        groups.setdefault(("sentence", item.relation), []).append(item)
    rng = random.Random(seed)
    train_set, held_out = LabelledSet(), LabelledSet()
    for (kind, _), items in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
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
                   seed: int) -> LabelledSet:
    """Add `ratio` corrupted triples per positive triple: the "no relation" class needs examples."""
    positives = [(x.head, x.relation, x.tail) for x in labels.triples if x.holds]
    negatives = corrupt(positives, sorted(entities), ratio, known, random.Random(seed))
    return LabelledSet(labels.triples + negatives, list(labels.sentences))


def with_reversals(labels: LabelledSet, symmetric: set[str], known_pairs: set[tuple[str, str]]) -> LabelledSet:
    """Each labelled triple and sentence also reversed (engine.direction), so the model learns which way
    a relation points and not only which entities it links."""
    return LabelledSet(labels.triples + reversed_triples(labels.triples, symmetric, known_pairs),
                       labels.sentences + reversed_sentences(labels.sentences, symmetric))


def _items(model: PromptClassifier, entities: dict[str, EntityText], labels: LabelledSet):
    items = [(model.encode_pair(entities[x.head], entities[x.tail]),
              model.index[x.relation if x.holds else NO_RELATION]) for x in labels.triples]
    items += [(model.encode_sentence(x), model.index[x.relation or NO_RELATION]) for x in labels.sentences]
    return items


def fit(model: PromptClassifier, entities: dict[str, EntityText], labels: LabelledSet, config: TrainConfig, *,
        progress: Optional[ProgressCallback] = None, cancel: Optional[CancelFlag] = None) -> TrainResult:
    return train(model, _items(model, entities, labels), [], batch_size=config.batch_size,
                 eval_batch_size=config.eval_batch_size, patience=config.patience, seed=config.seed,
                 evaluate=lambda logits, labels_: 0.0,
                 auxiliary_weight=config.entity_loss_weight if config.entity_loss else 0.0,
                 progress=progress, cancel=cancel)


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

    def scores(self) -> dict:
        """The figures without the reliability bins (what a checkpoint keeps)."""
        return {k: v for k, v in asdict(self).items() if not k.startswith("reliability")}


def evaluate(model: PromptClassifier, entities: dict[str, EntityText], labels: LabelledSet
             ) -> Optional[HeldOutReport]:
    """Accuracy and micro-F1 (without "no relation") on held-out labels, and the model calibrated on them (its
    temperature is set). None when nothing was held out."""
    items = _items(model, entities, labels)
    if not items:
        return None
    logits = model.logits_for([encoded for encoded, _ in items]).numpy()
    gold = np.array([label for _, label in items])
    predicted = logits.argmax(-1)
    ignore = [model.index[NO_RELATION]]
    temperature = fit_temperature(logits, gold)
    before = top_label_reliability(softmax(logits), gold)
    after = top_label_reliability(softmax(logits, temperature), gold)
    model.temperature = temperature
    return HeldOutReport(len(items), accuracy(gold.tolist(), predicted.tolist()),
                         micro_f1(gold.tolist(), predicted.tolist(), ignore), round(temperature, 4),
                         round(before.ece, 4), round(after.ece, 4), before.bins, after.bins)
