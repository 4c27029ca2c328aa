"""What the prompt model and the fine-tuning baseline share: encodings in, class logits and probabilities out."""
from __future__ import annotations

from typing import Optional

import torch

from engine.prompt import Batch, Encoded
from engine.training import predict_logits
from engine.types import EntityText, SentenceExample


class Classifier:
    """Subclasses set `module`, `encoder`, `config`, `classes`, `index`, `device`, `pad_id` and `stages()`."""

    kind = ""
    #: divides the logits before the softmax; fitted on held-out labels after training (engine.calibration)
    temperature: float = 1.0

    def logits(self, batch: Batch) -> torch.Tensor:
        return self.module(batch)

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
