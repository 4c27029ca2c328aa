"""What a curator can choose for a retrain, with the defaults the Train page and `python -m knowco train` share.

`TrainOptions` is the engine's `TrainConfig` (every field of it, so none is dropped on the way to the engine)
plus what only a retrain in the app decides: how many facts join the labels, the held-out share, and the
suggest pass afterwards.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Optional

from engine.config import HEAD_SETTINGS, RetrainPlan, TrainConfig
from engine.queue.policy import QueuePolicy

from knowco.errors import OptionsError


#: options an older version recorded → the queue setting that holds them now
LEGACY_QUEUE_OPTIONS = {"suggestions_per_relation": "per_relation", "max_pairs_per_relation": "max_pairs"}


@dataclass
class TrainOptions(TrainConfig):
    # fewer than the benchmarks' 30 + 30: the app has no dev split to stop on (the held-out labels are kept for
    # an honest estimate), so training stops on the training loss, and a curator waits for the result
    stage1_epochs: int = 10
    stage2_epochs: int = 10
    # chosen on SemEval's dev split through this very retrain (BENCHMARKS.md, "Few-shot relation extraction"):
    # a higher stage-2 rate than the paper's and no entity-masking loss were ahead at half the time
    stage2_lr: float = 1e-3
    entity_loss: bool = False
    #: both heads train; each retrain chooses the prompt, the [CLS] classifier or their average (engine.heads)
    head: str = "auto"
    #: folds of the cross-validation over the labels that chooses the head where held-out facts are too few
    cv_folds: int = 4
    #: labels between these two choose the head by cross-validation (engine.config.RetrainPlan says why)
    cv_min_labels: int = 100
    cv_max_labels: int = 400
    #: folds below cv_min_labels where held-out facts are too few to choose on
    cv_small_folds: int = 2
    #: items drawn afresh for each epoch from the whole KG (its accepted facts, their reversals and type-aware
    #: negatives: about a quarter of them facts), on top of every label (0: train on labels alone)
    kg_items_per_epoch: int = 128
    #: sentences of the corpus that mention an accepted fact's two entities (and their reversals), drawn afresh
    #: for each epoch on top (0: none): the KG's own text teaches which way each relation reads
    corpus_sentences_per_epoch: int = 128
    #: share of the labels held out to estimate quality
    held_out_share: float = 0.25
    suggest_after: bool = True
    #: what the suggest pass puts in the queue and how sure it says it is: recorded with the version, reused by
    #: *Suggest now*
    queue: QueuePolicy = field(default_factory=QueuePolicy)
    #: the structural model (PyKEEN) trained on the accepted facts in the same retrain: the interactions and
    #: sizes tried (the best on held-out facts is kept; no interaction: none), and its epochs
    structure_interactions: tuple = ("rotate", "distmult")
    structure_dims: tuple = (32, 64)
    structure_epochs: int = 100
    #: checks (every 10 epochs) without a better held-out MRR before a try stops, keeping its best epoch (0: off)
    structure_patience: int = 3
    #: above this many facts the structural search is one try (the first interaction at the smallest size):
    #: on 2 cores four tries over 10^6 facts take about 75 minutes, one about 19 (`bench scale`); 0: never
    structure_search_facts: int = 250_000

    def as_dict(self) -> dict:
        return asdict(self)

    def retrain_plan(self) -> RetrainPlan:
        return RetrainPlan(**{f.name: getattr(self, f.name) for f in fields(RetrainPlan) if hasattr(self, f.name)})

    def engine_config(self) -> TrainConfig:
        return TrainConfig(**{f.name: getattr(self, f.name) for f in fields(TrainConfig)})

    @classmethod
    def from_dict(cls, data: dict) -> "TrainOptions":
        """The options a version recorded; a version from before the queue policy recorded two of its settings
        as options of their own (`suggestions_per_relation`, `max_pairs_per_relation`)."""
        data = dict(data)
        queue = dict(data.pop("queue", None) or {})
        for old, new in LEGACY_QUEUE_OPTIONS.items():
            if old in data:
                queue.setdefault(new, data.pop(old))
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise OptionsError(f"unknown training option {unknown[0]!r}; known ones: {', '.join(sorted(known))}")
        data = {**data, **{key: tuple(data[key]) for key in ("structure_interactions", "structure_dims") if key in data}}
        try:
            policy = QueuePolicy.from_dict(queue)
        except (TypeError, ValueError) as error:
            raise OptionsError(str(error)) from None
        return cls(**data, queue=policy)

    def with_queue(self, **changes) -> "TrainOptions":
        """The same options with some queue settings changed (the Train page's and the command line's knobs)."""
        return replace(self, queue=replace(self.queue, **changes))

    def check(self) -> None:
        """One readable sentence per impossible choice (the UI's widgets already bound most of them)."""
        for impossible, sentence in self._rules():
            if impossible:
                raise OptionsError(sentence)

    def _rules(self) -> list[tuple[bool, str]]:
        """(whether the options break it, the sentence that says so), in the order they are checked."""
        counts = (self.kg_items_per_epoch, self.corpus_sentences_per_epoch, self.queue.per_relation)
        return [
            (self.stage1_epochs < 0 or self.stage2_epochs < 1,
             "stage 2 needs at least one epoch, and stage 1 cannot have a negative number"),
            (not (0 < self.stage2_lr < 1 and 0 < self.stage1_lr < 1),
             "a learning rate must be between 0 and 1 (e.g. 0.0003)"),
            (not 0 <= self.held_out_share < 1, "the held-out share must be at least 0 and below 1"),
            (min(counts) < 0 or self.queue.max_pairs < 1, "counts cannot be negative"),
            (not self.structure_dims or min(self.structure_dims) < 2 or self.structure_epochs < 1,
             "the structural model needs a size of at least 2 and at least one epoch"),
            (self.head not in HEAD_SETTINGS, f"the head must be one of {', '.join(HEAD_SETTINGS)}"),
            (self.cv_folds < 0 or self.cv_small_folds < 0,
             "the number of cross-validation folds cannot be negative (0: no cross-validation)"),
            (self.structure_patience < 0, "the structural model's patience cannot be negative (0: no early stop)"),
            (self.structure_search_facts < 0, "the fact count above which one structural try is made cannot be "
                                              "negative (0: always the whole search)"),
            (self.batch_size < 1 or self.patience < 1, "the batch size and the patience must be at least 1"),
        ]


def recorded_policy(hyperparameters: Optional[dict]) -> QueuePolicy:
    """The queue policy a version trained with (today's defaults for a version from before policies). Read
    leniently: a version may have recorded options since removed, and settings since added take their default,
    so *Suggest now*, the re-ranks and the Train page never stop at an old version."""
    recorded = dict(hyperparameters or {})
    queue = dict(recorded.get("queue") or {})
    for old, new in LEGACY_QUEUE_OPTIONS.items():
        if old in recorded:
            queue.setdefault(new, recorded[old])
    known = {f.name for f in fields(QueuePolicy)}
    return QueuePolicy(**{key: value for key, value in queue.items() if key in known})
