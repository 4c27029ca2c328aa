"""Relation extraction with either model: build, fit on K-shot sentences, evaluate micro-F1 and accuracy."""
from __future__ import annotations

import time
from typing import Optional, Sequence

from engine.backbones import load_backbone
from engine.config import TrainConfig
from engine.methods import classifier_class
from engine.metrics import accuracy, micro_f1
from engine.training import CancelFlag, ProgressCallback, TrainResult, seed_everything, train
from engine.types import NO_RELATION, RelationSpec, SentenceExample
from engine.verbalizer import with_no_relation


def build(method: str, relations: Sequence[RelationSpec], config: TrainConfig, *, no_relation: bool):
    """A fresh model (backbone weights reloaded from disk) for `method`."""
    model_class = classifier_class(method)
    seed_everything(config.seed)
    classes = with_no_relation(relations) if no_relation else list(relations)
    return model_class(load_backbone(config.backbone), classes, config)


def _label(model, relation: Optional[str]) -> int:
    return model.index[relation if relation is not None else NO_RELATION]


def fit(model, train_set: Sequence[SentenceExample], dev_set: Sequence[SentenceExample], config: TrainConfig, *,
        progress: Optional[ProgressCallback] = None, cancel: Optional[CancelFlag] = None) -> TrainResult:
    ignore = [model.index[NO_RELATION]] if NO_RELATION in model.index else []
    items = [(model.encode_sentence(x), _label(model, x.relation)) for x in train_set]
    dev = [(model.encode_sentence(x), _label(model, x.relation)) for x in dev_set]
    return train(
        model, items, dev, batch_size=config.batch_size, eval_batch_size=config.eval_batch_size,
        patience=config.patience, seed=config.seed,
        evaluate=lambda logits, labels: micro_f1(labels.tolist(), logits.argmax(-1).tolist(), ignore),
        auxiliary_weight=config.entity_loss_weight if config.entity_loss else 0.0,
        progress=progress, cancel=cancel,
    )


def evaluate(model, test_set: Sequence[SentenceExample]) -> tuple[dict[str, float], float]:
    """Metrics on a test set and the seconds inference took."""
    started = time.perf_counter()
    probs = model.probabilities([model.encode_sentence(x) for x in test_set])
    seconds = time.perf_counter() - started
    gold = [_label(model, x.relation) for x in test_set]
    predicted = probs.argmax(-1).tolist()
    ignore = [model.index[NO_RELATION]] if NO_RELATION in model.index else []
    return {"micro_f1": micro_f1(gold, predicted, ignore), "accuracy": accuracy(gold, predicted)}, seconds
