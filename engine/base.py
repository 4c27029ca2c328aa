"""The one model contract: what the training loop, the checkpoint and the app need of a classifier, whether it
reads a prompt's `[MASK]` (engine.classifier) or `[CLS]` (engine.finetune). Encodings in, class logits and
probabilities out.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from engine.config import TrainConfig
from engine.predicting import predict_logits
from engine.prompt import Batch, Encoded, PromptEncoder
from engine.types import EntityText, RelationSpec, SentenceExample

if TYPE_CHECKING:
    from engine.backbones import Backbone
    from engine.stage import Stage


class Classifier(ABC):
    """A backbone, the classes it tells apart, and the encoder that turns inputs into its token ids."""

    #: the name a checkpoint records and a benchmark method is called by (engine.methods resolves it)
    kind: ClassVar[str]
    backbone: "Backbone"
    config: TrainConfig
    classes: list[RelationSpec]
    index: dict[str, int]
    module: nn.Module
    encoder: PromptEncoder
    device: torch.device
    pad_id: int
    #: divides the logits before the softmax; fitted on held-out labels after training (engine.calibration)
    temperature: float = 1.0

    @abstractmethod
    def stages(self) -> list["Stage"]:
        """The optimisation stages, in order."""

    @classmethod
    @abstractmethod
    def restore(cls, backbone: "Backbone", classes: Sequence[RelationSpec], config: TrainConfig,
                meta: dict) -> "Classifier":
        """The untrained shell a checkpoint's weights are loaded into (meta: what `checkpoint_meta` saved)."""

    def checkpoint_meta(self) -> dict:
        """What a checkpoint must keep beyond the weights to rebuild this model exactly."""
        return {}

    def logits(self, batch: Batch) -> torch.Tensor:
        return self.module(batch)

    def loss(self, batch: Batch, labels: torch.Tensor) -> torch.Tensor:
        """The training loss of a batch (the auxiliary loss comes on top)."""
        return F.cross_entropy(self.logits(batch), labels)

    def auxiliary_loss(self, batch: Batch, generator: torch.Generator) -> Optional[torch.Tensor]:
        return None

    def encode_sentence(self, example: SentenceExample) -> Encoded:
        return self.encoder.sentence(example)

    def encode_pair(self, head: EntityText, tail: EntityText) -> Encoded:
        return self.encoder.pair(head, tail)

    def probabilities(self, items: list[Encoded]) -> torch.Tensor:
        """Class probabilities, shape (inputs, classes), batched under `torch.inference_mode()`."""
        return (self.logits_for(items) / self.temperature).softmax(dim=-1)

    def logits_for(self, items: list[Encoded]) -> torch.Tensor:
        """Uncalibrated class logits, shape (inputs, classes)."""
        return predict_logits(self, items, self.config.eval_batch_size)
