"""The knowledge-guided template and how examples become token ids.

Input: `[CLS] X_in [SEP] X_s T1 T2 [MASK] T3 X_o [SEP]`, X_in followed by the template (engine.template).
X_in is the sentence with its mentions marked (`@ head @`, `# tail #`) for relation extraction, or the two
entities' names and descriptions for link prediction. Every encoding remembers where the entity mentions of
X_in are, for the entity-discrimination loss.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import torch
from transformers import PreTrainedTokenizerBase

from engine.types import EntityText, SentenceExample
from engine.vocabulary import word_piece_ids

if TYPE_CHECKING:
    from engine.template import Template

HEAD_MARKER, TAIL_MARKER = "@", "#"


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    mask_position: int
    entity_spans: tuple[tuple[int, int], ...]


@dataclass
class Batch:
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    mask_positions: torch.Tensor
    entity_spans: list[tuple[tuple[int, int], ...]]

    def to(self, device: torch.device) -> "Batch":
        return Batch(self.input_ids.to(device), self.attention_mask.to(device), self.mask_positions.to(device),
                     self.entity_spans)


class PromptEncoder:
    """Turns sentences and entity pairs into template-wrapped token ids of at most `max_length`.

    Without a template (the fine-tuning baseline) the input is `[CLS] X_in [SEP]`, read at `[CLS]`.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase, template: Optional["Template"], max_length: int = 128,
                 max_entity_tokens: int = 12, max_description_tokens: int = 24) -> None:
        self.tokenizer = tokenizer
        self.template = template
        self.max_length = max_length
        self.max_entity_tokens = max_entity_tokens
        self.max_description_tokens = max_description_tokens
        self._cache: dict[str, list[int]] = {}

    def _ids(self, text: str) -> list[int]:
        if text not in self._cache:
            self._cache[text] = word_piece_ids(self.tokenizer, text)
        return self._cache[text]

    def _template(self, head: str, tail: str) -> tuple[list[int], int]:
        """The template's ids and the offset of `[MASK]` in them; none without a template (read at `[CLS]`)."""
        if self.template is None:
            return [], -1
        return self.template.wrap(self._ids(head)[: self.max_entity_tokens], self._ids(tail)[: self.max_entity_tokens])

    def _assemble(self, x_in: list[int], spans: list[tuple[int, int]], head: str, tail: str) -> Encoded:
        template, mask_offset = self._template(head, tail)
        start = [self.tokenizer.cls_token_id]
        body = x_in + [self.tokenizer.sep_token_id]
        ids = start + body + template
        shift = len(start)
        mask_position = shift + len(body) + mask_offset if template else 0
        return Encoded(ids, mask_position, tuple((s + shift, e + shift) for s, e in spans))

    def sentence(self, example: SentenceExample) -> Encoded:
        """RE input: the marked sentence, cut to a window around the mentions when it is too long."""
        pieces: list[int] = []
        spans: dict[str, tuple[int, int]] = {}
        openers = {example.head[0]: ("head", HEAD_MARKER), example.tail[0]: ("tail", TAIL_MARKER)}
        closers = {example.head[1]: HEAD_MARKER, example.tail[1]: TAIL_MARKER}
        starts: dict[str, int] = {}
        for index, word in enumerate(example.tokens):
            if index in closers:
                self._close(pieces, spans, starts, closers[index])
            if index in openers:
                which, marker = openers[index]
                pieces += self._ids(marker)
                starts[which] = len(pieces)
            pieces += self._ids(word)
        if len(example.tokens) in closers:
            self._close(pieces, spans, starts, closers[len(example.tokens)])
        head_text = " ".join(example.tokens[example.head[0] : example.head[1]])
        tail_text = " ".join(example.tokens[example.tail[0] : example.tail[1]])
        template_length = len(self._template(head_text, tail_text)[0])
        budget = self.max_length - template_length - 2
        pieces, offset = self._window(pieces, list(spans.values()), budget)
        kept = [(s - offset, e - offset) for s, e in spans.values() if s - offset >= 0 and e - offset <= len(pieces)]
        return self._assemble(pieces, kept, head_text, tail_text)

    def _close(self, pieces, spans, starts, marker) -> None:
        which = "head" if marker == HEAD_MARKER else "tail"
        if which in starts and which not in spans:
            spans[which] = (starts[which], len(pieces))
            pieces += self._ids(marker)

    @staticmethod
    def _window(pieces: list[int], spans: list[tuple[int, int]], budget: int) -> tuple[list[int], int]:
        if len(pieces) <= budget:
            return pieces, 0
        low = min((s for s, _ in spans), default=0)
        high = max((e for _, e in spans), default=0)
        start = max(0, min(low - (budget - (high - low)) // 2, len(pieces) - budget))
        return pieces[start : start + budget], start

    def pair(self, head: EntityText, tail: EntityText) -> Encoded:
        """LP input: each entity's name and the start of its description."""
        budget = (self.max_length - 4 - 2 * (self.max_entity_tokens + 4)) // 2
        x_in: list[int] = []
        spans = []
        for entity in (head, tail):
            if x_in:
                x_in.append(self.tokenizer.sep_token_id)
            name_ids = self._ids(entity.label)[: self.max_entity_tokens]
            spans.append((len(x_in), len(x_in) + len(name_ids)))
            text = entity.description[: 8 * self.max_description_tokens]
            description = self._ids(text)[: min(self.max_description_tokens, budget - len(name_ids) - 1)]
            x_in += name_ids + (self._ids(":") + description if description else [])
        return self._assemble(x_in, spans, head.label, tail.label)


def collate(items: list[Encoded], pad_id: int) -> Batch:
    width = max(len(item.input_ids) for item in items)
    ids = torch.full((len(items), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(items), width), dtype=torch.long)
    for row, item in enumerate(items):
        ids[row, : len(item.input_ids)] = torch.tensor(item.input_ids)
        attention[row, : len(item.input_ids)] = 1
    positions = torch.tensor([item.mask_position for item in items], dtype=torch.long)
    return Batch(ids, attention, positions, [item.entity_spans for item in items])
