"""A tiny offline task for engine tests: two relations, four sentences each, the SPLADE-tiny backbone."""
from __future__ import annotations

from engine.config import TrainConfig
from engine.types import RelationSpec, SentenceExample

RELATIONS = [RelationSpec("treats", "treats"), RelationSpec("causes", "causes")]

_SENTENCES = [
    ("aspirin relieves the headache quickly", (0, 1), (3, 4), "treats"),
    ("insulin controls diabetes well", (0, 1), (2, 3), "treats"),
    ("the doctor gave penicillin for pneumonia", (3, 4), (5, 6), "treats"),
    ("ibuprofen eased her arthritis", (0, 1), (3, 4), "treats"),
    ("smoking leads to cancer", (0, 1), (3, 4), "causes"),
    ("the virus produced a fever", (1, 2), (4, 5), "causes"),
    ("sugar can trigger obesity", (0, 1), (3, 4), "causes"),
    ("stress brought on insomnia", (0, 1), (3, 4), "causes"),
]
EXAMPLES = [SentenceExample(tuple(text.split()), head, tail, relation) for text, head, tail, relation in _SENTENCES]


def tiny_config(**changes) -> TrainConfig:
    settings = dict(seed=3, batch_size=4, stage1_epochs=2, stage2_epochs=2, patience=5, device="cpu")
    settings.update(changes)
    return TrainConfig(**settings)
