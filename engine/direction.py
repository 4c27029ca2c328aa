"""Which way a relation points. A model that is only ever shown `head → tail` as labelled learns which two
entities are related but not in which order: read back on a sentence, "Budapest is the capital of Hungary"
scored `capital_of` almost equally with the mentions marked either way, and whichever order won by noise
was suggested (the right order was often already a fact, so the wrong one was what the queue showed).

So training also sees each labelled triple and sentence reversed, as "no relation" (unless the relation is
symmetric), and suggesting keeps one direction per entity pair and relation, never the reverse of an accepted
fact unless the model is very sure of it.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Optional, Sequence

from engine.types import SentenceExample, TripleExample

Triple = tuple[str, str, str]

#: a relation is taken as symmetric when at least this share of its facts also hold reversed
SYMMETRIC_SHARE = 0.5
#: the reverse of an accepted fact (of a relation that is not symmetric) is suggested only this sure
REVERSE_OF_FACT_CONFIDENCE = 0.9


def symmetric_relations(facts: Iterable[Triple], min_facts: int = 2) -> set[str]:
    """Relations whose facts mostly hold both ways ("borders", "interacts with"), read from the facts."""
    by_relation: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for head, relation, tail in facts:
        by_relation[relation].add((head, tail))
    symmetric = set()
    for relation, pairs in by_relation.items():
        if len(pairs) < min_facts:
            continue
        both_ways = sum((tail, head) in pairs for head, tail in pairs)
        if both_ways >= SYMMETRIC_SHARE * len(pairs):
            symmetric.add(relation)
    return symmetric


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
                       stated: Optional[dict[Triple, float]] = None) -> dict[Triple, float]:
    """Of `h r t` and `t r h` (r not symmetric), only the likelier; the reverse of an accepted fact only when
    what the text says of it (`stated`: the text model's own probability from names or sentences; else the
    score) reaches `REVERSE_OF_FACT_CONFIDENCE` (the Review page then says it reverses that fact). Graph
    features cannot carry a reversal: both entities already take part in the relation, which is exactly what
    makes a combined confidence high."""
    kept: dict[Triple, float] = {}
    for triple, p in scored.items():
        head, relation, tail = triple
        flipped = (tail, relation, head)
        if relation in symmetric or head == tail:
            kept[triple] = p
        elif flipped in accepted:
            if (stated or scored).get(triple, 0.0) >= REVERSE_OF_FACT_CONFIDENCE:
                kept[triple] = p
        elif flipped not in scored or (p, flipped) > (scored[flipped], triple):
            kept[triple] = p
    return kept
