"""The prompt model: a masked LM whose MLM head, read at `[MASK]` and restricted to the label tokens, is the
relation classifier, plus the entity-discrimination loss; optionally a second head on the same encoder, a
linear layer on `[CLS]` (engine.heads says why and how one is chosen).
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel

from engine.config import PROMPT
from engine.lm_output import mlm_head, output_bias
from engine.heads import combine, shifted
from engine.prompt import Batch


class PromptModel(nn.Module):
    """Scores the label tokens at `[MASK]`: p(y | x) = softmax_y(W[label_y] · h_[MASK] + b[label_y]); with
    `classifier_head`, also softmax_y(V · h_[CLS] + c), and `head` says which (or their average) predicts."""

    def __init__(self, lm: PreTrainedModel, label_ids: list[int], classifier_head: bool = False) -> None:
        super().__init__()
        self.lm = lm
        self.register_buffer("label_ids", torch.tensor(label_ids, dtype=torch.long), persistent=False)
        self._head = mlm_head(lm)
        self.classifier: Optional[nn.Linear] = None
        if classifier_head:
            self.dropout = nn.Dropout(getattr(lm.config, "hidden_dropout_prob", 0.1))
            self.classifier = nn.Linear(lm.config.hidden_size, len(label_ids))
        self.head = PROMPT
        #: added to the "no relation" logit when predicting (engine.heads: chosen with the head); not in training
        self.no_relation_shift = 0.0
        self.none_index: Optional[int] = None

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.lm.base_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    def label_logits_from_hidden(self, hidden: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """The MLM head at `[MASK]`, computed for the label rows only where the head's parts are known (BERT):
        the same numbers as the full head restricted to those rows, without projecting onto 30k words."""
        at_mask = hidden[torch.arange(hidden.size(0), device=hidden.device), positions]
        predictions = getattr(getattr(self.lm, "cls", None), "predictions", None)
        if predictions is not None and hasattr(predictions, "transform"):
            decoder = self.lm.get_output_embeddings()
            logits = predictions.transform(at_mask) @ decoder.weight[self.label_ids].T
            bias = output_bias(self.lm)
            return logits + bias[self.label_ids] if bias is not None else logits
        return self._head(at_mask)[:, self.label_ids]

    def heads(self, batch: Batch) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """(prompt logits, classifier logits or None) from one pass of the encoder."""
        hidden = self.encode(batch.input_ids, batch.attention_mask)
        prompt = self.label_logits_from_hidden(hidden, batch.mask_positions)
        if self.classifier is None:
            return prompt, None
        return prompt, self.classifier(self.dropout(hidden[:, 0]))

    def forward(self, batch: Batch) -> torch.Tensor:
        """Label logits of the head in use, shape (batch, number of labels)."""
        return shifted(combine(*self.heads(batch), self.head), self.none_index, self.no_relation_shift)

    def entity_loss(self, batch: Batch, generator: torch.Generator, mask_token_id: int) -> torch.Tensor:
        """L_E: mask one mention per example (chosen at random), predict its tokens over the whole vocabulary.

        Binary cross-entropy against the one-hot target, so every vocabulary row gets a gradient. The one
        positive is weighted like all negatives together (`pos_weight` = vocabulary size - 1): a plain sum
        over 30k rows is two orders of magnitude above the relation loss and swamps it at any useful λ.
        """
        input_ids = batch.input_ids.clone()
        rows, columns, targets = [], [], []
        for row, spans in enumerate(batch.entity_spans):
            if not spans:
                continue
            start, end = spans[int(torch.randint(len(spans), (1,), generator=generator))]
            for column in range(start, end):
                rows.append(row)
                columns.append(column)
                targets.append(int(input_ids[row, column]))
            input_ids[row, start:end] = mask_token_id
        if not rows:
            return batch.input_ids.new_zeros((), dtype=torch.float)
        hidden = self.encode(input_ids, batch.attention_mask)
        device = hidden.device
        logits = self._head(hidden[torch.tensor(rows, device=device), torch.tensor(columns, device=device)])
        target = F.one_hot(torch.tensor(targets, device=device), logits.size(-1)).to(logits.dtype)
        weight = torch.tensor(float(logits.size(-1) - 1), device=device)
        return F.binary_cross_entropy_with_logits(logits, target, pos_weight=weight) * 2
