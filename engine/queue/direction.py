"""Which way a relation points. A model that is only ever shown `head → tail` as labelled learns which two
entities are related but not in which order: read back on a sentence, "Budapest is the capital of Hungary"
scored `capital_of` almost equally with the mentions marked either way, and whichever order won by noise
was suggested (the right order was often already a fact, so the wrong one was what the queue showed).

So training also sees each labelled triple and sentence reversed, as "no relation" (unless the relation is
symmetric), and suggesting keeps one direction per entity pair and relation, never the reverse of an accepted
fact unless the model is very sure of it.

Even so, a model taught by 8 sentences per relation reads the relation well and its direction poorly: on
SemEval it gave the relation to both markings of a pair and preferred the gold one 68 % of the time. The KG
knows which side each entity usually takes (`safe` is the container of eleven facts, never the content), so
where a sentence states a relation, its direction is the text's and the KG's evidence together
(`SideCounts.direction_odds`): 83 % the gold way on the same pairs.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Iterable, Optional, Protocol, Sequence

from engine.queue.policy import QueuePolicy
from engine.types import SentenceExample, TripleExample

Triple = tuple[str, str, str]


class Sides(Protocol):
    """What the direction check reads of the accepted facts (the combiner's `GraphCounts` has it): how often
    each (entity, relation) is a head and a tail."""

    as_head: Counter
    as_tail: Counter


def both_ways_shares(facts: Iterable[Triple]) -> dict[str, tuple[float, int]]:
    """Per relation, the share of its facts whose reverse is also a fact, and how many facts it has."""
    by_relation: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for head, relation, tail in facts:
        by_relation[relation].add((head, tail))
    return {relation: (sum((tail, head) in pairs for head, tail in pairs) / len(pairs), len(pairs))
            for relation, pairs in by_relation.items()}


def reverse_holds(facts: Iterable[Triple], marked: Iterable[str] = (), policy: QueuePolicy = QueuePolicy()
                  ) -> dict[str, float]:
    """Per relation, the share of its *missing* reverses (facts whose reverse is not a fact) expected to hold.

    The share of facts that hold both ways is not it: WN18RR's `also_see` holds both ways in 64 % of its facts
    and `derivationally_related_form` in 93 %, yet 57 of the former's 471 missing reverses are hidden facts and
    all 2,014 of the latter's. What separates them is how incomplete the KG is. A relation marked symmetric, or
    else the one that holds both ways most often (in at least the policy's `yardstick_share` of `yardstick_facts` or more
    facts), is taken as truly symmetric, so its missing share is the KG's missing rate m; a relation holding
    both ways in a share b of its facts is then symmetric in s = b / (1 − m) of them, and of its missing
    reverses s·m / (s·m + 1 − s) hold (on WN18RR: 1.0 and 0.13, measured 1.0 and 0.12). Each share counts one
    imagined fact that does not hold both ways (most relations do not), so a small relation never looks
    certain. Without a yardstick the KG's missing rate is unknown and the share of facts holding both ways is
    the guess. A relation a curator `marked` symmetric holds both ways by definition (1.0)."""
    marked = set(marked)
    counted = both_ways_shares(facts)
    smoothed = {relation: share * n / (n + 1) for relation, (share, n) in counted.items()}
    yardstick = max((smoothed[r] for r, (share, n) in counted.items()
                     if share > 0 and (r in marked or (share >= policy.yardstick_share and n >= policy.yardstick_facts))),
                    default=None)
    out = {}
    for relation, b in smoothed.items():
        if yardstick is None:
            out[relation] = b
        else:
            missing_rate, s = 1.0 - yardstick, min(1.0, b / yardstick)
            out[relation] = s * missing_rate / (s * missing_rate + (1.0 - s))
    return {**out, **{relation: 1.0 for relation in marked}}


def symmetric_relations(facts: Iterable[Triple], min_facts: int = 2, policy: QueuePolicy = QueuePolicy()
                        ) -> set[str]:
    """Relations whose facts mostly hold both ways ("borders", "interacts with"), read from the facts."""
    return {relation for relation, (share, n) in both_ways_shares(facts).items()
            if n >= min_facts and share >= policy.symmetric_share}


class SideCounts:
    """How often each entity is the head and the tail of each relation in the accepted facts (`counts`, the
    combiner's `GraphCounts` of the same facts)."""

    def __init__(self, counts: Sides, symmetric: Iterable[str] = ()) -> None:
        self.counts = counts
        self.symmetric = set(symmetric)

    def _side(self, entity: str, relation: str, side: str) -> float:
        """log p(entity takes `side` of `relation`), with one imagined fact each way: 0.5 for an entity the
        relation has never seen, so the text alone decides for it."""
        as_head, as_tail = self.counts.as_head[(entity, relation)], self.counts.as_tail[(entity, relation)]
        return math.log(((as_head if side == "head" else as_tail) + 1) / (as_head + as_tail + 2))

    def direction_odds(self, head: str, relation: str, tail: str, forward: float, backward: float) -> float:
        """Log-odds that `head relation tail` (the text's p of it `forward`, of the reverse marking
        `backward`) is the way round, rather than `tail relation head`; 0 for a symmetric relation."""
        if relation in self.symmetric:
            return 0.0
        tiny = 1e-9
        this_way = math.log(forward + tiny) + self._side(head, relation, "head") + self._side(tail, relation, "tail")
        other_way = (math.log(backward + tiny) + self._side(tail, relation, "head")
                     + self._side(head, relation, "tail"))
        return this_way - other_way


def reversed_triples(triples: Sequence[TripleExample], symmetric: set[str], known_pairs: set[tuple[str, str]]
                     ) -> list[TripleExample]:
    """`tail → head` as a negative for every positive triple of a relation that is not symmetric, where the
    reversed pair is not known to hold some relation (an inverse relation may state it)."""
    labelled = {(x.head, x.tail) for x in triples}
    return [TripleExample(x.tail, x.relation, x.head, holds=False) for x in triples
            if x.holds and x.relation not in symmetric and (x.tail, x.head) not in known_pairs
            and (x.tail, x.head) not in labelled]


def reversed_sentences(sentences: Sequence[SentenceExample], symmetric: set[str]) -> list[SentenceExample]:
    """The same sentence with head and tail marked the other way round: no relation, or the same relation
    when it is symmetric. Mention pairs labelled in both orders keep their own labels."""
    labelled = {(x.tokens, x.head, x.tail) for x in sentences}
    out = []
    for x in sentences:
        if x.relation is None or (x.tokens, x.tail, x.head) in labelled:
            continue
        out.append(SentenceExample(x.tokens, x.tail, x.head, x.relation if x.relation in symmetric else None))
    return out


def keep_one_direction(scored: dict[Triple, float], symmetric: set[str], accepted: set[Triple],
                       stated: Optional[dict[Triple, float]] = None, policy: QueuePolicy = QueuePolicy()
                       ) -> dict[Triple, float]:
    """Of `h r t` and `t r h` (r not symmetric), only the likelier; the reverse of an accepted fact only when
    what the text says of it (`stated`: the text model's own probability from names or sentences; else the
    score) reaches the policy's `reverse_of_fact_confidence` (the Review page then says it reverses that fact). Graph
    features cannot carry a reversal: both entities already take part in the relation, which is exactly what
    makes a combined confidence high."""
    kept: dict[Triple, float] = {}
    for triple, p in scored.items():
        head, relation, tail = triple
        flipped = (tail, relation, head)
        if relation in symmetric or head == tail:
            kept[triple] = p
        elif flipped in accepted:
            if (stated or scored).get(triple, 0.0) >= policy.reverse_of_fact_confidence:
                kept[triple] = p
        elif flipped not in scored or (p, flipped) > (scored[flipped], triple):
            kept[triple] = p
    return kept
