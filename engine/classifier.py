"""KnowCo-Tuning as one object: a backbone, the prompt's rows, the classes, and the scoring API the app uses.

The same model serves relation extraction (which relation does this sentence state?) and link prediction
(does (h, r, t) hold? = the probability of r at `[MASK]` for the pair h, t).
"""
from __future__ import annotations

from typing import Iterable, Optional, Sequence

import torch

from engine.backbones import Backbone, pick_device
from engine.base import Classifier
from engine.config import TrainConfig
from engine.label_words import init_rows
from engine.model import PromptModel, output_bias
from engine.prompt import TEMPLATE_WORDS, Batch, PromptEncoder
from engine.training import Stage
from engine.types import NO_RELATION, EntityText, RelationSpec, SentenceExample
from engine.vocabulary import reserve_token_ids, word_piece_ids

NO_RELATION_WORDS = "no relation"


class PromptClassifier(Classifier):
    """Label tokens at `[MASK]` for `classes` (a relation list, with "no relation" where the task has one)."""

    kind = "knowco"

    def __init__(self, backbone: Backbone, classes: Sequence[RelationSpec], config: TrainConfig, *,
                 initialise: bool = True) -> None:
        self.backbone, self.config, self.classes = backbone, config, list(classes)
        self.index = {spec.name: i for i, spec in enumerate(self.classes)}
        if len(self.index) != len(self.classes):
            raise ValueError("relation names must be unique")
        tokenizer, lm = backbone.tokenizer, backbone.model
        reserved = reserve_token_ids(tokenizer, lm, len(TEMPLATE_WORDS) + len(self.classes))
        self.label_ids = reserved[len(TEMPLATE_WORDS):]
        if config.adaptive_template:
            self.template_ids = reserved[: len(TEMPLATE_WORDS)]
        else:
            self.template_ids = [word_piece_ids(tokenizer, word)[0] for word in TEMPLATE_WORDS]
        if initialise:
            generator = torch.Generator().manual_seed(config.seed)
            if config.adaptive_template:
                init_rows(lm, tokenizer, self.template_ids, list(TEMPLATE_WORDS),
                          random=config.template_init == "random", generator=generator)
            init_rows(lm, tokenizer, self.label_ids, [spec.words for spec in self.classes],
                      random=config.label_init == "random", generator=generator)
        self.device = pick_device(config.device)
        self.module = PromptModel(lm, self.label_ids).to(self.device)
        self.encoder = PromptEncoder(tokenizer, self.template_ids, max_length=config.max_length)
        self.pad_id = tokenizer.pad_token_id or 0

    # --- what the trainer needs -------------------------------------------------------------------------------
    def prompt_rows(self) -> list[int]:
        return (self.template_ids if self.config.adaptive_template else []) + self.label_ids

    def stages(self) -> list[Stage]:
        embeddings = self.backbone.model.get_input_embeddings().weight
        bias = output_bias(self.backbone.model)
        rows = torch.tensor(self.prompt_rows())
        stages = []
        if self.config.two_stage:
            parameters = [embeddings] + ([bias] if bias is not None else [])
            masks = {embeddings: rows, **({bias: torch.tensor(self.label_ids)} if bias is not None else {})}
            stages.append(Stage("stage1", self.config.stage1_epochs, parameters, self.config.stage1_lr,
                                row_masks=masks))
        stages.append(Stage("stage2", self.config.stage2_epochs, list(self.module.parameters()),
                            self.config.stage2_lr, self.config.weight_decay, self.config.warmup_ratio))
        return stages

    def auxiliary_loss(self, batch: Batch, generator: torch.Generator) -> Optional[torch.Tensor]:
        if not self.config.entity_loss:
            return None
        return self.module.entity_loss(batch, generator, self.backbone.tokenizer.mask_token_id)

    # --- scoring API ------------------------------------------------------------------------------------------
    def relation_distribution(self, sentences: Iterable[SentenceExample]) -> list[dict[str, float]]:
        probs = self.probabilities([self.encode_sentence(s) for s in sentences])
        return [{spec.name: float(p) for spec, p in zip(self.classes, row)} for row in probs]

    def triple_probability(self, triples: Iterable[tuple[EntityText, str, EntityText]]) -> list[float]:
        """p(r | h, t) for each (h, r, t): the probability the triple holds."""
        triples = list(triples)
        probs = self.probabilities([self.encode_pair(h, t) for h, _, t in triples])
        return [float(probs[row, self.index[r]]) for row, (_, r, _) in enumerate(triples)]

    def top_tails(self, head: EntityText, relation: str, candidates: Sequence[EntityText], k: int = 10
                  ) -> list[tuple[str, float]]:
        scores = self.triple_probability((head, relation, tail) for tail in candidates)
        return sorted(((c.name, s) for c, s in zip(candidates, scores)), key=lambda x: -x[1])[:k]

    def top_heads(self, tail: EntityText, relation: str, candidates: Sequence[EntityText], k: int = 10
                  ) -> list[tuple[str, float]]:
        scores = self.triple_probability((head, relation, tail) for head in candidates)
        return sorted(((c.name, s) for c, s in zip(candidates, scores)), key=lambda x: -x[1])[:k]


def with_no_relation(relations: Sequence[RelationSpec]) -> list[RelationSpec]:
    """The classes of a task that has a "no relation" answer (LP negatives, RE's `Other`)."""
    return [*relations, RelationSpec(NO_RELATION, NO_RELATION_WORDS)]
