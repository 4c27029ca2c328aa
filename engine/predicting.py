"""Batched prediction for any classifier of the engine. A leaf module: the classifiers predict through it and
the training loop evaluates through it, without importing each other."""
from __future__ import annotations

from typing import Callable, Optional, Protocol

import torch
from torch import nn

from engine.prompt import Batch, Encoded, collate


class Predictor(Protocol):
    """What prediction needs of a classifier (`engine.base.Classifier` has it)."""

    module: nn.Module
    device: torch.device
    pad_id: int

    def logits(self, batch: Batch) -> torch.Tensor: ...


@torch.inference_mode()
def predict_logits(target: Predictor, items: list[Encoded], batch_size: int,
                   forward: Optional[Callable[[Batch], torch.Tensor]] = None) -> torch.Tensor:
    """Label logits (or what `forward` makes of a batch) for many inputs; batches sorted by length so padding
    stays small."""
    forward = forward or target.logits
    target.module.eval()
    order = sorted(range(len(items)), key=lambda i: len(items[i].input_ids))
    out: list[Optional[torch.Tensor]] = [None] * len(items)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        logits = forward(collate([items[i] for i in chunk], target.pad_id).to(target.device)).float().cpu()
        for row, index in enumerate(chunk):
            out[index] = logits[row]
    if not items:
        return torch.empty(0)
    return torch.stack(out)
