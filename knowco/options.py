"""What a curator can choose for a retrain, with the defaults the Train page and `python -m knowco train` share."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from engine.backbones import DEFAULT_BACKBONE


@dataclass
class TrainOptions:
    backbone: str = DEFAULT_BACKBONE
    seed: int = 42
    # fewer than the benchmarks' 30 + 30: the app has no dev split to stop on (the held-out labels are kept for
    # an honest estimate), so training stops on the training loss, and a curator waits for the result
    stage1_epochs: int = 10
    stage2_epochs: int = 10
    learning_rate: float = 3e-4
    entity_loss: bool = True
    two_stage: bool = True
    #: accepted facts per relation added to the labels as positives (0: train on labels alone)
    facts_per_relation: int = 8
    #: share of the labels held out to estimate quality
    held_out_share: float = 0.25
    suggest_after: bool = True
    suggestions_per_relation: int = 25
    max_pairs_per_relation: int = 5000

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainOptions":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def check(self) -> None:
        """One readable sentence per impossible choice (the UI's widgets already bound most of them)."""
        if self.stage1_epochs < 0 or self.stage2_epochs < 1:
            raise ValueError("stage 2 needs at least one epoch, and stage 1 cannot have a negative number")
        if not 0 < self.learning_rate < 1:
            raise ValueError("the learning rate must be between 0 and 1 (e.g. 0.0003)")
        if not 0 <= self.held_out_share < 1:
            raise ValueError("the held-out share must be at least 0 and below 1")
        if self.facts_per_relation < 0 or self.suggestions_per_relation < 0 or self.max_pairs_per_relation < 1:
            raise ValueError("counts cannot be negative")
