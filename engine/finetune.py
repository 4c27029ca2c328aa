"""The baseline: plain fine-tuning, `[CLS]` + a linear layer, on the same backbone, inputs, seeds and splits."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from engine.backbones import Backbone, pick_device
from engine.base import Classifier
from engine.config import TrainConfig
from engine.prompt import Batch, PromptEncoder
from engine.stage import Stage
from engine.types import RelationSpec


class _ClsHead(nn.Module):
    def __init__(self, encoder: nn.Module, hidden: int, classes: int, dropout: float) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(hidden, classes)

    def forward(self, batch: Batch) -> torch.Tensor:
        hidden = self.encoder(input_ids=batch.input_ids, attention_mask=batch.attention_mask).last_hidden_state
        return self.linear(self.dropout(hidden[:, 0]))


class FineTuneClassifier(Classifier):
    """Same input text as the prompt model (marked sentence, or the two entity texts) without the template."""

    kind = "finetune"

    def __init__(self, backbone: Backbone, classes: Sequence[RelationSpec], config: TrainConfig) -> None:
        self.backbone, self.config, self.classes = backbone, config, list(classes)
        self.index = {spec.name: i for i, spec in enumerate(self.classes)}
        torch.manual_seed(config.seed)
        lm_config = backbone.model.config
        dropout = getattr(lm_config, "hidden_dropout_prob", 0.1)
        self.device = pick_device(config.device)
        self.module = _ClsHead(backbone.model.base_model, lm_config.hidden_size, len(self.classes), dropout)
        self.module.to(self.device)
        self.encoder = PromptEncoder(backbone.tokenizer, None, max_length=config.max_length)
        self.pad_id = backbone.tokenizer.pad_token_id or 0

    @classmethod
    def restore(cls, backbone: Backbone, classes: Sequence[RelationSpec], config: TrainConfig,
                meta: dict) -> "FineTuneClassifier":
        return cls(backbone, classes, config)

    def stages(self) -> list[Stage]:
        return [Stage("finetune", self.config.stage2_epochs, list(self.module.parameters()), self.config.stage2_lr,
                      self.config.weight_decay, self.config.warmup_ratio)]

