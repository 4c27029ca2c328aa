"""KnowCo-Tuning as one object: a backbone, the prompt's rows, the classes, and the scoring API the app uses.

The same model serves relation extraction (which relation does this sentence state?) and link prediction
(does (h, r, t) hold? = the probability of r at `[MASK]` for the pair h, t).
"""
from __future__ import annotations

from typing import Iterable, Optional, Sequence

import torch
import torch.nn.functional as F

from engine.backbones import Backbone, pick_device
from engine.base import Classifier
from engine.config import AUTO, AVERAGE, HEAD_SETTINGS, PROMPT, TrainConfig
from engine.lm_output import output_bias
from engine.model import PromptModel
from engine.prompt import Batch, PromptEncoder
from engine.template import TEMPLATE_WORDS, Template
from engine.predicting import predict_logits
from engine.stage import Stage
from engine.types import NO_RELATION, EntityText, RelationSpec, SentenceExample
from engine.verbalizer import Verbalizer
from engine.vocabulary import reserve_token_ids


class PromptClassifier(Classifier):
    """KnowCo-Tuning: the encoder wraps inputs in the `template`; the `verbalizer`'s label tokens are read at
    `[MASK]` for the classes (a relation list, with "no relation" where the task has one)."""

    kind = "knowco"

    def __init__(self, backbone: Backbone, classes: Sequence[RelationSpec], config: TrainConfig, *,
                 initialise: bool = True) -> None:
        self.backbone, self.config = backbone, config
        tokenizer, lm = backbone.tokenizer, backbone.model
        reserved = reserve_token_ids(tokenizer, lm, len(TEMPLATE_WORDS) + len(classes))
        self.template = Template.build(tokenizer, reserved, learnable=config.adaptive_template)
        self.verbalizer = Verbalizer.build(classes, reserved)
        self.classes = list(self.verbalizer.classes)
        self.index = {spec.name: i for i, spec in enumerate(self.classes)}
        if initialise:
            generator = torch.Generator().manual_seed(config.seed)
            self.template.initialise(lm, tokenizer, random=config.template_init == "random", generator=generator)
            self.verbalizer.initialise(lm, tokenizer, random=config.label_init == "random", generator=generator)
        if config.head not in HEAD_SETTINGS:
            raise ValueError(f"unknown head {config.head!r} (expected one of {', '.join(HEAD_SETTINGS)})")
        self.device = pick_device(config.device)
        self.module = PromptModel(lm, self.label_ids, classifier_head=config.head != PROMPT).to(self.device)
        self.module.none_index = self.index.get(NO_RELATION)
        self.head = AVERAGE if config.head == AUTO else config.head
        self.encoder = PromptEncoder(tokenizer, self.template, max_length=config.max_length)
        self.pad_id = tokenizer.pad_token_id or 0

    @property
    def head(self) -> str:
        """The head that predicts: the prompt, the `[CLS]` classifier or their average (engine.heads)."""
        return self.module.head

    @head.setter
    def head(self, value: str) -> None:
        self.module.head = value

    @property
    def label_ids(self) -> list[int]:
        return list(self.verbalizer.token_ids)

    @property
    def template_ids(self) -> list[int]:
        return list(self.template.token_ids)

    @classmethod
    def restore(cls, backbone: Backbone, classes: Sequence[RelationSpec], config: TrainConfig,
                meta: dict) -> "PromptClassifier":
        model = cls(backbone, classes, config, initialise=False)
        if model.label_ids != meta["label_ids"] or model.template_ids != meta["template_ids"]:
            raise ValueError("the backbone's vocabulary no longer matches the checkpoint's prompt rows")
        model.head = meta.get("head", model.head)
        model.module.no_relation_shift = float(meta.get("no_relation_shift", 0.0))
        return model

    def checkpoint_meta(self) -> dict:
        return {"template_ids": self.template_ids, "label_ids": self.label_ids, "head": self.head,
                "no_relation_shift": self.module.no_relation_shift}

    # --- what the trainer needs -------------------------------------------------------------------------------
    def prompt_rows(self) -> list[int]:
        return self.template.rows + self.label_ids

    def stages(self) -> list[Stage]:
        embeddings = self.backbone.model.get_input_embeddings().weight
        bias = output_bias(self.backbone.model)
        rows = torch.tensor(self.prompt_rows())
        stages = []
        classifier = list(self.module.classifier.parameters()) if self.module.classifier is not None else []
        if self.config.two_stage and self.config.stage1_epochs > 0:
            # the classifier head is new: it learns on the frozen encoder beside the prompt rows
            parameters = [embeddings] + ([bias] if bias is not None else []) + classifier
            masks = {embeddings: rows, **({bias: torch.tensor(self.label_ids)} if bias is not None else {})}
            stages.append(Stage("stage1", self.config.stage1_epochs, parameters, self.config.stage1_lr,
                                row_masks=masks))
        stages.append(Stage("stage2", self.config.stage2_epochs, list(self.module.parameters()),
                            self.config.stage2_lr, self.config.weight_decay, self.config.warmup_ratio))
        return stages

    def loss(self, batch: Batch, labels: torch.Tensor) -> torch.Tensor:
        """Each head's cross-entropy, summed: both learn from every item whichever predicts later."""
        prompt, classifier = self.module.heads(batch)
        loss = F.cross_entropy(prompt, labels)
        return loss if classifier is None else loss + F.cross_entropy(classifier, labels)

    def head_logits(self, items: list) -> tuple[torch.Tensor, torch.Tensor]:
        """(prompt logits, classifier logits) of each input, uncalibrated: what a head is chosen on."""
        both = predict_logits(self, items, self.config.eval_batch_size,
                              forward=lambda batch: torch.cat(self.module.heads(batch), -1))
        width = len(self.classes)
        return both[:, :width], both[:, width:]

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

