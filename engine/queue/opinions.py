"""The opinions on each candidate triple of a suggest pass, and the one confidence made of them.

Three readers judge a candidate: the prompt model on the entities' names and descriptions (p(r | h, t)), the
prompt model on the sentences that mention both (what the text states), and the structural model on the
graph. With the kinds the relation takes and how connected the entities are, they are the combiner's
features (`engine.queue.combiner`); a retrain fits the combiner on its held-out facts, *Suggest now* reuses the one
its model version saved.
"""
from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Collection, Optional, Sequence

import numpy as np

from engine.queue.candidates import Kinds, RelationCandidates
from engine.queue.cardinality import with_second_chance
from engine.queue.combiner import FEATURES, Combiner, CombinerReport, GraphCounts, Opinions, fit_combiner
from engine.queue.direction import SideCounts
from engine.queue.policy import QueuePolicy
from engine.queue.structural import StructuralModel
from engine.text_candidates import MentionPair
from engine.types import NO_RELATION

Triple3 = tuple[str, str, str]
Pair = tuple[str, str]
#: how much a way round whose kinds never fit the relation still counts (a KG's kinds can be incomplete)
KIND_SLACK = 0.05


@dataclass
class TextSupport:
    """What the sentences say about each ordered pair of entities they mention together."""

    #: pair → relation → the best p(relation) over the pair's sentences
    best: dict[Pair, dict[str, float]] = field(default_factory=dict)
    #: triple → its evidence: (sentence id, head start, head end, tail start, tail end, score) of each sentence
    #: whose likeliest answer it is, best first
    stated: dict[Triple3, list[tuple]] = field(default_factory=dict)
    #: triple → how likely one of its sentences says it, rather than anything else that sentence could say
    #: or this the other way round: the best over its sentences of p × (p / the sum of p over all the
    #: sentence's findings) × p(this way round). A SemEval test sentence has 20 mention pairs and states one
    #: fact; a wrong pair's likeliest relation is 0.9 as easily as the right pair's, so p alone put 9 facts in
    #: the top 100 findings of a queue and this 40 (seed 42)
    sentence_share: dict[Triple3, float] = field(default_factory=dict)
    #: triple → how many sentences it is the likeliest finding of (by p, known facts included: a sentence
    #: stating a fact the KG holds has been read), the way round at least `QueuePolicy.clear_way` times likelier than the
    #: other (84 % of such findings on gold pairs pointed the gold way, 93 % of those with a clear way)
    leading: dict[Triple3, int] = field(default_factory=dict)


def _by_kinds(distribution: dict[str, float], head: str, tail: str, kinds: Kinds) -> dict[str, float]:
    """The text model's distribution with its relation mass (all but "no relation") shared among the relations
    whose kinds the two entities fit, either way round: the model reads that a person and a city are related,
    the KG knows that a person is born in a city and not its CEO. Unchanged where no relation fits."""
    fits = {r: max(kinds.fit(head, r, tail), kinds.fit(tail, r, head)) for r in distribution if r != NO_RELATION}
    weighted = {r: distribution[r] * fit for r, fit in fits.items()}
    total = sum(weighted.values())
    if total <= 0:
        return distribution
    mass = sum(distribution[r] for r in fits)
    return {**{r: mass * w / total for r, w in weighted.items()},
            **({NO_RELATION: distribution[NO_RELATION]} if NO_RELATION in distribution else {})}


def read_text(mentions: Sequence[MentionPair], distributions: Sequence[dict[str, float]],
              sides: Optional[SideCounts] = None, policy: QueuePolicy = QueuePolicy(),
              kinds: Optional[Kinds] = None) -> TextSupport:
    """Each mention pair states its likeliest relation (not "no relation"), the way round that the text and
    the KG's `sides` (which side each entity takes in the facts) together make likelier; what a marking says
    of a relation it was turned away from does not count as what its sentence says of that order. With the
    KG's `kinds`, a pair's relation mass goes to the relations its kinds fit (`_by_kinds`), and the way round
    weighs which side each entity's kind takes."""
    sides = sides or SideCounts(GraphCounts(()))
    if kinds is not None:
        distributions = [_by_kinds(d, m.head.entity, m.tail.entity, kinds) for m, d in zip(mentions, distributions)]
    marked = {(m.sentence_id, m.head.start, m.head.end, m.tail.start, m.tail.end): d
              for m, d in zip(mentions, distributions)}
    best: dict[Pair, dict[str, float]] = defaultdict(dict)
    stated: dict[Triple3, dict[tuple, float]] = defaultdict(dict)
    way: dict[tuple, float] = {}  # (triple, where) → p(this way round rather than the other)
    for mention, distribution in zip(mentions, distributions):
        pair = (mention.head.entity, mention.tail.entity)
        relation, p = _reading(distribution, policy.reading_odds)
        turned = None
        if relation != NO_RELATION:
            triple, where, q, certainty = _way_round(mention, relation, p, marked, sides, kinds)
            turned = relation if where[1] != mention.head.start else None  # read the other way round
            stated[triple][where] = q
            way[(triple, where)] = certainty
        mine = best[pair]
        for name, q in distribution.items():
            if name not in (NO_RELATION, turned) and q > mine.get(name, 0.0):
                mine[name] = q
    share, leading = _sentence_readings(stated, way, policy.clear_way, sides.counts.facts)
    return TextSupport(dict(best), {triple: sorted(((*where, p) for where, p in evidence.items()),
                                                    key=lambda e: -e[5])
                                    for triple, evidence in stated.items()}, share, leading)


def _reading(distribution: dict[str, float], odds: float) -> tuple[str, float]:
    """What a marking states: its likeliest relation, also where "no relation" is likelier but the relation
    reaches `odds` of its probability."""
    relation, p = max(distribution.items(), key=lambda item: item[1])
    if relation == NO_RELATION:
        other = max(((r, q) for r, q in distribution.items() if r != NO_RELATION), key=lambda item: item[1],
                    default=None)
        if other is not None and other[1] >= odds * p:
            return other
    return relation, p


def _way_round(mention: MentionPair, relation: str, p: float, marked: dict[tuple, dict[str, float]],
               sides: SideCounts, kinds: Optional[Kinds]) -> tuple[Triple3, tuple, float, float]:
    """(triple, where, its p, how sure the way round is) of what a marking states: the way round the text (this
    marking's p against the reversed marking's) and the KG's sides (and kinds) together make likelier."""
    head, tail = mention.head.entity, mention.tail.entity
    spans = (mention.head.start, mention.head.end, mention.tail.start, mention.tail.end)
    backward = marked.get((mention.sentence_id, *spans[2:], *spans[:2]), {}).get(relation, 0.0)
    odds = sides.direction_odds(head, relation, tail, p, backward)
    if kinds is not None and relation not in sides.symmetric:
        odds += math.log((kinds.fit(head, relation, tail) + KIND_SLACK) / (kinds.fit(tail, relation, head) + KIND_SLACK))
    certainty = 1.0 if relation in sides.symmetric else 1.0 / (1.0 + math.exp(-abs(odds)))
    if odds > 0 or (odds == 0 and (relation in sides.symmetric or head <= tail)):
        return (head, relation, tail), (mention.sentence_id, *spans), p, certainty
    return (tail, relation, head), (mention.sentence_id, *spans[2:], *spans[:2]), backward, certainty


def _sentence_readings(stated: dict[Triple3, dict[tuple, float]], way: dict[tuple, float], clear_way: float,
                       known: Collection[Triple3] = ()) -> tuple[dict[Triple3, float], dict[Triple3, int]]:
    """(sentence_share, leading) of `TextSupport` from each triple's evidence (keyed by sentence id and spans) and how
    likely each marking's way round is. A finding's share of its sentence leaves out the `known` facts it also
    states: a curator's sentence often restates a fact of the KG beside a new one ("Cillian Murphy won the
    Academy Award for Best Actor for Oppenheimer"), and what the KG already holds does not compete with it."""
    by_sentence: dict[int, dict[Triple3, tuple[float, float]]] = defaultdict(dict)
    for triple, evidence in stated.items():
        for where, p in evidence.items():
            findings = by_sentence[where[0]]
            findings[triple] = max(findings.get(triple, (0.0, 0.0)), (p, way[(triple, where)]))
    share: dict[Triple3, float] = {}
    leading: Counter = Counter()
    for findings in by_sentence.values():
        total = sum(p for t, (p, _) in findings.items() if t not in known) or 1.0
        for triple, (p, certainty) in findings.items():
            share[triple] = max(share.get(triple, 0.0), p * p / total * certainty)
        lead = max(findings, key=lambda t: (findings[t], t))
        if findings[lead][1] >= clear_way / (1.0 + clear_way):
            leading[lead] += 1
    return share, dict(leading)


@dataclass
class Scored:
    """Every candidate's confidence and the opinions the Review page shows, and the combiner behind them."""

    confidence: dict[Triple3, float]
    opinions: dict[Triple3, dict]
    combiner: Optional[Combiner] = None
    report: Optional[CombinerReport] = None


class OpinionSources:
    """Turns a candidate triple into its opinions and feature row."""

    def __init__(self, distributions: dict[Pair, dict[str, float]], text: TextSupport,
                 structure: Optional[StructuralModel], kinds: Kinds, counts: GraphCounts) -> None:
        self.distributions, self.text, self.structure = distributions, text, structure
        self.kinds, self.counts = kinds, counts

    def opinions(self, triples: Sequence[Triple3]) -> list[Opinions]:
        graph = (self.structure.opinion(list(triples)) if self.structure is not None
                 else np.full(len(triples), np.nan))
        patterns = self.counts.patterns.best(list(triples))
        cardinalities = self.counts.cardinalities
        out = []
        for (h, r, t), g, rule in zip(triples, graph.tolist(), patterns):
            out.append(Opinions(text=self.distributions[(h, t)].get(r, 0.0), graph=g,
                                sentence=self.text.best.get((h, t), {}).get(r, 0.0),
                                sentence_share=self.text.sentence_share.get((h, r, t), 0.0),
                                sentences=len({e[0] for e in self.text.stated.get((h, r, t), ())}),
                                leading=self.text.leading.get((h, r, t), 0), fit=self.kinds.fit(h, r, t),
                                pattern=rule, second=cardinalities.side_second_value((h, r, t)),
                                link=cardinalities.second_link((h, r, t))))
        return out

    def rows(self, triples: Sequence[Triple3], opinions: Sequence[Opinions]) -> np.ndarray:
        return np.array([self.counts.row(t, o) for t, o in zip(triples, opinions)], dtype=float).reshape(
            len(triples), len(FEATURES))


def _shown(opinion: Opinions, calibrated: bool = False) -> dict:
    """The opinions a curator reads beside the confidence, as stored with the suggestion ("says" and "leads" are
    the stored names of the sentence share and the leading count: the Review card and the re-rank read them)."""
    shown = {"text": round(opinion.text, 4), "sentences": opinion.sentences, "fit": round(opinion.fit, 3)}
    if opinion.sentences:
        shown.update(sentence=round(opinion.sentence, 4), says=round(opinion.sentence_share, 4), leads=opinion.leading)
    if not math.isnan(opinion.graph):
        shown["graph"] = round(opinion.graph, 4)
    if opinion.pattern is not None:
        shown["pattern"] = opinion.pattern.as_dict()
    # a fitted combiner weighs the sides' cardinality, not a pair's second link: the card shows what counted
    reason = opinion.second if calibrated else opinion.reason
    if reason is not None:
        shown["second_value"] = reason.as_dict()
    return shown


def _per_fact(held_out: Sequence[Triple3], negatives_per_fact: int) -> Counter:
    """Per relation, `negatives_per_fact` for each of its held-out facts."""
    return Counter({r: n * negatives_per_fact for r, n in Counter(r for _, r, _ in held_out).items()})


def negatives_for(held_out: Sequence[Triple3], per_relation: list[RelationCandidates], seed: int,
                  stated: Sequence[Triple3] = (), negatives_per_fact: int = QueuePolicy.negatives_per_fact
                  ) -> list[Triple3]:
    """`negatives_per_fact` candidates of each held-out fact's relation (at least 2 per relation), drawn from
    the graph's candidates and the triples the text states alike: what the combiner must learn to tell the
    facts from, so it weighs what a sentence says against the sentences a queue is full of."""
    wanted = _per_fact(held_out, negatives_per_fact)
    pool: dict[str, list[Triple3]] = defaultdict(list)
    for c in per_relation:
        pool[c.relation] += [(h, c.relation, t) for h, t in c.pairs]
    for triple in stated:
        pool[triple[1]].append(triple)
    rng = random.Random(seed)
    out = []
    for relation in sorted(pool):
        if relation in wanted:
            mine = sorted(set(pool[relation]) - set(held_out))
            out += rng.sample(mine, min(len(mine), max(2, wanted[relation])))
    return out


def missing_reverses_for(held_out: Sequence[Triple3], per_relation: list[RelationCandidates], seed: int,
                         seen: Collection[Triple3], negatives_per_fact: int = QueuePolicy.negatives_per_fact
                         ) -> list[Triple3]:
    """`negatives_per_fact` missing reverses (`RelationCandidates.reverses`) per held-out fact of their relation:
    the combiner's sample of them, each a fact only as likely as its relation's missing reverses hold. Only
    reverses of the facts the fit sees (`seen`): one whose fact is held out looks like any other candidate."""
    wanted = _per_fact(held_out, negatives_per_fact)
    rng = random.Random(seed)
    out = []
    for c in sorted(per_relation, key=lambda c: c.relation):
        mine = sorted((h, c.relation, t) for h, t in c.reverses if (t, c.relation, h) in seen)
        out += rng.sample(mine, min(len(mine), wanted[c.relation]))
    return out


def in_the_pool(sources: OpinionSources, held_out: Sequence[Triple3], per_relation: list[RelationCandidates]
                ) -> list[Triple3]:
    """The held-out facts the pre-filter would have proposed had they been missing: the structural model scores
    them at least as well as the lowest of their relation's proposed pairs, they are missing reverses of a
    relation that proposes those, or a sentence mentions both entities. A queue is made of such candidates; a
    random held-out fact mostly scores below them, and a combiner fitted on random facts against the pool learnt
    that a better graph score marks a non-fact (weight −0.1 to −1.5 on UMLS and WN18RR)."""
    if sources.structure is None:
        return list(held_out)
    floor = {}
    for c in per_relation:
        opinions = sources.structure.opinion([(h, c.relation, t) for h, t in c.pairs]) if c.pairs else np.empty(0)
        if np.isfinite(opinions).any():
            floor[c.relation] = float(np.nanmin(opinions))
    reverses = {c.relation for c in per_relation if c.reverses}
    graph = sources.structure.opinion(list(held_out)).tolist()
    return [(h, r, t) for (h, r, t), g in zip(held_out, graph)
            if (r in floor and g >= floor[r]) or (r in reverses and (t, r, h) in sources.counts.facts)
            or (h, t) in sources.text.best]


def reverse_shares(counts, positives: Sequence[Triple3], reverses: Sequence[Triple3]) -> list[float]:
    """How likely each sampled missing reverse is to count as a fact in the fit, such that its relation's missing
    reverses, the held-out facts among them included, hold in the share `reverse_holds` expects.

    A held-out fact of a relation that mostly holds both ways is itself a missing reverse once held out, and a
    true one: fitted on those beside the sample at the expected share, the missing reverses held more often than
    expected (CoDEx-S, `diplomatic relation`: 0.93 at the top of the queue where 36 % of them are dev facts and the
    KG expects 52 %)."""
    held = Counter(r for h, r, t in positives if counts.reverse((h, r, t)) > 0)
    sampled = Counter(r for _, r, _ in reverses)
    share = {}
    for relation, n in sampled.items():
        p = counts.reverse_holds.get(relation, 0.0)
        share[relation] = min(1.0, max(0.0, (p * (held[relation] + n) - held[relation]) / n))
    return [share[r] for _, r, _ in reverses]


def fit(sources: OpinionSources, held_out: Sequence[Triple3], per_relation: list[RelationCandidates],
        stated: Sequence[Triple3], seed: int = 0, policy: QueuePolicy = QueuePolicy()
        ) -> tuple[Optional[Combiner], CombinerReport]:
    """The combiner fitted on the `held_out` facts the pre-filter would have proposed (`in_the_pool`; all of
    them where those are fewer than the policy's `min_facts`) against candidates (or None, with the reason).

    It learns to weigh what sentences say only from facts that sentences mention: where fewer than
    `min_facts_in_text` held-out facts are in the text (a corpus about other things than the KG's facts), a
    text candidate would look unlike every fact merely for having a sentence, so such a combiner is fitted on
    the graph's candidates alone and leaves the text's findings what their sentences say."""
    in_text = sum(1 for h, _, t in held_out if (h, t) in sources.text.best)
    reads_text = in_text >= policy.min_facts_in_text
    pooled = in_the_pool(sources, held_out, per_relation)
    positives = pooled if len(pooled) >= policy.min_facts else list(held_out)
    negatives = negatives_for(positives, per_relation, seed, stated if reads_text else (), policy.negatives_per_fact)
    reverses = missing_reverses_for(positives, per_relation, seed, sources.counts.facts, policy.negatives_per_fact)
    combiner, report = fit_combiner(sources.rows(positives, sources.opinions(positives)),
                                    sources.rows(negatives, sources.opinions(negatives)), seed,
                                    sources.rows(reverses, sources.opinions(reverses)),
                                    reverse_shares(sources.counts, positives, reverses), policy)
    if combiner is not None:
        combiner.reads_text = reads_text
    report.facts_in_text, report.reads_text, report.facts_in_pool = in_text, reads_text, len(pooled)
    report.min_facts_in_text = policy.min_facts_in_text
    return combiner, report


def uncalibrated(sources: OpinionSources, triple: Triple3, opinion: Opinions) -> float:
    """A confidence no combiner calibrated, conservative by construction, in which evidence comes first.

    Evidence is what a sentence says of the triple, a pattern of the graph that holds at least
    `pattern_evidence` of the time ("12 of 13"), or the share of its relation's missing reverses expected to
    hold. A sentence's finding lies between `names_only_ceiling` and `uncalibrated_ceiling` by how strongly the
    sentence says it (raised to `evidence_exponent`); a pattern or a missing reverse is worth the share of the
    time the KG shows it holding, up to `uncalibrated_ceiling` (a browser trial's river KG: a pattern through
    neighbouring countries, mapped like a sentence, had put every neighbour country at 0.61-0.71). A guess from
    the entities' names alone stays below `names_only_ceiling` (on a curator's 80-fact KG the top 30 such
    guesses, at 0.85-0.97, held no fact, and a sentence's findings sat under them).
    Both are scaled by how well the entities fit the relation's kinds, and a second value's is combined with
    what the relation's cardinality leaves of one (`with_second_chance`)."""
    policy = sources.counts.policy
    strong = opinion.pattern_confidence if opinion.pattern_confidence >= policy.pattern_evidence else 0.0
    rate = max(strong, sources.counts.reverse(triple))
    confidence = policy.names_only_ceiling * max(opinion.text, opinion.pattern_confidence)
    if opinion.sentences and opinion.sentence_share > 0:
        confidence = (policy.names_only_ceiling + (policy.uncalibrated_ceiling - policy.names_only_ceiling)
                      * opinion.sentence_share ** policy.evidence_exponent)
    confidence = max(confidence, min(rate, policy.uncalibrated_ceiling))
    return with_second_chance(confidence * opinion.fit, opinion.prior_chance)


def score_candidates(sources: OpinionSources, triples: Sequence[Triple3], combiner: Optional[Combiner] = None) -> Scored:
    """Confidence for every triple: the combiner's where there is one (and it reads the text, for a triple a
    sentence states), else the conservative `uncalibrated` one, in which a finding read in a sentence outranks a
    guess from names alone."""
    opinions = sources.opinions(triples)
    probabilities = [uncalibrated(sources, t, o) for t, o in zip(triples, opinions)]
    calibrated = [False] * len(triples)
    if combiner is not None:
        combined = combiner.probability(sources.rows(triples, opinions)).tolist()
        calibrated = [combiner.reads_text or not o.sentences for o in opinions]
        probabilities = [c if used else p for c, p, used in zip(combined, probabilities, calibrated)]
    confidence = {t: round(float(p), 6) for t, p in zip(triples, probabilities)}
    return Scored(confidence, {t: _shown(o, used) for t, o, used in zip(triples, opinions, calibrated)}, combiner)
