"""Where a masked LM's output layer is: the MLM head the prompt reads at `[MASK]` and the output bias the label
words initialise from. A leaf module, so that the label words and the prompt model both read it without importing
each other."""
from __future__ import annotations

from typing import Callable

import torch
from transformers import PreTrainedModel


def mlm_head(model: PreTrainedModel) -> Callable[[torch.Tensor], torch.Tensor]:
    """hidden states → vocabulary logits, for BERT-like (`cls`), RoBERTa-like (`lm_head`) and DistilBERT models."""
    for attribute in ("cls", "lm_head"):
        if hasattr(model, attribute):
            return getattr(model, attribute)
    if hasattr(model, "vocab_projector"):
        def distilbert_head(hidden: torch.Tensor) -> torch.Tensor:
            hidden = model.activation(model.vocab_transform(hidden))
            return model.vocab_projector(model.vocab_layer_norm(hidden))
        return distilbert_head
    raise ValueError(f"do not know where the MLM head of {type(model).__name__} is")


def output_bias(model: PreTrainedModel) -> torch.Tensor | None:
    decoder = model.get_output_embeddings()
    return getattr(decoder, "bias", None)
