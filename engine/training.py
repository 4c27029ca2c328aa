"""The training loop both the prompt model and the fine-tuning baseline use: stages, early stopping on dev,
progress and cancellation. Deterministic for a seed on the CPU (seeded shuffles, seeded dropout).
"""
from __future__ import annotations

import copy
import random
import time
from dataclasses import dataclass, field
from typing import Callable, Optional, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from transformers import get_linear_schedule_with_warmup

from engine.prompt import Batch, Encoded, collate

ProgressCallback = Callable[[int, int, float], None]


class TrainingCancelled(Exception):
    """Raised between steps when the caller's cancellation flag is set; the model keeps its best state so far."""


class CancelFlag(Protocol):
    def is_set(self) -> bool: ...


@dataclass
class Stage:
    """One optimisation stage. `row_masks` limits a parameter's update to some rows (stage 1's prompt rows)."""

    name: str
    epochs: int
    parameters: list[nn.Parameter]
    lr: float
    weight_decay: float = 0.0
    warmup_ratio: float = 0.0
    row_masks: dict[nn.Parameter, torch.Tensor] = field(default_factory=dict)


class Trainable(Protocol):
    module: nn.Module
    device: torch.device
    pad_id: int

    def stages(self) -> list[Stage]: ...

    def logits(self, batch: Batch) -> torch.Tensor: ...

    def auxiliary_loss(self, batch: Batch, generator: torch.Generator) -> Optional[torch.Tensor]: ...


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


@torch.inference_mode()
def predict_logits(target: Trainable, items: list[Encoded], batch_size: int) -> torch.Tensor:
    """Label logits for many inputs; batches sorted by length so padding stays small."""
    target.module.eval()
    order = sorted(range(len(items)), key=lambda i: len(items[i].input_ids))
    out: list[Optional[torch.Tensor]] = [None] * len(items)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        logits = target.logits(collate([items[i] for i in chunk], target.pad_id).to(target.device)).float().cpu()
        for row, index in enumerate(chunk):
            out[index] = logits[row]
    if not items:
        return torch.empty(0)
    return torch.stack(out)


def _mask_hooks(stage: Stage) -> list:
    hooks = []
    for parameter, rows in stage.row_masks.items():
        mask = torch.zeros_like(parameter)
        mask[rows] = 1.0
        hooks.append(parameter.register_hook(lambda grad, mask=mask: grad * mask))
    return hooks


def _train_epoch(target: Trainable, train_items, batch_size: int, optimizer, scheduler, generator: torch.Generator,
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
        loss = F.cross_entropy(target.logits(batch), labels)
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


def train(
    target: Trainable,
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
) -> TrainResult:
    """Run the stages in order; each starts from the best state so far and stops early when dev stalls."""
    if not train_items:
        raise ValueError("no training examples")
    seed_everything(seed)
    generator = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    stages = target.stages()
    steps_per_epoch = (len(train_items) + batch_size - 1) // batch_size
    total = sum(stage.epochs for stage in stages) * steps_per_epoch
    result = TrainResult()
    best_state = copy.deepcopy(target.module.state_dict())
    best_key = (float("-inf"), float("-inf"))
    dev_encoded = [item for item, _ in dev_items]
    dev_labels = torch.tensor([label for _, label in dev_items], dtype=torch.long)
    step = planned = 0

    def before_step() -> None:
        if cancel is not None and cancel.is_set():
            target.module.load_state_dict(best_state)
            raise TrainingCancelled(f"cancelled at step {step} of {total}")

    def on_step(loss: float) -> None:
        nonlocal step
        step += 1
        if progress is not None:
            progress(step, total, loss)

    for stage in stages:
        for parameter in target.module.parameters():
            parameter.requires_grad_(False)
        for parameter in stage.parameters:
            parameter.requires_grad_(True)
        optimizer = torch.optim.AdamW(stage.parameters, lr=stage.lr, weight_decay=stage.weight_decay)
        stage_steps = stage.epochs * steps_per_epoch
        scheduler = get_linear_schedule_with_warmup(optimizer, int(stage.warmup_ratio * stage_steps), stage_steps)
        hooks = _mask_hooks(stage)
        stale = 0
        try:
            for epoch in range(1, stage.epochs + 1):
                train_loss = _train_epoch(target, train_items, batch_size, optimizer, scheduler, generator,
                                          auxiliary_weight, before_step, on_step)
                dev_logits = predict_logits(target, dev_encoded, eval_batch_size)
                dev_loss = float(F.cross_entropy(dev_logits, dev_labels)) if len(dev_labels) else 0.0
                score = evaluate(dev_logits, dev_labels) if len(dev_labels) else -train_loss
                result.history.append(EpochRecord(stage.name, epoch, train_loss, score, dev_loss))
                if (score, -dev_loss) > best_key:
                    best_key = (score, -dev_loss)
                    best_state = copy.deepcopy(target.module.state_dict())
                    result.best_stage, result.best_epoch, result.best_dev_score = stage.name, epoch, score
                    stale = 0
                else:
                    stale += 1
                    if stale >= patience:
                        break
        finally:
            for hook in hooks:
                hook.remove()
        target.module.load_state_dict(best_state)
        planned += stage_steps
        step = max(step, planned)
    for parameter in target.module.parameters():
        parameter.requires_grad_(True)
    target.module.eval()
    result.seconds = time.perf_counter() - started
    if progress is not None:
        progress(total, total, result.history[-1].train_loss if result.history else 0.0)
    return result
