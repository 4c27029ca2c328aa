"""Which (head, tail) pairs are worth scoring for a relation, without looking at all |E|² of them.

A relation's plausible heads are the entities whose type its known heads have (or the head type the
relation declares); likewise tails. Where the relation's entities carry no type at all, every entity may
take either role. Pairs two hops apart in the graph come first, so a cap on the pair count keeps the likeliest ones.
"""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Optional, Sequence

Triple = tuple[str, str, str]


@dataclass
class RelationCandidates:
    relation: str
    pairs: list[tuple[str, str]]
    capped: bool


def role_sets(facts: Sequence[Triple], entity_types: dict[str, Optional[str]], relation: str,
              head_type: Optional[str] = None, tail_type: Optional[str] = None) -> tuple[set[str], set[str]]:
    """Entities that may be head / tail of `relation`, by type where types are known."""
    heads = {h for h, r, _ in facts if r == relation}
    tails = {t for _, r, t in facts if r == relation}

    def widen(observed: set[str], declared: Optional[str]) -> set[str]:
        types = {declared} if declared else {entity_types.get(e) for e in observed} - {None}
        if not types:  # an untyped KG: 8 known heads say too little to exclude anyone
            return set(entity_types)
        return {e for e, kind in entity_types.items() if kind in types} | observed

    return widen(heads, head_type), widen(tails, tail_type)


def _near(facts: Sequence[Triple]) -> dict[str, set[str]]:
    """Entities within two hops (either direction) of each entity."""
    neighbours: dict[str, set[str]] = defaultdict(set)
    for h, _, t in facts:
        neighbours[h].add(t)
        neighbours[t].add(h)
    return {e: set().union(first, *(neighbours[n] for n in first)) for e, first in neighbours.items()}


def candidates(facts: Sequence[Triple], entity_types: dict[str, Optional[str]], relations: dict[str, tuple],
               known: set[Triple], max_pairs: int, seed: int = 0) -> list[RelationCandidates]:
    """Per relation (name → (head type, tail type)), pairs not already known in any status; at most
    `max_pairs` per relation, near pairs first, then a seeded random sample of the rest.
    """
    near = _near(facts)
    rng = random.Random(seed)
    out = []
    for relation, (head_type, tail_type) in relations.items():
        heads, tails = role_sets(facts, entity_types, relation, head_type, tail_type)
        close, far = [], []
        for h in sorted(heads):
            reach = near.get(h, set())
            for t in sorted(tails):
                if h == t or (h, relation, t) in known:
                    continue
                (close if t in reach else far).append((h, t))
        capped = len(close) + len(far) > max_pairs
        if capped:
            if len(close) > max_pairs:
                close = rng.sample(close, max_pairs)
                far = []
            else:
                far = rng.sample(far, max_pairs - len(close))
        out.append(RelationCandidates(relation, close + far, capped))
    return out
