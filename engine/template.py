"""The knowledge-guided template "X_s is the [MASK] of X_o" (OpenPrompt's Template: how an input is wrapped).

Its function words are learnable tokens T1 T2 T3, initialised from "is", "the", "of" (or at random), or stay
the real words when the adaptive template is switched off. `wrap` appends it after the input:
`X_s T1 T2 [MASK] T3 X_o [SEP]`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from engine.label_words import init_rows
from engine.vocabulary import word_piece_ids

TEMPLATE_WORDS = ("is", "the", "of")


@dataclass(frozen=True)
class Template:
    token_ids: tuple[int, ...]
    mask_id: int
    sep_id: int
    learnable: bool

    @classmethod
    def build(cls, tokenizer: PreTrainedTokenizerBase, reserved: list[int], *, learnable: bool) -> "Template":
        """Learnable: on the `reserved` rows; else the real words' first sub-tokens."""
        if learnable:
            ids = tuple(reserved[: len(TEMPLATE_WORDS)])
        else:
            ids = tuple(word_piece_ids(tokenizer, word)[0] for word in TEMPLATE_WORDS)
        if len(ids) != len(TEMPLATE_WORDS):
            raise ValueError(f"the template needs {len(TEMPLATE_WORDS)} token ids, got {len(ids)}")
        return cls(ids, tokenizer.mask_token_id, tokenizer.sep_token_id, learnable)

    def initialise(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, *, random: bool,
                   generator: torch.Generator) -> None:
        """Knowledge-guided start: each learnable row is the embedding of the word it replaces."""
        if self.learnable:
            init_rows(model, tokenizer, list(self.token_ids), list(TEMPLATE_WORDS), random=random,
                      generator=generator)

    @property
    def rows(self) -> list[int]:
        """The embedding rows that train with the prompt (none when the template is the real words)."""
        return list(self.token_ids) if self.learnable else []

    def wrap(self, head_ids: list[int], tail_ids: list[int]) -> tuple[list[int], int]:
        """`X_s T1 T2 [MASK] T3 X_o [SEP]` and the offset of `[MASK]` in it."""
        t1, t2, t3 = self.token_ids
        return head_ids + [t1, t2, self.mask_id, t3] + tail_ids + [self.sep_id], len(head_ids) + 2
