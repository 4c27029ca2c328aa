"""Which (head, tail) pairs are worth scoring for a relation, without looking at all |E|² of them.

A relation's plausible heads are the entities whose type its known heads have (or the head type the
relation declares); likewise tails. Where the KG declares no types, the kinds are learned from the graph
(`engine.roles`): an entity may be a tail of `capital_of` if it fills a place the known tails fill.

Among those, a trained structural model (`engine.structure`) ranks the pairs and the best `max_pairs` are
kept: on a typed KG two-hop-then-random kept 13 % of the hidden facts. Without one (no facts to train it
on), pairs two hops apart in the graph come first, then a seeded random sample.
"""
from __future__ import annotations

import heapq
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from engine.roles import Roles
from engine.structure import StructuralModel

Triple = tuple[str, str, str]
#: pairs scored per relation by the structural model at most: the best connected heads first, as many as
#: fit against every entity (all of UMLS; 244 heads of WN18RR's 40,943 entities), so a big KG never scores
#: 10^10 pairs
MAX_SCORED_PAIRS = 10_000_000
#: bytes one chunk of head rows may take while the structural model scores them against every entity (PyKEEN
#: builds a heads × entities × dim tensor; 256 heads of WN18RR at dim 64 would be 5 GB)
CHUNK_BYTES = 256 * 2**20


@dataclass
class RelationCandidates:
    relation: str
    pairs: list[tuple[str, str]]
    capped: bool


def role_sets(facts: Sequence[Triple], entity_types: dict[str, Optional[str]], relation: str,
              head_type: Optional[str] = None, tail_type: Optional[str] = None,
              roles: Optional[Roles] = None) -> tuple[set[str], set[str]]:
    """Entities that may be head / tail of `relation`: by type where types are known, else by the places
    they fill in the graph (`roles`), else all."""
    heads = {h for h, r, _ in facts if r == relation}
    tails = {t for _, r, t in facts if r == relation}

    def widen(observed: set[str], declared: Optional[str], side: str) -> set[str]:
        types = {declared} if declared else {entity_types.get(e) for e in observed} - {None}
        if types:
            return {e for e, kind in entity_types.items() if kind in types} | observed
        if roles is not None:
            return set(roles.fitting(sorted(entity_types), relation, side)) | observed
        return set(entity_types)

    return widen(heads, head_type, "head"), widen(tails, tail_type, "tail")


class Kinds:
    """Per relation, the entities that may be its heads and tails, and how well a given triple fits them."""

    def __init__(self, facts: Sequence[Triple], entity_types: dict[str, Optional[str]],
                 relations: dict[str, tuple]) -> None:
        self.roles = Roles(facts)
        self.sides = {relation: role_sets(facts, entity_types, relation, head_type, tail_type, self.roles)
                      for relation, (head_type, tail_type) in relations.items()}
        typed: dict[tuple[str, str], bool] = {}
        for relation, (head_type, tail_type) in relations.items():
            typed[(relation, "head")] = bool(head_type) or any(
                entity_types.get(h) for h, r, _ in facts if r == relation)
            typed[(relation, "tail")] = bool(tail_type) or any(
                entity_types.get(t) for _, r, t in facts if r == relation)
        self.typed = typed

    def fit(self, head: str, relation: str, tail: str) -> float:
        """0..1: 0 where either entity has a kind the relation's side never takes; graded by learned roles
        where the KG has no types."""
        if relation not in self.sides:
            return 1.0
        fits = []
        for entity, side, allowed in ((head, "head", self.sides[relation][0]), (tail, "tail", self.sides[relation][1])):
            if entity not in allowed:
                fits.append(0.0)
            elif self.typed[(relation, side)]:
                fits.append(1.0)
            else:
                fits.append(self.roles.fit(entity, relation, side))
        return min(fits)


def _near(facts: Sequence[Triple]) -> dict[str, set[str]]:
    """Entities within two hops (either direction) of each entity."""
    neighbours: dict[str, set[str]] = defaultdict(set)
    for h, _, t in facts:
        neighbours[h].add(t)
        neighbours[t].add(h)
    return {e: set().union(first, *(neighbours[n] for n in first)) for e, first in neighbours.items()}


def _by_proximity(relation: str, heads: set[str], tails: set[str], near: dict[str, set[str]],
                  known: set[Triple], max_pairs: int, rng: random.Random) -> RelationCandidates:
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
    return RelationCandidates(relation, close + far, capped)


def _by_structure(relation: str, heads: set[str], tails: set[str], structure: StructuralModel,
                  known: set[Triple], degree: dict[str, int], max_pairs: int) -> RelationCandidates:
    """The `max_pairs` best-scored pairs (not known, head ≠ tail) among the allowed heads and tails."""
    ranked_heads = sorted((h for h in heads if structure.knows(h)), key=lambda h: (-degree.get(h, 0), h))
    most = max(1, MAX_SCORED_PAIRS // max(1, len(structure.entity_ids)))
    capped = len(ranked_heads) > most
    ranked_heads = ranked_heads[:most]
    tail_names = sorted(t for t in tails if structure.knows(t))
    columns = np.array([structure.entity_ids[t] for t in tail_names], dtype=np.int64)
    best: list[tuple[float, str, str]] = []
    # complex interactions hold two float32 per dimension, and an intermediate or two of that size
    chunk_size = max(1, CHUNK_BYTES // (len(structure.entity_ids) * structure.config.embedding_dim * 16))
    for start in range(0, len(ranked_heads), chunk_size):
        chunk = ranked_heads[start:start + chunk_size]
        scores = structure.tail_matrix(chunk, relation)[:, columns] if len(columns) else np.empty((len(chunk), 0))
        for row, head in enumerate(chunk):
            keep = min(max_pairs, scores.shape[1])
            if not keep:
                continue
            order = np.argpartition(-scores[row], keep - 1)[:keep]
            for j in order:
                tail = tail_names[j]
                if tail != head and (head, relation, tail) not in known:
                    item = (float(scores[row, j]), head, tail)
                    if len(best) < max_pairs:
                        heapq.heappush(best, item)
                    elif item > best[0]:
                        heapq.heapreplace(best, item)
    total = len(ranked_heads) * len(tail_names) - len(set(ranked_heads) & set(tail_names))
    return RelationCandidates(relation, [(h, t) for _, h, t in sorted(best, reverse=True)],
                              capped or total > max_pairs)


def candidates(facts: Sequence[Triple], entity_types: dict[str, Optional[str]], relations: dict[str, tuple],
               known: set[Triple], max_pairs: int, seed: int = 0,
               structure: Optional[StructuralModel] = None, kinds: Optional[Kinds] = None
               ) -> list[RelationCandidates]:
    """Per relation (name → (head type, tail type)), pairs not already known in any status; at most
    `max_pairs` per relation: the structural model's best where the relation has facts to have learnt from,
    else near pairs first, then a seeded random sample of the rest.
    """
    kinds = kinds or Kinds(facts, entity_types, relations)
    near = _near(facts)
    degree: dict[str, int] = defaultdict(int)
    for h, _, t in facts:
        degree[h] += 1
        degree[t] += 1
    rng = random.Random(seed)
    out = []
    trained = {r for _, r, _ in facts}
    for relation in relations:
        heads, tails = kinds.sides[relation]
        if structure is not None and relation in structure.relation_ids and relation in trained:
            out.append(_by_structure(relation, heads, tails, structure, known, degree, max_pairs))
        else:
            out.append(_by_proximity(relation, heads, tails, near, known, max_pairs, rng))
    return out
