"""Which scored candidates make the review queue, and how unsure the model is of each.

The queue holds each relation's most confident candidates (and, past that number, every candidate whose
calibrated confidence reaches `sure`, more likely a fact than not: on WN18RR one relation had 2,014 near-certain
missing facts and got the same 25 places as ten relations with few good ones; on CoDEx-S 428 missing reverses of
`diplomatic relation` at 0.5-0.9 were left out), each sentence's likeliest finding (a sentence mostly
states one fact, whichever of its mention pairs the model reads a relation into) and every other triple the
text states with at least `min_text` confidence, and the `uncertain` candidates of the whole scored pool
whose pair is closest to a tie between its two likeliest answers ("no relation" included): those are the ones
a verdict teaches the most.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Collection, Iterable, Optional

from engine.queue.policy import QueuePolicy

Triple = tuple[str, str, str]


def pair_margins(confidence: dict[Triple, float]) -> dict[Triple, float]:
    """Per triple, the margin of its (head, tail) pair: the likeliest answer's confidence minus the second's,
    where the answers are the pair's candidate relations and "no relation" (1 − the best)."""
    by_pair: dict[tuple[str, str], list[float]] = defaultdict(list)
    for (head, _, tail), p in confidence.items():
        by_pair[(head, tail)].append(p)
    margin = {}
    for pair, ps in by_pair.items():
        answers = sorted(ps + [1.0 - max(ps)], reverse=True)
        margin[pair] = round(answers[0] - answers[1], 6)
    return {triple: margin[(triple[0], triple[2])] for triple in confidence}


def select(confidence: dict[Triple, float], margins: dict[Triple, float], policy: QueuePolicy,
           stated: Iterable[Triple] = (), leads: Collection[Triple] = (), calibrated_text: bool = True,
           calibrated: Optional[set[Triple]] = None, fitted: bool = True,
           standing: Collection[Triple] = ()) -> dict[Triple, float]:
    """The queue: per relation its `policy.per_relation` most confident; the `stated` triples that `leads` names
    (the likeliest statement of a sentence, whatever their confidence: at most `leads_per_relation` per
    relation, the most confident) and the other `stated` triples at `min_text` or above (where their confidence
    is the text model's own and not calibrated, `calibrated_text` false, at most `uncalibrated_text_per_relation`
    per relation, the most confident: a corpus can make that exceed `min_text` for thousands of pairs); where a
    combiner was `fitted`, every `calibrated` candidate at `sure` or above; and the `uncertain` smallest-margin
    triples of the rest (one per pair: its likeliest relation); and every `standing` triple (what a curator's
    standing rule implies)."""
    chosen = _top_per_relation(confidence, confidence, policy.per_relation)
    if fitted:  # only a calibrated confidence says "sure" (all are, unless `calibrated` names them)
        chosen.update(t for t, p in confidence.items()
                      if p >= policy.sure and (calibrated is None or t in calibrated))
    chosen |= _read_in_text(confidence, policy, set(stated), set(leads), calibrated_text)
    chosen |= _most_uncertain(confidence, margins, chosen, policy.uncertain)
    chosen |= {t for t in standing if t in confidence}
    return {t: confidence[t] for t in chosen}


def _top_per_relation(triples: Iterable[Triple], confidence: dict[Triple, float], n: Optional[int]) -> set[Triple]:
    """Each relation's `n` most confident of `triples` (all of them where `n` is None)."""
    by_relation: dict[str, list[tuple[float, Triple]]] = defaultdict(list)
    for triple in triples:
        by_relation[triple[1]].append((confidence[triple], triple))
    return {triple for items in by_relation.values() for _, triple in sorted(items, reverse=True)[:n]}


def _read_in_text(confidence: dict[Triple, float], policy: QueuePolicy, stated: set[Triple], leads: set[Triple],
                  calibrated_text: bool) -> set[Triple]:
    """The `stated` triples that lead their sentence (at most `leads_per_relation` a relation) and the others at
    `min_text` or above (capped per relation where their confidence is not calibrated)."""
    known = [t for t in stated if t in confidence]
    leading = [t for t in known if t in leads]
    read = [t for t in known if t not in leads and confidence[t] >= policy.min_text]
    cap = None if calibrated_text else policy.uncalibrated_text_per_relation
    return (_top_per_relation(leading, confidence, policy.leads_per_relation)
            | _top_per_relation(read, confidence, cap))


def _most_uncertain(confidence: dict[Triple, float], margins: dict[Triple, float], chosen: set[Triple],
                    n: int) -> set[Triple]:
    """The `n` smallest-margin pairs not yet chosen, each by its likeliest relation."""
    best_of_pair: dict[tuple[str, str], Triple] = {}
    for triple, p in confidence.items():
        pair = (triple[0], triple[2])
        if pair not in best_of_pair or (p, triple) > (confidence[best_of_pair[pair]], best_of_pair[pair]):
            best_of_pair[pair] = triple
    rest = sorted((margins[t], t) for t in best_of_pair.values() if t not in chosen)
    return {t for _, t in rest[:n]}
