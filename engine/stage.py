"""One optimisation stage of a training (the paper's two: prompt embeddings first, then everything). A leaf
module: the classifiers build their stages and the training loop runs them, without importing each other."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn


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
