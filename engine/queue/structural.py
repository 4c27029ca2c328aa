"""What the queue needs of a structural model: candidates ask it for the best tails of many heads at once
(`tail_matrix`, chunked by `bytes_per_head`), the opinions and the combiner for a 0..1 opinion of each triple.
`engine.structure.PykeenModel` is the implementation (PyKEEN's interactions, with matrix fast paths for the
interactions that have one); another library's model joins by having these."""
from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np

Triple = tuple[str, str, str]


class StructuralModel(Protocol):
    #: the interaction's name, shown on the Train page and recorded in the run
    interaction: str
    #: entity name → column of `tail_matrix`
    entity_ids: dict[str, int]
    relation_ids: dict[str, int]

    def knows(self, entity: str) -> bool:
        """Whether the entity was in the vocabulary it trained on."""

    def tail_matrix(self, heads: Sequence[str], relation: str) -> np.ndarray:
        """Raw scores of every entity (columns, `entity_ids` order) as the tail of each head (rows)."""

    def bytes_per_head(self) -> int:
        """Memory one head's row of `tail_matrix` takes while it is computed."""

    def opinion(self, triples: Sequence[Triple]) -> np.ndarray:
        """Per triple, 0..1 (NaN where an entity or the relation is unknown)."""
