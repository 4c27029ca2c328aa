"""Training configuration as data: every part of the method is a switch, so every ablation is one flag."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Literal, Optional

from engine.presets import DEFAULT_BACKBONE


PROMPT, CLASSIFIER, AVERAGE, AUTO = "prompt", "classifier", "average", "auto"
#: what `TrainConfig.head` may say: a fixed head, or "auto" (both trained, the retrain chooses; engine.heads)
HEAD_SETTINGS = (PROMPT, CLASSIFIER, AVERAGE, AUTO)


@dataclass(frozen=True)
class RetrainPlan:
    """What a retrain decides beyond the model's configuration (engine.retrain)."""

    held_out_share: float = 0.25
    #: at most this many facts held out in all
    held_out_facts: int = 200
    kg_items_per_epoch: int = 128
    corpus_sentences_per_epoch: int = 128
    #: folds of the cross-validation that chooses the head where held-out facts are too few (< 2: none)
    cv_folds: int = 4
    #: labels needed before they choose the head by cross-validation: fewer are too few to tell the heads
    #: apart (48 labels of a 6-relation KG: 7 per class), and each fold costs a whole training (an 80-fact KG:
    #: 54 s with folds, idle); they all train, and the head is chosen on the held-out facts
    cv_min_labels: int = 100
    #: folds below `cv_min_labels` where too few held-out facts (`engine.retrain.MIN_ITEMS_TO_CHOOSE`) can choose
    #: either (< 2: none): a sentence-only project of 7 relations × 8 labels otherwise chose nothing, and without
    #: a "no relation" shift read 446 of 455 SciERC sentences as stating nothing
    cv_small_folds: int = 2
    #: past this many labels a held-out share of them is enough to choose on, in one training (1,865 labels
    #: spent 25 minutes in four folds)
    cv_max_labels: int = 400


@dataclass
class TrainConfig:
    backbone: str = DEFAULT_BACKBONE
    seed: int = 42
    device: Optional[str] = None
    max_length: int = 128
    batch_size: int = 16
    eval_batch_size: int = 128
    # stage 1: LM frozen, only template and label-token rows train
    two_stage: bool = True
    stage1_epochs: int = 30
    stage1_lr: float = 3e-3
    # stage 2: everything trains
    stage2_epochs: int = 30
    stage2_lr: float = 3e-4
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    patience: int = 6
    # the prompt
    adaptive_template: bool = True
    template_init: Literal["words", "random"] = "words"
    label_init: Literal["words", "random"] = "words"
    # the auxiliary entity-discrimination loss L_E, weighted by lambda
    entity_loss: bool = True
    entity_loss_weight: float = 0.5
    # link prediction: corrupted triples per positive, trained as "no relation"
    negative_ratio: int = 2
    # which head predicts (engine.heads): "prompt" (the method as published: no other head), "classifier" or
    # "average" (a `[CLS]` layer trained jointly beside the prompt), or "auto" (both trained, the retrain chooses)
    head: str = "prompt"

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        """Strict: a key this version does not know is an error naming it, never silently dropped."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown training option {unknown[0]!r}")
        return cls(**data)


ABLATIONS: dict[str, dict] = {
    "no_entity_loss": {"entity_loss": False},
    "no_adaptive_template": {"adaptive_template": False},
    "random_label_words": {"label_init": "random"},
    "no_stage1": {"two_stage": False},
}
