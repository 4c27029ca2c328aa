"""Relations as label words (OpenPrompt's Verbalizer): one learnable label token per class, read at `[MASK]`.

The words a label token starts from are a method decision, so they are made here from the relation's name and
display label when a model is built, not frozen into the database at import: `location_of` → "location of";
SemEval's directed `Cause-Effect(e2,e1)` → "effect from cause", so the two directions never start identical.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from engine.label_words import init_rows
from engine.types import NO_RELATION, RelationSpec

NO_RELATION_WORDS = "no relation"
_DIRECTED = re.compile(r"^(?P<base>.+?)\s*\((?P<first>e[12])\s*,\s*(?P<second>e[12])\)$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _words(text: str) -> list[str]:
    spaced = _CAMEL.sub(" ", text)
    return [w.lower() for w in re.split(r"[\s_\-/.:]+", spaced) if w]


def label_words(name: str, label: Optional[str] = None) -> str:
    """The words a relation's label token starts from: a directed name's wording, else its display label (when
    it says more than the name), else the name's words."""
    match = _DIRECTED.match(name.strip())
    if match:
        parts = [p for p in re.split(r"[-–]", match["base"]) if p.strip()]
        if len(parts) != 2:
            return " ".join(_words(match["base"]))
        first, second = (" ".join(_words(p)) for p in parts)
        return f"{first} to {second}" if match["first"] == "e1" else f"{second} from {first}"
    if label and label.strip() and label.strip() != name:
        return label.strip()
    return " ".join(_words(name)) or name


def with_no_relation(relations: Sequence[RelationSpec]) -> list[RelationSpec]:
    """The classes of a task that has a "no relation" answer (LP negatives, RE's `Other`)."""
    return [*relations, RelationSpec(NO_RELATION, NO_RELATION_WORDS)]


@dataclass(frozen=True)
class Verbalizer:
    classes: tuple[RelationSpec, ...]
    token_ids: tuple[int, ...]

    @classmethod
    def build(cls, classes: Sequence[RelationSpec], reserved: list[int]) -> "Verbalizer":
        if len({spec.name for spec in classes}) != len(classes):
            raise ValueError("relation names must be unique")
        return cls(tuple(classes), tuple(reserved[-len(classes):]) if classes else ())

    @property
    def words(self) -> list[str]:
        return [spec.words for spec in self.classes]

    def initialise(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, *, random: bool,
                   generator: torch.Generator) -> None:
        """Knowledge-guided start: each label row is the mean embedding of its words (decoder bias likewise)."""
        init_rows(model, tokenizer, list(self.token_ids), self.words, random=random, generator=generator)
