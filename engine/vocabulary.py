"""Rows of the embedding matrix that the prompt owns: template tokens and one label token per class.

BERT-style vocabularies have `[unused*]` rows nobody uses, so the prompt takes those (no resize, and the
MLM decoder, tied to the input embeddings, scores them at `[MASK]` like any word). Vocabularies without them
get new tokens added and the embeddings resized.
"""
from __future__ import annotations

import re

from transformers import PreTrainedModel, PreTrainedTokenizerBase

_UNUSED = re.compile(r"^\[unused\d+\]$")


def reserve_token_ids(tokenizer: PreTrainedTokenizerBase, model: PreTrainedModel, count: int) -> list[int]:
    """`count` token ids the prompt may overwrite, taken from `[unused*]` rows or else added."""
    vocab = tokenizer.get_vocab()
    unused = sorted(index for token, index in vocab.items() if _UNUSED.match(token))
    if len(unused) >= count:
        return unused[:count]
    new_tokens = [f"[knowco_{i}]" for i in range(count)]
    tokenizer.add_tokens(new_tokens, special_tokens=True)
    model.resize_token_embeddings(len(tokenizer))
    return tokenizer.convert_tokens_to_ids(new_tokens)


def word_piece_ids(tokenizer: PreTrainedTokenizerBase, words: str) -> list[int]:
    """The real sub-token ids of some words: no special tokens, no padding, no unknowns."""
    ids = tokenizer(words, add_special_tokens=False)["input_ids"]
    return [i for i in ids if i not in tokenizer.all_special_ids]
