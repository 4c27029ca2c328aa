"""Kinds learned from the graph when the KG declares no entity types.

An entity's *roles* are the (relation, side) places it fills in the accepted facts: a country is the tail of
`capital_of` and either side of `borders`; a city is the head of `capital_of` and of `located_in`. Entities of
one kind fill the same places, so how well a candidate fits a relation's side is the cosine between its roles
and the roles of the entities already on that side. `Madrid` shares no place with the known tails of
`capital_of` (all countries), so `Paris capital_of Madrid` fits 0 and is no candidate.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Iterable, Sequence

Triple = tuple[str, str, str]
Role = tuple[str, str]
#: a relation side with fewer known entities than this says too little to exclude anyone
MIN_KNOWN = 2


class Roles:
    """The places each entity fills, and each relation side's profile (the sum of its entities' places)."""

    def __init__(self, facts: Iterable[Triple]) -> None:
        self.of: dict[str, Counter] = defaultdict(Counter)
        members: dict[Role, set[str]] = defaultdict(set)
        for head, relation, tail in facts:
            self.of[head][(relation, "head")] += 1
            self.of[tail][(relation, "tail")] += 1
            members[(relation, "head")].add(head)
            members[(relation, "tail")].add(tail)
        self.members = dict(members)
        self.profiles: dict[Role, Counter] = {}
        for role, entities in members.items():
            profile: Counter = Counter()
            for entity in entities:
                profile.update({place: 1 for place in self.of[entity]})
            self.profiles[role] = profile

    def knows(self, relation: str, side: str) -> bool:
        return len(self.members.get((relation, side), ())) >= MIN_KNOWN

    def fit(self, entity: str, relation: str, side: str) -> float:
        """Cosine (0..1) between the entity's places and the side's profile; 1.0 where the side is unknown."""
        if not self.knows(relation, side):
            return 1.0
        mine = self.of.get(entity)
        if not mine:
            return 0.0
        profile = self.profiles[(relation, side)]
        dot = sum(1.0 * profile[place] for place in mine)
        norm = math.sqrt(len(mine)) * math.sqrt(sum(v * v for v in profile.values()))
        return dot / norm if norm else 0.0

    def fitting(self, entities: Sequence[str], relation: str, side: str) -> list[str]:
        """The entities that share at least one place with the side's known entities (all where it is unknown)."""
        if not self.knows(relation, side):
            return list(entities)
        profile = self.profiles[(relation, side)]
        return [e for e in entities if any(place in profile for place in self.of.get(e, ()))]
