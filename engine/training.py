"""The training loop both the prompt model and the fine-tuning baseline use: stages, early stopping on dev,
progress and cancellation. Deterministic for a seed on the CPU (seeded shuffles, seeded dropout).
"""
from __future__ import annotations

import copy
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional, Protocol, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from transformers import get_linear_schedule_with_warmup

from engine.predicting import predict_logits
from engine.prompt import Encoded, collate
from engine.stage import Stage

if TYPE_CHECKING:
    from engine.base import Classifier

ProgressCallback = Callable[[int, int, float], None]


class TrainingCancelled(Exception):
    """Raised between steps when the caller's cancellation flag is set; the model keeps its best state so far."""


class CancelFlag(Protocol):
    def is_set(self) -> bool: ...


@dataclass
class Pool:
    """Items too many to train on in every epoch (a big KG's facts and their negatives): each epoch adds a
    fresh seeded sample of `per_epoch` of them to the items it always trains on, so an epoch's cost stays
    bounded however big the KG is, and over the epochs the model still sees much of it. With `encode`, the
    items are raw and only the drawn ones are encoded (WN18RR's 350,000 facts and negatives would take
    minutes to tokenize up front)."""

    items: Sequence
    per_epoch: int
    encode: Optional[Callable[[object], tuple[Encoded, int]]] = None

    @property
    def drawn(self) -> int:
        return min(self.per_epoch, len(self.items))

    def sample(self, generator: torch.Generator) -> list[tuple[Encoded, int]]:
        if self.drawn >= len(self.items):
            chosen = list(self.items)
        else:
            chosen = [self.items[i] for i in torch.randperm(len(self.items), generator=generator)[: self.drawn].tolist()]
        return [self.encode(item) for item in chosen] if self.encode is not None else chosen


@dataclass
class Pools:
    """Several pools, each with its own budget per epoch (the KG's facts; the corpus sentences that state them)."""

    parts: Sequence[Pool]

    @property
    def drawn(self) -> int:
        return sum(part.drawn for part in self.parts)

    def sample(self, generator: torch.Generator) -> list[tuple[Encoded, int]]:
        return [item for part in self.parts for item in part.sample(generator)]


@dataclass
class EpochRecord:
    stage: str
    epoch: int
    train_loss: float
    dev_score: float
    dev_loss: float


@dataclass
class TrainResult:
    best_stage: str = ""
    best_epoch: int = 0
    best_dev_score: float = float("-inf")
    history: list[EpochRecord] = field(default_factory=list)
    seconds: float = 0.0


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _mask_hooks(stage: Stage) -> list:
    hooks = []
    for parameter, rows in stage.row_masks.items():
        mask = torch.zeros_like(parameter)
        mask[rows] = 1.0
        hooks.append(parameter.register_hook(lambda grad, mask=mask: grad * mask))
    return hooks


def _train_epoch(target: "Classifier", train_items, batch_size: int, optimizer, scheduler, generator: torch.Generator,
                 auxiliary_weight: float, before_step: Callable[[], None], on_step: Callable[[float], None]
                 ) -> float:
    """One pass over the training items in a seeded order; returns the mean loss."""
    target.module.train()
    order = torch.randperm(len(train_items), generator=generator).tolist()
    losses = []
    for start in range(0, len(order), batch_size):
        before_step()
        chunk = [train_items[i] for i in order[start : start + batch_size]]
        batch = collate([item for item, _ in chunk], target.pad_id).to(target.device)
        labels = torch.tensor([label for _, label in chunk], device=target.device)
        loss = target.loss(batch, labels)
        if auxiliary_weight:
            extra = target.auxiliary_loss(batch, generator)
            if extra is not None:
                loss = loss + auxiliary_weight * extra
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(float(loss.detach()))
        on_step(losses[-1])
    return float(np.mean(losses))


@dataclass
class _Dev:
    """The dev set as the loop scores it: encodings, gold labels and the score function."""

    encoded: list[Encoded]
    labels: torch.Tensor
    evaluate: Callable[[torch.Tensor, torch.Tensor], float]
    batch_size: int

    def score(self, target: "Classifier", train_loss: float) -> tuple[float, float]:
        """(score, loss) on dev; without a dev set, the negative training loss and 0."""
        if not len(self.labels):
            return -train_loss, 0.0
        logits = predict_logits(target, self.encoded, self.batch_size)
        return self.evaluate(logits, self.labels), float(F.cross_entropy(logits, self.labels))


@dataclass
class _Best:
    """The best state seen so far (by dev score, then dev loss), which every stage starts from."""

    state: dict
    key: tuple[float, float] = (float("-inf"), float("-inf"))

    def offer(self, target: "Classifier", record: EpochRecord, result: TrainResult) -> bool:
        key = (record.dev_score, -record.dev_loss)
        if key <= self.key:
            return False
        self.key, self.state = key, copy.deepcopy(target.module.state_dict())
        result.best_stage, result.best_epoch, result.best_dev_score = record.stage, record.epoch, record.dev_score
        return True


def _run_stage(target: "Classifier", stage: Stage, epoch_pass: Callable, dev: _Dev, best: _Best,
               result: TrainResult, patience: int) -> None:
    """The stage's epochs until dev stalls for `patience` epochs; ends on the best state so far."""
    for parameter in target.module.parameters():
        parameter.requires_grad_(False)
    for parameter in stage.parameters:
        parameter.requires_grad_(True)
    hooks = _mask_hooks(stage)
    stale = 0
    try:
        for epoch in range(1, stage.epochs + 1):
            train_loss = epoch_pass()
            score, dev_loss = dev.score(target, train_loss)
            record = EpochRecord(stage.name, epoch, train_loss, score, dev_loss)
            result.history.append(record)
            stale = 0 if best.offer(target, record, result) else stale + 1
            if stale >= patience:
                break
    finally:
        for hook in hooks:
            hook.remove()
    target.module.load_state_dict(best.state)


def train(
    target: "Classifier",
    train_items: list[tuple[Encoded, int]],
    dev_items: list[tuple[Encoded, int]],
    *,
    batch_size: int,
    eval_batch_size: int,
    patience: int,
    seed: int,
    evaluate: Callable[[torch.Tensor, torch.Tensor], float],
    auxiliary_weight: float = 0.0,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelFlag] = None,
    pool: Optional[Pool | Pools] = None,
) -> TrainResult:
    """Run the stages in order; each starts from the best state so far and stops early when dev stalls. Every
    epoch trains on all `train_items` and a fresh sample of the `pool`."""
    pool = pool or Pool([], 0)
    if not train_items and not pool.drawn:
        raise ValueError("no training examples")
    seed_everything(seed)
    generator = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    stages = target.stages()
    steps_per_epoch = (len(train_items) + pool.drawn + batch_size - 1) // batch_size
    total = sum(stage.epochs for stage in stages) * steps_per_epoch
    result = TrainResult()
    best = _Best(copy.deepcopy(target.module.state_dict()))
    dev = _Dev([item for item, _ in dev_items], torch.tensor([label for _, label in dev_items], dtype=torch.long),
               evaluate, eval_batch_size)
    step = planned = 0

    def before_step() -> None:
        if cancel is not None and cancel.is_set():
            target.module.load_state_dict(best.state)
            raise TrainingCancelled(f"cancelled at step {step} of {total}")

    def on_step(loss: float) -> None:
        nonlocal step
        step += 1
        if progress is not None:
            progress(step, total, loss)

    for stage in stages:
        optimizer = torch.optim.AdamW(stage.parameters, lr=stage.lr, weight_decay=stage.weight_decay)
        stage_steps = stage.epochs * steps_per_epoch
        scheduler = get_linear_schedule_with_warmup(optimizer, int(stage.warmup_ratio * stage_steps), stage_steps)
        _run_stage(target, stage, lambda: _train_epoch(target, train_items + pool.sample(generator), batch_size,
                                                       optimizer, scheduler, generator, auxiliary_weight,
                                                       before_step, on_step),
                   dev, best, result, patience)
        planned += stage_steps
        step = max(step, planned)
    for parameter in target.module.parameters():
        parameter.requires_grad_(True)
    target.module.eval()
    result.seconds = time.perf_counter() - started
    if progress is not None:
        progress(total, total, result.history[-1].train_loss if result.history else 0.0)
    return result
