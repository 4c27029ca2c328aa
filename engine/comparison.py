"""Is a new model version worse than the active one? Both answer the same held-out items, ones neither trained
on, and the difference is judged against its own noise.

A curator's v2 (held-out accuracy 0.43) silently replaced v1 (0.62) and all of v1's pending suggestions. The two
figures came from different held-out items, so even their difference said little. Here each item is answered
by both models (a paired comparison): the mean of (new right − old right) and its standard error. The new
version counts as worse only where that difference is below zero by more than one standard error, so noise on a
few dozen items does not hold back every other retrain: worse means at least `MIN_DISAGREEMENTS` more items
that only the old version gets right than the other way round, and a mean difference below zero by more than
two standard errors.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Optional, Sequence

import torch

from engine.classifier import PromptClassifier
from engine.types import NO_RELATION, EntityText, TripleExample

Triple = tuple[str, str, str]
#: fewer shared items than this say nothing about which version is better
MIN_PAIRED_ITEMS = 10
#: the old version must be right on at least this many more of the items the two disagree on
MIN_DISAGREEMENTS = 5


@dataclass(frozen=True)
class Paired:
    """The two versions on the same items: how many each got right, the mean difference and its standard error."""

    items: int
    new_right: int
    old_right: int
    difference: float
    standard_error: float

    @property
    def worse(self) -> bool:
        return (self.items >= MIN_PAIRED_ITEMS and self.old_right - self.new_right >= MIN_DISAGREEMENTS
                and self.difference < -2 * self.standard_error)

    def as_dict(self) -> dict:
        return {**asdict(self), "worse": self.worse}


def right_answers(model: PromptClassifier, entities: dict[str, EntityText], triples: Sequence[TripleExample]
                  ) -> dict[tuple[Triple, bool], bool]:
    """(triple, holds) → whether the model's likeliest answer for the pair is right (the relation where it holds,
    "no relation" where it does not); items whose answer the model does not know are left out."""
    known = [x for x in triples if x.head in entities and x.tail in entities
             and (x.relation if x.holds else NO_RELATION) in model.index and x.relation in model.index]
    if not known:
        return {}
    with torch.inference_mode():
        logits = model.logits_for([model.encode_pair(entities[x.head], entities[x.tail]) for x in known])
    chosen = logits.argmax(dim=-1).tolist()
    return {((x.head, x.relation, x.tail), x.holds): chosen[i] == model.index[x.relation if x.holds else NO_RELATION]
            for i, x in enumerate(known)}


def paired(new: dict, old: dict) -> Optional[Paired]:
    """The comparison on the items both answered; None where there are none."""
    shared = sorted(set(new) & set(old))
    if not shared:
        return None
    diffs = [int(new[k]) - int(old[k]) for k in shared]
    n = len(diffs)
    mean = sum(diffs) / n
    variance = sum((d - mean) ** 2 for d in diffs) / (n - 1) if n > 1 else 0.0
    return Paired(n, sum(int(new[k]) for k in shared), sum(int(old[k]) for k in shared), round(mean, 4),
                  round(math.sqrt(variance / n), 4))
