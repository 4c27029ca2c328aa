"""Which (head, tail) pairs are worth scoring for a relation, without looking at all |E|² of them.

A relation's plausible heads are the entities whose type its known heads have (or the head type the
relation declares); likewise tails. Where the KG declares no types, the kinds are learned from the graph
(`engine.roles`): an entity may be a tail of `capital_of` if it fills a place the known tails fill.

Among those, a trained structural model (`engine.structure`) ranks the pairs and the best `max_pairs` are
kept: on a typed KG two-hop-then-random kept 13 % of the hidden facts. Without one (no facts to train it
on), pairs two hops apart in the graph come first, then a seeded random sample.

A relation that holds both ways in most of its facts (`engine.queue.direction.symmetric_relations`) also proposes
the reverse of each of its facts that lacks one (`reverses`): in WN18RR, 2,014 of the 2,152 hidden
`derivationally_related_form` facts are such reverses, and the structural pre-filter, which scores only the
best-connected heads of a big KG, reached almost none of them. They are kept apart from the pre-filter's
pairs because they are not a sample of what a queue is full of: the combiner must not learn them as
negatives.
"""
from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Collection, Optional, Sequence

import numpy as np
import torch

from engine.queue.policy import QueuePolicy
from engine.roles import Roles
from engine.queue.structural import StructuralModel

Triple = tuple[str, str, str]
#: bytes one chunk of head rows may take while the structural model scores them against every entity
#: (`StructuralModel.bytes_per_head`)
CHUNK_BYTES = 256 * 2**20


@dataclass
class RelationCandidates:
    relation: str
    pairs: list[tuple[str, str]]
    capped: bool
    #: reverses of facts of a relation that holds both ways, not in `pairs`
    reverses: list[tuple[str, str]] = field(default_factory=list)
    #: (head, tail) pairs the pre-filter looked at, of the `possible` ones its kinds allow
    scored: int = 0
    possible: int = 0

    def triples(self) -> list[Triple]:
        return [(h, self.relation, t) for h, t in self.pairs + self.reverses]


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


def _neighbours(facts: Sequence[Triple]) -> dict[str, set[str]]:
    """Each entity's neighbours, either direction. Two hops are walked from them for each head the proximity
    search looks at, not stored for every entity: around a few hubs the two-hop sets of all entities took 5.4 GB
    for 100,000 facts (127 million entries) and ran out of 16 GB for 10^6 (`bench scale`)."""
    neighbours: dict[str, set[str]] = defaultdict(set)
    for h, _, t in facts:
        neighbours[h].add(t)
        neighbours[t].add(h)
    return neighbours


def _within_two_hops(entity: str, neighbours: dict[str, set[str]]) -> set[str]:
    first = neighbours.get(entity, set())
    return set().union(first, *(neighbours[n] for n in first))


def _best_connected(heads: set[str], tails: int, degree: dict[str, int], budget: int) -> list[str]:
    """The heads whose pairs with `tails` tails fit `budget`, best connected first."""
    most = max(1, budget // max(1, tails))
    return sorted(heads, key=lambda h: (-degree.get(h, 0), h))[:most]


def _by_proximity(relation: str, heads: set[str], tails: set[str], neighbours: dict[str, set[str]],
                  known: set[Triple], degree: dict[str, int], max_pairs: int, rng: random.Random,
                  budget: int) -> RelationCandidates:
    close, far = [], []
    looked_at = sorted(_best_connected(heads, len(tails), degree, budget))
    tail_names = sorted(tails)
    for h in looked_at:
        reach = _within_two_hops(h, neighbours)
        for t in tail_names:
            if h == t or (h, relation, t) in known:
                continue
            (close if t in reach else far).append((h, t))
    capped = len(close) + len(far) > max_pairs or len(looked_at) < len(heads)
    if len(close) + len(far) > max_pairs:
        if len(close) > max_pairs:
            close = rng.sample(close, max_pairs)
            far = []
        else:
            far = rng.sample(far, max_pairs - len(close))
    return RelationCandidates(relation, close + far, capped, scored=len(looked_at) * len(tails),
                              possible=len(heads) * len(tails))


def best_pairs(structure: StructuralModel, relation: str, heads: Sequence[str], tails: Sequence[str],
               excluded: dict[str, list[str]], keep: int) -> list[tuple[float, str, str]]:
    """The `keep` best-scored (score, head, tail) of `heads` × `tails` for `relation`, best first, leaving out
    head = tail and each head's `excluded` tails; heads are scored in chunks against every entity."""
    columns = np.array([structure.entity_ids[t] for t in tails], dtype=np.int64)
    column_of = {t: j for j, t in enumerate(tails)}
    if not len(columns) or keep <= 0:
        return []
    found_scores, found_heads, found_tails = np.empty(0, dtype=np.float32), [], np.empty(0, dtype=np.int64)
    chunk_size = max(1, CHUNK_BYTES // structure.bytes_per_head())
    for start in range(0, len(heads), chunk_size):
        chunk = list(heads[start:start + chunk_size])
        scores = structure.tail_matrix(chunk, relation)[:, columns].astype(np.float32, copy=False)
        for row, head in enumerate(chunk):
            skipped = [column_of[t] for t in excluded.get(head, ()) if t in column_of]
            if head in column_of:
                skipped.append(column_of[head])
            scores[row, skipped] = -np.inf
        flat = scores.ravel()
        # torch's top-k: numpy's argpartition of the negated scores took twice as long on WN18RR's chunks
        chosen = torch.topk(torch.from_numpy(flat), min(keep, flat.size)).indices.numpy()
        chosen = chosen[np.isfinite(flat[chosen])]
        found_scores = np.concatenate([found_scores, flat[chosen]])
        found_heads += [chunk[i] for i in (chosen // len(columns)).tolist()]
        found_tails = np.concatenate([found_tails, chosen % len(columns)])
        if len(found_scores) > keep:
            kept = np.argpartition(-found_scores, keep - 1)[:keep]
            found_scores, found_tails = found_scores[kept], found_tails[kept]
            found_heads = [found_heads[i] for i in kept.tolist()]
    return sorted(((float(score), head, tails[j]) for score, head, j in
                   zip(found_scores.tolist(), found_heads, found_tails.tolist())), key=lambda x: (-x[0], x[1], x[2]))


def _by_structure(relation: str, heads: set[str], tails: set[str], structure: StructuralModel,
                  known_tails: dict[str, list[str]], degree: dict[str, int], max_pairs: int, budget: int
                  ) -> RelationCandidates:
    """The `max_pairs` best-scored pairs (not known, head ≠ tail) among the allowed heads and tails."""
    usable = {h for h in heads if structure.knows(h)}
    # a chunk of heads is scored against every entity, so the budget counts all of them
    ranked_heads = _best_connected(usable, len(structure.entity_ids), degree, budget)
    capped = len(ranked_heads) < len(usable)
    tail_names = sorted(t for t in tails if structure.knows(t))
    best = best_pairs(structure, relation, ranked_heads, tail_names, known_tails, max_pairs)
    total = len(ranked_heads) * len(tail_names) - len(set(ranked_heads) & set(tail_names))
    return RelationCandidates(relation, [(h, t) for _, h, t in best], capped or total > max_pairs,
                              scored=len(ranked_heads) * len(tail_names), possible=len(usable) * len(tail_names))


def missing_reverses(facts: Sequence[Triple], relation: str, known: set[Triple]) -> list[tuple[str, str]]:
    """The reverses of `relation`'s facts that are not known in any status."""
    return sorted({(t, h) for h, r, t in facts if r == relation and h != t and (t, relation, h) not in known})


def reverse_pairs(facts: Sequence[Triple], relation: str, known: set[Triple], max_pairs: int,
                  structure: Optional[StructuralModel] = None) -> list[tuple[str, str]]:
    """The missing reverses of `relation`'s facts; past `max_pairs`, those the structural model scores best
    (without one, those between the best-connected entities)."""
    missing = missing_reverses(facts, relation, known)
    if len(missing) <= max_pairs:
        return missing
    if structure is None:
        degree: Counter = Counter(e for h, _, t in facts for e in (h, t))
        return sorted(missing, key=lambda pair: (-degree[pair[0]] - degree[pair[1]], pair))[:max_pairs]
    scores = np.nan_to_num(structure.opinion([(h, relation, t) for h, t in missing]), nan=-1.0)
    return [missing[i] for i in np.argsort(-scores, kind="stable")[:max_pairs]]


def candidates(facts: Sequence[Triple], entity_types: dict[str, Optional[str]], relations: dict[str, tuple],
               known: set[Triple], max_pairs: int, seed: int = 0,
               structure: Optional[StructuralModel] = None, kinds: Optional[Kinds] = None,
               symmetric: Collection[str] = (), policy: QueuePolicy = QueuePolicy()) -> list[RelationCandidates]:
    """Per relation (name → (head type, tail type)), pairs not already known in any status; at most
    `max_pairs` per relation: the structural model's best where the relation has facts to have learnt from,
    else near pairs first, then a seeded random sample of the rest; for a `symmetric` relation also the
    missing reverses of its facts (at most the policy's `max_closing_pairs` more, or `max_pairs` where that is
    more). The policy's `max_scored_pairs` bounds the pairs the structural model scores per relation (the
    best-connected heads first, as many as fit against every entity: all of UMLS, 244 heads of WN18RR's 40,943
    entities), `proximity_pairs` those walked in Python without one (a relation with labels and no facts in a KG
    of 100,000 untyped entities would otherwise walk 10^10 pairs).
    """
    kinds = kinds or Kinds(facts, entity_types, relations)
    neighbours: Optional[dict[str, set[str]]] = None  # made for the first relation the structure cannot rank
    degree: dict[str, int] = defaultdict(int)
    for h, _, t in facts:
        degree[h] += 1
        degree[t] += 1
    rng = random.Random(seed)
    known_tails: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for h, r, t in known:
        known_tails[r][h].append(t)
    out = []
    trained = {r for _, r, _ in facts}
    for relation in relations:
        heads, tails = kinds.sides[relation]
        if structure is not None and relation in structure.relation_ids and relation in trained:
            found = _by_structure(relation, heads, tails, structure, known_tails[relation], degree, max_pairs,
                                  policy.max_scored_pairs)
        else:
            neighbours = _neighbours(facts) if neighbours is None else neighbours
            found = _by_proximity(relation, heads, tails, neighbours, known, degree, max_pairs, rng,
                                  policy.proximity_pairs)
        if relation in symmetric:
            found.reverses = reverse_pairs(facts, relation, known, max(max_pairs, policy.max_closing_pairs), structure)
            # past the budget a missing reverse the pre-filter proposes is an ordinary candidate, and may be one
            # of the combiner's negatives: it then learns that not every missing reverse holds (WN18RR seed 13
            # with them all kept out: P@10 1.0 → 0.5, P@100 0.72 → 0.56; `also_see` holds both ways in 64 % of
            # its facts, yet only 57 of its ~470 missing reverses are hidden facts)
            reverses = set(found.reverses)
            found.pairs = [pair for pair in found.pairs if pair not in reverses]
        out.append(found)
    return out
