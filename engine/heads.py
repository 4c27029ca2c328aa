"""Two readings of one encoder and the choice between them.

The prompt head reads the label words at `[MASK]` (KnowCo-Tuning); the classifier head is a linear layer on
`[CLS]` (plain fine-tuning's). Neither wins everywhere: on SemEval at K = 8 fine-tuning is ahead, on other
relation-extraction data the prompt is. So both train on the same encoder, and each retrain chooses the prompt,
the classifier or the average of their probabilities on data the model did not learn from
(engine.retrain: cross-validation over the curator's labels, or held-out facts where there are enough).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Iterable, Optional

import numpy as np
import torch

from engine.config import AVERAGE, CLASSIFIER, PROMPT
from engine.metrics import accuracy, micro_f1

#: what a model can predict with, in the order a tie is settled (the average first: it rarely loses by much)
HEADS = (AVERAGE, PROMPT, CLASSIFIER)
#: shifts of the "no relation" logit tried with the head (0 first, kept unless another does better): trained
#: with every labelled sentence also reversed as "no relation", the model says "no relation" too readily (on
#: SemEval most of its errors were relations missed that way)
NO_RELATION_SHIFTS = (0.0, *(-0.5 * i for i in range(1, 13)))


def combine(prompt: torch.Tensor, classifier: Optional[torch.Tensor], head: str) -> torch.Tensor:
    """The logits a head predicts with; the average's are the log of the mean of the two softmaxes, so a
    temperature and a softmax downstream treat it like any other head's."""
    if head == PROMPT or classifier is None:
        return prompt
    if head == CLASSIFIER:
        return classifier
    mean = (prompt.float().softmax(-1) + classifier.float().softmax(-1)) / 2
    return mean.clamp_min(1e-12).log()


@dataclass
class HeadChoice:
    """The head chosen, the micro-F1 and accuracy of each on the items it was chosen on, and what those were."""

    chosen: str
    scores: dict = field(default_factory=dict)
    #: e.g. "4-fold cross-validation over 152 labels" or "312 held-out items"
    basis: str = ""
    items: int = 0
    #: False where the head was set in the options or the items were too few to choose on
    by_data: bool = True
    #: added to the "no relation" logit, chosen on the same items (0: none); micro-F1 without and with it
    no_relation_shift: float = 0.0
    shift_scores: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def choose_head(prompt: np.ndarray, classifier: np.ndarray, gold: Iterable[int], ignore: Iterable[int],
                basis: str) -> HeadChoice:
    """The head with the best micro-F1 (no-relation left out) on these items, then the best accuracy, then the
    order of HEADS."""
    gold = list(gold)
    ignore = list(ignore)
    logits = {PROMPT: torch.as_tensor(prompt), CLASSIFIER: torch.as_tensor(classifier)}
    logits[AVERAGE] = combine(logits[PROMPT], logits[CLASSIFIER], AVERAGE)
    scores = {}
    for head in HEADS:
        predicted = logits[head].argmax(-1).tolist()
        scores[head] = {"micro_f1": round(micro_f1(gold, predicted, ignore), 4),
                        "accuracy": round(accuracy(gold, predicted), 4)}
    chosen = max(HEADS, key=lambda h: (scores[h]["micro_f1"], scores[h]["accuracy"], -HEADS.index(h)))
    return HeadChoice(chosen, scores, basis, len(gold))


def shifted(logits: torch.Tensor, none: Optional[int], shift: float) -> torch.Tensor:
    """The logits with `shift` added to the "no relation" class (unchanged where there is none)."""
    if none is None or not shift:
        return logits
    logits = logits.clone()
    logits[:, none] += shift
    return logits


def choose_no_relation_shift(logits: np.ndarray, gold: Iterable[int], none: int) -> tuple[float, dict]:
    """The shift of NO_RELATION_SHIFTS with the best micro-F1 (relations only) on these items, the smallest
    in size on a tie; and the micro-F1 without and with it."""
    gold = list(gold)
    tensor = torch.as_tensor(logits)
    scores = {shift: micro_f1(gold, shifted(tensor, none, shift).argmax(-1).tolist(), [none])
              for shift in NO_RELATION_SHIFTS}
    best = max(NO_RELATION_SHIFTS, key=lambda shift: (scores[shift], shift))
    return best, {"without": round(scores[0.0], 4), "with": round(scores[best], 4)}
