"""How many values a relation gives one entity, learned from the KG's own facts.

On a curator's 80-fact KG, 124 of 209 suggestions gave a book a second author or a city a second country, though
every book in that KG had one author and every city one country; the names-only opinion scores every author of
the right kind alike. Here each relation's two sides are counted: of the heads with a tail, how many have
exactly one (and of the tails, how many have one head). A candidate that gives a second value to an entity
that already has exactly one is then worth the chance that such an entity has several at all: with a Beta(1, 1)
prior, (entities with several + 1) / (entities + 2); one that already has several is not demoted, nor is a side
where fewer than `QueuePolicy.second_value_share` of the entities have one value, or whose facts leave no room
for one value each (`_room`: more cities than countries take part in `located_in`, so a country takes several
cities whatever share of the countries a small KG shows with one). A relation with fewer than
`QueuePolicy.min_cardinality_entities` entities on a side says nothing (no demotion): three books with one author
each may be chance. A side counted on few entities (`QueuePolicy.small_side_entities`) is a prior, not a rule: a
second value there is worth at least `QueuePolicy.small_side_second_chance`, because a handful of entities with
one value each is often chance (two browser trials: every city of a programming-languages KG with one person born
there, every book of a literature KG set in one city, buried "A Tale of Two Cities is set in Paris", read at 0.99
in its sentence, at 0.20 and rank 59).

A pair of entities is counted the same way: of the pairs a relation links, how many some other relation links
too. A candidate for a pair the KG already links by a relation whose pairs rarely carry it is worth that chance
before calibration (`side` "pair"; a fitted combiner does not read it, see `engine.queue.opinions`): on the curator benchmark's film KG (choose half, seed 13), three of the five false suggestions
among the first twenty read a film's director as its star ("The Departed starring Martin Scorsese" beside "The
Departed directed_by Martin Scorsese"), and none of the KG's 10 directed pairs is a starring one; the companies
KG's founders are often its CEOs (4 of 10 pairs), so there neither relation sinks the other.

Where an entity has no value yet for a one-valued side, its candidate values compete for the one place
(`compete`): their confidences sum to at most 1, so three countries for one city cannot all be 0.99.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

from engine.queue.policy import QueuePolicy

Triple = tuple[str, str, str]
#: the side of a relation whose values are counted: "tail" counts the tails of each head, "head" the heads of each tail
SIDES = ("tail", "head")


def _pair(a: str, b: str) -> tuple[str, str]:
    """Two entities either way round: a relation between them in either direction links the pair."""
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class SideCount:
    """One side of one relation: how many entities have a value there, and how many have exactly one."""

    entities: int
    single: int

    @property
    def several(self) -> int:
        return self.entities - self.single

    def several_chance(self) -> float:
        """The chance that an entity with a value has another: Beta(1, 1) smoothed."""
        return (self.several + 1) / (self.entities + 2)

    def single_share(self) -> float:
        return self.single / self.entities if self.entities else 0.0


@dataclass(frozen=True)
class SecondValue:
    """Why a candidate is a second value: the side, the entity that already has values and those values,
    and how often the relation's entities have one value only. On the side "pair", `existing` is the relation
    that already links the candidate's two entities and `count` its pairs (`single`: those with no other link
    of the candidate's relation)."""

    relation: str
    side: str
    entity: str
    existing: tuple[str, ...]
    count: SideCount
    marked: bool = False
    #: the least a second value is worth: the side is counted on so few entities that one value each may be
    #: chance (0 on a side with more)
    floor: float = 0.0

    def chance(self) -> float:
        """What a second value is worth: 0 where a curator marked the side one-valued."""
        return 0.0 if self.marked else max(self.count.several_chance(), self.floor)

    def as_dict(self) -> dict:
        return {"side": self.side, "entity": self.entity, "existing": list(self.existing[:3]),
                "single": self.count.single, "entities": self.count.entities, "chance": round(self.chance(), 4),
                "marked": self.marked, "few": self.floor > self.count.several_chance()}


class Cardinalities:
    """Per relation and side, the counts of the accepted `facts`; `marked` maps a side to the relations a curator
    marked one-valued there ("tail": one tail per head, i.e. functional; "head": one head per tail)."""

    def __init__(self, facts: Iterable[Triple], policy: QueuePolicy = QueuePolicy(),
                 marked: Optional[dict[str, set[str]]] = None) -> None:
        self.policy = policy
        self.marked = {side: set((marked or {}).get(side, ())) for side in SIDES}
        self.values: dict[str, dict[tuple[str, str], list[str]]] = {side: defaultdict(list) for side in SIDES}
        #: the relations linking each pair of entities, either way round (a tuple: most pairs have one)
        self.pair_relations: dict[tuple[str, str], tuple[str, ...]] = {}
        for h, r, t in set(facts):
            self.values["tail"][(h, r)].append(t)
            self.values["head"][(t, r)].append(h)
            pair = _pair(h, t)
            linking = self.pair_relations.get(pair, ())
            if r not in linking:
                self.pair_relations[pair] = linking + (r,)
        self.counts = self._count_sides()
        self.pairs_of, self.together = self._count_pairs()

    def _count_sides(self) -> dict[str, dict[str, SideCount]]:
        counts: dict[str, dict[str, list[int]]] = {side: defaultdict(lambda: [0, 0]) for side in SIDES}
        for side in SIDES:
            for (_, relation), found in self.values[side].items():
                counts[side][relation][0] += 1
                counts[side][relation][1] += len(found) == 1
        return {side: {r: SideCount(n, single) for r, (n, single) in by.items()} for side, by in counts.items()}

    def _count_pairs(self) -> tuple[Counter, Counter]:
        """Per relation, the pairs it links; per two relations, the pairs both link."""
        pairs_of: Counter[str] = Counter()
        together: Counter[tuple[str, str]] = Counter()
        for linking in self.pair_relations.values():
            pairs_of.update(linking)
            if len(linking) > 1:
                together.update((a, b) for a in linking for b in linking if a != b)
        return pairs_of, together

    def count(self, relation: str, side: str) -> Optional[SideCount]:
        """The side's counts, or None where too few entities take part to say anything."""
        found = self.counts[side].get(relation)
        return found if found and found.entities >= self.policy.min_cardinality_entities else None

    def _room(self, relation: str, side: str) -> bool:
        """Whether the relation's facts leave room for one value per entity on this side: not where more distinct
        values than entities take part (8 cities in `located_in` for 5 countries: a country takes several
        cities, though 4 of the 5 show one). This reads the KG's own facts, not the kinds' sizes: the kind
        "person" holds actors as well as the few who direct, so 17 persons for 14 films said nothing about a
        film's one director (a curator benchmark's choose half: "The Departed directed_by Matt Damon" at 0.69
        beside Martin Scorsese), and 17 cities for 16 companies nothing about a company's one headquarters."""
        other = "head" if side == "tail" else "tail"
        entities, values = (self.counts[s].get(relation, SideCount(0, 0)).entities for s in (side, other))
        return values <= entities

    def _single_at_least(self, relation: str, side: str, share: float) -> bool:
        """Whether at least `share` of the entities on this side have one value (enough of them to say so),
        where the facts leave room for that."""
        found = self.count(relation, side)
        return found is not None and found.single_share() >= share and self._room(relation, side)

    def mostly_one(self, relation: str, side: str) -> bool:
        """Whether a second value on this side is demoted."""
        return self._single_at_least(relation, side, self.policy.second_value_share)

    def one_valued(self, relation: str, side: str) -> bool:
        """Whether the KG (or a curator's mark) says an entity takes one value on this side (its candidate values
        then compete)."""
        return relation in self.marked[side] or self._single_at_least(relation, side, self.policy.one_value_share)

    def second_value(self, triple: Triple) -> Optional[SecondValue]:
        """The likelier reason why `triple` would be a second value or a second link (the smaller chance), or
        None where neither entity already has a value there and no other relation links the pair, or the
        relation's counts say nothing."""
        return min(filter(None, (self.side_second_value(triple), self.second_link(triple))),
                   key=lambda s: s.chance(), default=None)

    def side_second_value(self, triple: Triple) -> Optional[SecondValue]:
        """The side with the smaller chance where `triple` would give an entity a second value, or None."""
        h, r, t = triple
        found = []
        for side, entity, other in (("tail", h, t), ("head", t, h)):
            existing = tuple(sorted(v for v in self.values[side].get((entity, r), ()) if v != other))
            count = self.counts[side].get(r)
            marked = r in self.marked[side]
            # an entity that already has several values is one of those that take several, and a side where
            # most entities take several says nothing against another: no demotion
            if existing and (marked or (len(existing) == 1 and self.mostly_one(r, side))):
                found.append(SecondValue(r, side, entity, existing, count or SideCount(0, 0), marked,
                                         self._small_side_floor(count)))
        return min(found, key=lambda s: s.chance(), default=None)

    def _small_side_floor(self, count: Optional[SideCount]) -> float:
        """`small_side_second_chance` on a side of at most `small_side_entities` entities, else nothing: past
        that the KG's own count speaks (CoDEx-S's sides of hundreds of entities)."""
        entities = count.entities if count is not None else 0
        return self.policy.small_side_second_chance if entities <= self.policy.small_side_entities else 0.0

    def second_link(self, triple: Triple) -> Optional[SecondValue]:
        """The relation already linking the candidate's pair that leaves it the smallest chance, or None."""
        return min(self._second_relation(triple), key=lambda s: s.chance(), default=None)

    def _second_relation(self, triple: Triple) -> list[SecondValue]:
        """The relations that already link the candidate's pair where the two rarely link one pair: at most
        1 - `second_value_share` of either's pairs (each with `min_cardinality_entities` pairs at least) carry
        the other too, and the candidate's relation links the other's pairs less often than it links the pairs of
        its own entities at all (its density). Both ways, because a relation whose pairs all lie inside another's
        (a capital is a city located in its country; a CEO who founded the company) is no second link to sink,
        and a relation with no facts yet says nothing. The density, because a rare co-occurrence can still be
        far above chance: in CoDEx-S's train facts 31 of the 331 place-of-death pairs are also place-of-birth
        pairs (9 %), three times the share of a place of birth's persons and places that are its pairs at all
        (3 %); without it the rule sank 22 of the 1,827 dev facts, with it 13."""
        h, r, t = triple
        out = []
        least, share = self.policy.min_cardinality_entities, self.policy.second_value_share
        own = self.pairs_of[r]
        heads, tails = (self.counts[side].get(r, SideCount(0, 0)).entities for side in SIDES)
        density = own / (heads * tails) if heads and tails else 0.0
        for other in sorted(set(self.pair_relations.get(_pair(h, t), ())) - {r}):
            pairs = self.pairs_of[other]
            count = SideCount(pairs, pairs - self.together[(other, r)])
            if (pairs >= least and own >= least and count.single_share() >= share
                    and (own - self.together[(r, other)]) / own >= share and count.several_chance() < density):
                out.append(SecondValue(r, "pair", h, (other,), count))
        return out

    def chance(self, triple: Triple) -> float:
        """What `triple` is worth as far as the relation's cardinality goes: 1 for a first value."""
        reason = self.second_value(triple)
        return 1.0 if reason is None else reason.chance()


def compete(confidence: dict[Triple, float], cardinalities: Cardinalities) -> dict[Triple, float]:
    """The candidate values of an entity that has none yet on a one-valued side share one place (both sides in
    turn): the likeliest keeps its confidence and each next one gets at most what those above it leave of 1;
    values within `QueuePolicy.compete_tie` of one another split what is left. Scaling them all to sum to 1 let a crowd of guesses from
    names alone (each at most `names_only_ceiling`) halve the one value a sentence states: on the curator
    benchmark's companies KG (choose half), "Asana is headquartered in San Francisco", "Microsoft was founded by
    Paul Allen" and three more stated facts sat at 0.31-0.35 instead of about 0.74."""
    out = dict(confidence)
    for side in SIDES:
        groups: dict[tuple[str, str], list[Triple]] = defaultdict(list)
        for triple in out:
            h, r, t = triple
            entity = h if side == "tail" else t
            if cardinalities.one_valued(r, side) and not cardinalities.values[side].get((entity, r)):
                groups[(entity, r)].append(triple)
        for members in groups.values():
            used = 0.0
            for tied in _near_ties(sorted(members, key=lambda m: -out[m]), out, cardinalities.policy.compete_tie):
                total, left = sum(out[m] for m in tied), max(0.0, 1.0 - used)
                if total > left:
                    for m in tied:
                        out[m] = out[m] * left / total
                used += min(total, left)
    return out


def _near_ties(ranked: list[Triple], confidence: dict[Triple, float], tie: float) -> Iterator[list[Triple]]:
    """`ranked` (most likely first) in runs within `tie` of each run's first: 0.99 and 0.98 share what is left
    rather than one taking it all."""
    run: list[Triple] = []
    for triple in ranked:
        if run and confidence[run[0]] - confidence[triple] > tie:
            yield run
            run = []
        run.append(triple)
    if run:
        yield run


def with_second_chance(confidence: float, chance: float) -> float:
    """A second value's confidence: its evidence and the relation's chance of a second value combined as
    odds (each against an even prior), so a sentence that states it can lift it where a guess from the names
    cannot. Multiplying the two buried true second values a document stated ("Buzz Aldrin flew on Gemini 12",
    rank 26 of a crew KG in which 18 of 19 astronauts had one mission)."""
    if chance >= 1.0:
        return confidence
    held = confidence * chance
    return held / (held + (1.0 - confidence) * (1.0 - chance)) if held > 0 else 0.0
