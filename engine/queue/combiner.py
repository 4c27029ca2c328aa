"""One confidence from several opinions: the prompt model's p(r | h, t), the structural model's opinion, what
the text says, how well the entities fit the relation's kinds, and how connected they are.

A logistic regression (scikit-learn) learns the weights on held-out facts (positives) against candidates the
pre-filter proposed (mostly false: the negatives a queue is full of), up to `QueuePolicy.negatives_per_fact` to one, and
missing reverses of facts, each a fact only by the share of its relation's missing reverses expected to hold
(weighted both ways). Its decision is then calibrated by Platt scaling fitted on *out-of-fold* decisions
(5-fold: each decision comes from a regression that did not see the item), so the confidence is not flattened
or inflated by in-sample fit; the reported ECE and spread are cross-fitted once more (the Platt fit did not
see what it is scored on). The positives are the held-out facts the pre-filter would have proposed
(`engine.queue.opinions.in_the_pool`). With fewer than `QueuePolicy.min_facts` held-out facts there is nothing honest to fit
on: no combiner, and the caller keeps the text model's opinion and says so.

What a confidence of 0.8 means here: among candidates like this one, facts like the held-out ones are 80 %
when facts and candidates are weighed one to `QueuePolicy.negatives_per_fact`. Curators' verdicts will be the better
yardstick once there are enough of them.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Iterable, Optional, Sequence

import numpy as np

from engine.calibration import reliability
from engine.queue.cardinality import Cardinalities, SecondValue
from engine.queue.direction import reverse_holds
from engine.queue.patterns import Patterns, Rule
from engine.queue.policy import QueuePolicy

Triple = tuple[str, str, str]
FEATURES = ("text", "graph", "sentence", "says", "sentences", "fit", "head_degree", "tail_degree",
            "head_has_relation", "tail_has_relation", "reverse_holds", "pattern", "second_value")
GRAPH = FEATURES.index("graph")


@dataclass
class Opinions:
    """What is known about one candidate triple before it is judged."""

    text: float  # the prompt model's p(r | h, t) from the entities' names and descriptions
    graph: float  # the structural model's opinion (0..1), NaN where it does not know the triple's entities
    sentence: float = 0.0  # the best p(r) of a sentence mentioning both (0: none)
    #: how likely a sentence says this triple rather than anything else it could say (`TextSupport.sentence_share`)
    sentence_share: float = 0.0
    sentences: int = 0  # sentences that state it (one that names an entity twice counts once)
    leading: int = 0  # sentences whose likeliest statement it is
    fit: float = 1.0  # how well head and tail fit the relation's kinds (types or learned roles), 0..1
    #: the best rule of the graph's patterns whose path links head to tail (`engine.queue.patterns`), or None
    pattern: Optional[Rule] = None
    #: why it would be a second value of a one-valued side (`engine.queue.cardinality`), or None for a first value
    second: Optional[SecondValue] = None
    #: why it would be a second link of a pair the KG already links (`Cardinalities.second_link`), or None: a
    #: prior before calibration only, never a combiner feature (on CoDEx-S, read into the `second_value`
    #: feature, it cost the fitted combiner's queue recall 0.066 -> 0.056 and P@500 0.202 -> 0.180)
    link: Optional[SecondValue] = None

    @property
    def pattern_confidence(self) -> float:
        return self.pattern.confidence if self.pattern is not None else 0.0

    @property
    def second_chance(self) -> float:
        """What the relation's cardinality leaves of it: 1 for a first value (the combiner's feature)."""
        return self.second.chance() if self.second is not None else 1.0

    @property
    def reason(self) -> Optional[SecondValue]:
        """The second value or second link that leaves it the smaller chance (what a card shows), or None."""
        return min(filter(None, (self.second, self.link)), key=lambda s: s.chance(), default=None)

    @property
    def prior_chance(self) -> float:
        """What the cardinality and the KG's pairs leave of it before calibration: 1 for a first value."""
        reason = self.reason
        return reason.chance() if reason is not None else 1.0


class GraphCounts:
    """Degrees and per-relation counts from the accepted facts: a head that already has a `capital_of`
    tail is less likely to get another. And whether the reverse of a candidate is a fact, weighed by the share
    of its relation's missing reverses expected to hold (`engine.queue.direction.reverse_holds`): in a relation that
    always holds both ways a fact without its reverse is the likeliest missing fact there is (WN18RR hides
    2,014 such), in one that never does it says nothing. `marked`: relations a curator marked symmetric;
    `one_valued`: per side ("tail", "head"), the relations a curator marked one-valued there. Its cardinalities
    and patterns (mined on first use) are of the same facts."""

    def __init__(self, facts: Iterable[Triple], marked: Iterable[str] = (), policy: QueuePolicy = QueuePolicy(),
                 one_valued: Optional[dict[str, set[str]]] = None) -> None:
        self.degree: Counter = Counter()
        self.as_head: Counter = Counter()
        self.as_tail: Counter = Counter()
        self.facts: set[Triple] = set()
        for h, r, t in facts:
            self.degree[h] += 1
            self.degree[t] += 1
            self.as_head[(h, r)] += 1
            self.as_tail[(t, r)] += 1
            self.facts.add((h, r, t))
        self.reverse_holds = reverse_holds(self.facts, marked, policy)
        self.policy, self.one_valued = policy, one_valued or {}

    @cached_property
    def cardinalities(self) -> Cardinalities:
        return Cardinalities(self.facts, self.policy, self.one_valued)

    @cached_property
    def patterns(self) -> Patterns:
        return Patterns(self.facts, self.policy)

    def reverse(self, triple: Triple) -> float:
        """Where the triple is the missing reverse of a fact, the share of its relation's missing reverses
        expected to hold; else 0."""
        h, r, t = triple
        return self.reverse_holds.get(r, 0.0) if (t, r, h) in self.facts else 0.0

    def row(self, triple: Triple, opinions: Opinions) -> list[float]:
        """The features of FEATURES' order; the graph opinion stays NaN where the structural model does not
        know an entity (the combiner fills it)."""
        h, r, t = triple
        reverse = self.reverse(triple)
        return [_logit(opinions.text), opinions.graph, opinions.sentence, opinions.sentence_share,
                math.log1p(opinions.sentences), opinions.fit, math.log1p(self.degree[h]), math.log1p(self.degree[t]),
                math.log1p(self.as_head[(h, r)]), math.log1p(self.as_tail[(t, r)]), reverse,
                opinions.pattern_confidence, math.log(opinions.second_chance + 1e-3)]


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _filled(rows, graph_fill: float) -> np.ndarray:
    rows = np.array(rows, dtype=float).reshape(-1, len(FEATURES))
    rows[np.isnan(rows[:, GRAPH]), GRAPH] = graph_fill
    return rows


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class CombinerReport:
    """How the combiner was fitted and how well its out-of-fold confidence separates facts from candidates."""

    fitted: bool
    facts: int
    negatives: int
    reason: str = ""
    auc: Optional[float] = None  # out of fold
    ece: Optional[float] = None  # out of fold, after calibration
    #: share of the out-of-fold confidences above 0.8 and below 0.2 (a flattened calibration has neither)
    above_08: Optional[float] = None
    below_02: Optional[float] = None
    weights: dict[str, float] = field(default_factory=dict)
    #: held-out facts whose two entities a stored sentence mentions together; under `min_facts_in_text` the combiner has
    #: not seen what a sentence stating a fact looks like, so it does not judge what the text states
    facts_in_text: int = 0
    reads_text: bool = True
    #: how many held-out facts in the text the caller asks for before the combiner reads it
    min_facts_in_text: Optional[int] = None
    #: missing reverses fitted on as facts by the share of them expected to hold
    missing_reverses: int = 0
    #: held-out facts the pre-filter would have proposed (the positives where at least `min_facts`, else all)
    facts_in_pool: Optional[int] = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Combiner:
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    slope: float  # Platt scaling of the decision
    offset: float
    #: the graph opinion of an entity the structural model does not know (added after training): the median
    #: of the candidates it was fitted on, so such a triple is judged as a typical candidate, not a likely fact
    graph_fill: float = 0.5
    #: whether it judges the triples the text states (fitted with enough facts found in the text), or leaves
    #: them what their sentences say (the text model's own opinion)
    reads_text: bool = True

    def decision(self, rows: np.ndarray) -> np.ndarray:
        rows = _filled(rows, self.graph_fill)
        z = (rows - np.array(self.mean)) / np.array(self.scale)
        return z @ np.array(self.coef) + self.intercept

    def probability(self, rows: np.ndarray) -> np.ndarray:
        if len(rows) == 0:
            return np.empty(0)
        return _sigmoid(self.slope * self.decision(rows) + self.offset)

    def as_dict(self) -> dict:
        return {**asdict(self), "features": list(FEATURES)}

    @classmethod
    def from_dict(cls, data: dict) -> Optional["Combiner"]:
        """None where the stored combiner used other features (a checkpoint from an older version)."""
        if data.get("features") != list(FEATURES):
            return None
        return cls(**{k: v for k, v in data.items() if k != "features"})


def fit_combiner(positives: Sequence[Sequence[float]], negatives: Sequence[Sequence[float]], seed: int = 0,
                 uncertain: Sequence[Sequence[float]] = (), holds: Sequence[float] = (),
                 policy: QueuePolicy = QueuePolicy()) -> tuple[Optional[Combiner], CombinerReport]:
    """The combiner, or None (with the reason) where the facts are too few to fit and calibrate it.

    `uncertain` rows are candidates whose truth is only known as a probability (`holds`: a relation's missing
    reverses, `engine.queue.direction.reverse_holds`): each counts as a fact with weight p and as a non-fact with
    weight 1 − p, so the combiner learns what a missing reverse is worth from how often such reverses hold,
    not from the held-out facts alone (which are all true: a combiner that saw no false missing reverse put
    WN18RR's `also_see` reverses, 12 % true, at 1.0). The reported AUC, ECE and spread are of the facts and
    candidates only."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n_pos, n_neg = len(positives), len(negatives)
    if n_pos < policy.min_facts or n_neg < policy.min_facts:
        return None, CombinerReport(False, n_pos, n_neg, reason=(
            f"{n_pos} held-out facts and {n_neg} candidates: too few to fit and calibrate a combiner (needs "
            f"{policy.min_facts} of each), so the confidence is not calibrated: it is what the evidence is worth "
            "on its own (what a sentence says, how often a pattern of the graph holds, how often a missing reverse "
            f"does), a guess from the entities' names alone at most {policy.names_only_ceiling:g} of its "
            f"probability, never above {policy.uncalibrated_ceiling:g} until curators' verdicts recalibrate it, and "
            "a second value of a relation whose entities mostly have one is worth only the share of those that have "
            "several"))
    negative_graph = np.array([row[GRAPH] for row in negatives], dtype=float)
    known = negative_graph[~np.isnan(negative_graph)]
    graph_fill = float(np.median(known)) if len(known) else 0.5
    hard, n_soft = n_pos + n_neg, len(uncertain)
    rows = _filled(list(positives) + list(negatives) + list(uncertain) * 2, graph_fill)
    gold = np.array([1] * n_pos + [0] * n_neg + [1] * n_soft + [0] * n_soft)
    p = np.clip(np.array(holds, dtype=float), 0.0, 1.0)
    weights = np.concatenate([np.ones(hard), p, 1.0 - p])
    # both copies of an uncertain row in one fold: a regression never predicts the copy of a row it saw
    groups = np.concatenate([np.arange(hard), hard + np.arange(n_soft), hard + np.arange(n_soft)])
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    folds = StratifiedGroupKFold(n_splits=min(policy.combiner_folds, n_pos), shuffle=True, random_state=seed)
    out_of_fold = cross_val_predict(pipeline, rows, gold, groups=groups, cv=folds, method="decision_function",
                                    params={"logisticregression__sample_weight": weights}).reshape(-1, 1)
    platt = LogisticRegression(C=1e4, max_iter=1000)
    # the calibration measured on decisions its own Platt fit did not see either
    calibrated = cross_val_predict(platt, out_of_fold, gold, groups=groups, cv=folds, method="predict_proba",
                                   params={"sample_weight": weights})[:hard, 1]
    platt.fit(out_of_fold, gold, sample_weight=weights)
    slope, offset = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    pipeline.fit(rows, gold, logisticregression__sample_weight=weights)
    scaler, regression = pipeline.named_steps["standardscaler"], pipeline.named_steps["logisticregression"]
    combiner = Combiner(scaler.mean_.tolist(), [s or 1.0 for s in scaler.scale_.tolist()],
                        regression.coef_[0].tolist(), float(regression.intercept_[0]), slope, offset, graph_fill)
    truth = gold[:hard]
    report = CombinerReport(True, n_pos, n_neg, auc=round(float(roc_auc_score(truth, out_of_fold[:hard, 0])), 4),
                            ece=round(reliability(calibrated, truth).ece, 4),
                            above_08=round(float((calibrated > 0.8).mean()), 4),
                            below_02=round(float((calibrated < 0.2).mean()), 4),
                            weights={name: round(w, 4) for name, w in zip(FEATURES, combiner.coef)},
                            missing_reverses=n_soft)
    return combiner, report
