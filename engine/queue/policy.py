"""Every constant that decides what the review queue holds and how sure it says it is, in one recorded object.

A retrain saves its policy with the model version (`TrainOptions.queue`), *Suggest now* reuses the active
version's, and the benchmarks write the one they ran with into their result files, so a figure can always be
traced to the settings that made it. The defaults are the values the project develops on; a value chosen on a
benchmark's test split is a defect (BENCHMARKS.md, "Protocol").
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping


@dataclass(frozen=True)
class QueuePolicy:
    # -- which candidates make the queue (`engine.queue.ranking.select`) --
    #: each relation's most confident candidates that join the queue
    per_relation: int = 25
    #: candidate pairs per relation judged by every opinion: the structural model's best (where trained)
    max_pairs: int = 300
    #: a text finding that does not lead its sentence joins the queue from this confidence
    min_text: float = 0.5
    #: how many of a relation's text findings join the queue where no combiner calibrated their confidence
    uncalibrated_text_per_relation: int = 25
    #: how many of a relation's findings that are the likeliest statement of their sentence join the queue: a
    #: sentence adds at most one, so this only bounds a big corpus (SemEval: 59-335 per relation)
    leads_per_relation: int = 500
    #: candidates of the whole pool closest to a tie that join the queue for the uncertainty order
    uncertain: int = 50
    #: a candidate this sure by a fitted combiner's calibrated confidence joins past its relation's number: more
    #: likely a fact than not. Chosen on the choose splits (seed 13): at 0.9, CoDEx-S's queue left out 428 of the
    #: 687 missing reverses of `diplomatic relation` (its facts hold both ways in 88 %; 189 of the 428 are dev
    #: facts); at 0.5 its P@500 went 0.172 -> 0.348 and recall of the top 1,000 0.052 -> 0.149, UMLS's recall
    #: 0.454 -> 0.660 (P@10 / 50 / 100 unchanged on both, UMLS's P@500 0.498 -> 0.482)
    sure: float = 0.5

    # -- what the text says (`engine.queue.opinions.read_text`) --
    #: a sentence's finding leads only where its way round is at least this many times likelier than the other
    clear_way: float = 2.0
    #: held-out facts the text must mention before the combiner judges what the text states
    min_facts_in_text: int = 50
    #: a marking states its likeliest relation where that is at least this share of "no relation"'s probability
    #: (1: only where it beats "no relation"). Chosen on the curator benchmark's choose half (film, companies,
    #: three seeds): at 1, 14-19 of the companies document's 21 facts reached the queue, most of those missed
    #: read as "no relation" at 0.5-0.7 with the right relation next ("Oliver Zipse has served as chief
    #: executive of BMW"); at 0.4, 19-20, and P@30 0.57 -> 0.66 (film unchanged: 15-16 of 16)
    reading_odds: float = 0.4

    # -- the combiner (`engine.queue.combiner`) --
    #: held-out facts (and candidates) needed to fit and calibrate a combiner
    min_facts: int = 20
    #: candidates drawn as negatives per held-out fact
    negatives_per_fact: int = 4
    #: folds of the combiner's out-of-fold decisions and of its Platt scaling
    combiner_folds: int = 5

    # -- direction (`engine.queue.direction`) --
    #: a relation is taken as symmetric when at least this share of its facts also hold reversed
    symmetric_share: float = 0.5
    #: the reverse of an accepted fact (of a relation that is not symmetric) is suggested only this sure
    reverse_of_fact_confidence: float = 0.9
    #: a relation is the yardstick of the KG's missing rate when it holds both ways in at least this share of
    #: at least `yardstick_facts` facts (or a curator marked it symmetric)
    yardstick_share: float = 0.8
    yardstick_facts: int = 10

    # -- the pre-filter (`engine.queue.candidates`) --
    #: pairs the structural model looks at per relation, the best-connected heads first
    max_scored_pairs: int = 10_000_000
    #: pairs looked at per relation without a structural model (two-hop pairs first)
    proximity_pairs: int = 1_000_000
    #: missing reverses proposed per relation that holds both ways in most of its facts
    max_closing_pairs: int = 5_000

    # -- cardinalities (`engine.queue.cardinality`) --
    #: a side of a relation says something about its cardinality only with this many entities taking part
    min_cardinality_entities: int = 4
    #: a side is one-valued (its candidate values compete for one place) where this share of its entities has
    #: one value
    one_value_share: float = 0.8
    #: a second value is demoted only on a side where at least this share of the entities have one value
    second_value_share: float = 0.8
    #: the least a second value is worth on a side counted on `small_side_entities` entities or fewer, where one
    #: value each may be chance. 0.2 keeps a sentence's finding (at most `uncalibrated_ceiling`) under 0.5, the
    #: issue's bar for a side where 95 % of the entities have one value, while lifting it above the names-only
    #: guesses. Not chosen on a benchmark: two browser trials' KGs (programming languages: born_in,
    #: headquartered_in; literature: set_in, won) buried document-stated second values at 0.15-0.27 with chances
    #: of 0.06-0.14
    small_side_second_chance: float = 0.2
    small_side_entities: int = 20
    #: candidate values of one place within this of each other share what is left of it alike
    compete_tie: float = 0.02

    # -- the graph's patterns (`engine.queue.patterns`) --
    #: pairs that must hold a rule before it counts
    min_pattern_support: int = 3
    #: a rule is kept from this smoothed confidence
    min_pattern_confidence: float = 0.1
    #: a path linking more pairs than this is not built (a hub's siblings on a big KG)
    max_pattern_pairs: int = 2_000_000

    # -- confidence before calibration (no combiner fitted, no verdicts yet) --
    #: the most a guess from the entities' names alone is worth: the text model's probability on names is not
    #: a probability that the triple holds (an 80-fact KG: 0 true in the top 30 at 0.85-0.97)
    names_only_ceiling: float = 0.3
    #: the most any uncalibrated confidence is worth (nothing at 0.8 before enough held-out items or verdicts)
    uncalibrated_ceiling: float = 0.79
    #: how an uncalibrated candidate's evidence e (0..1) maps between the two ceilings: e ** this. Chosen on the
    #: curator benchmark's choose half (film, companies): of the first values with evidence of at least 0.1,
    #: 25 of 31 held whatever e was (seed 13), and with e ** 0.25 the 0.6-0.7 band held 34 of 40 (three seeds):
    #: the map is nearly flat
    evidence_exponent: float = 0.1
    #: a pattern of the graph counts as evidence (above any names-only guess) from this smoothed confidence
    pattern_evidence: float = 0.5

    # -- learning from verdicts (`engine.queue.verdict_model`) --
    #: the pending queue is re-ranked after this many new verdicts (and on Suggest now)
    rerank_every: int = 10
    #: verdicts needed before they re-rank anything (of one kind only, they shift the confidences as a whole)
    min_verdicts: int = 10

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "QueuePolicy":
        """The policy a version recorded; a setting it did not record (an older version) takes today's default,
        an unknown one is an error rather than silently dropped."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown queue setting {unknown[0]!r}; known ones: {', '.join(sorted(known))}")
        return cls(**data)
