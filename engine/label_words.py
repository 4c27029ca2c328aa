"""Knowledge-guided initialisation of the prompt's rows: label tokens from the relation's words, template
tokens from the template's words (or both at random, for the ablations).

The MLM decoder is tied to the input embeddings in BERT-like models, so setting a row sets both how the
token reads and how it is scored at `[MASK]`; the decoder bias of a label row starts at its words' mean bias.
"""
from __future__ import annotations

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from engine.lm_output import output_bias
from engine.vocabulary import word_piece_ids


class LabelWordError(ValueError):
    """Label words that cannot start distinct or cannot be built from the vocabulary."""


def _random_rows(model: PreTrainedModel, count: int, generator: torch.Generator) -> torch.Tensor:
    std = getattr(model.config, "initializer_range", 0.02)
    width = model.get_input_embeddings().weight.size(1)
    return torch.randn(count, width, generator=generator) * std


@torch.no_grad()
def init_rows(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    row_ids: list[int],
    words: list[str],
    *,
    random: bool,
    generator: torch.Generator,
) -> None:
    """Set each row to the mean embedding of the real sub-tokens of its words (or to a random vector)."""
    embeddings = model.get_input_embeddings().weight
    bias = output_bias(model)
    if random:
        embeddings[row_ids] = _random_rows(model, len(row_ids), generator).to(embeddings.dtype)
        if bias is not None:
            bias[row_ids] = 0.0
        return
    for row, text in zip(row_ids, words):
        pieces = word_piece_ids(tokenizer, text)
        if not pieces:
            raise LabelWordError(f"the words {text!r} have no sub-tokens in this vocabulary")
        embeddings[row] = embeddings[pieces].mean(dim=0)
        if bias is not None:
            bias[row] = bias[pieces].mean()
    check_distinct(embeddings[row_ids], words)


def check_distinct(rows: torch.Tensor, words: list[str]) -> None:
    """Two labels that start identical can never be told apart by stage 1: refuse them with their names."""
    normalised = torch.nn.functional.normalize(rows.float(), dim=1)
    similarity = normalised @ normalised.T
    similarity.fill_diagonal_(0.0)
    first, second = divmod(int(similarity.argmax()), similarity.size(1))
    if similarity.numel() and float(similarity[first, second]) > 0.9999:
        raise LabelWordError(
            f"labels {words[first]!r} and {words[second]!r} start with the same embedding: give the relations "
            "different words (for directions, e.g. 'cause to effect' and 'effect from cause')"
        )
