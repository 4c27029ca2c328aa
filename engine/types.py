"""The engine's boundary: plain dataclasses in and out, so no caller needs to know about tensors or SQL."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

NO_RELATION = "no_relation"


@dataclass(frozen=True)
class RelationSpec:
    """A relation the model can predict; `words` become its label word ("place of birth")."""

    name: str
    words: str


@dataclass(frozen=True)
class EntityText:
    """What the model reads about an entity in link prediction."""

    name: str
    label: str
    description: str = ""


@dataclass(frozen=True)
class SentenceExample:
    """A sentence with a head and a tail mention ([start, end) token spans); `relation` None = no relation."""

    tokens: tuple[str, ...]
    head: tuple[int, int]
    tail: tuple[int, int]
    relation: Optional[str] = None


@dataclass(frozen=True)
class TripleExample:
    """A labelled triple: `holds` False marks a negative (it is trained as "no relation")."""

    head: str
    relation: str
    tail: str
    holds: bool = True
