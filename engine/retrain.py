"""A retrain's text model from what the KG holds: the one path the worker and the benchmarks' "app" method take
(`split` then `train_model`), so a benchmark figure is the model a curator gets.

What it decides beyond the model's configuration:
- which facts and labels are kept out to measure on (facts are also the combiner's positives);
- how the head is chosen (engine.heads): on held-out facts where a KG has enough of them (or on a held-out share
  of the labels where they are more than `cv_max_labels`); else, with `cv_min_labels` to `cv_max_labels`
  labels, by k-fold cross-validation over them, since 8 labels per relation are too few for one hold-out split
  (the final model then learns from every label, and the quality estimate and the calibration come from the
  folds' out-of-fold predictions); with fewer labels, all of them train and the held-out facts choose, or, where
  those are too few too, two folds of the labels do (`fold_count`).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import torch

from engine import joint
from engine.classifier import PromptClassifier
from engine.config import AUTO, PROMPT, RetrainPlan, TrainConfig
from engine.heads import HeadChoice, choose_head, choose_no_relation_shift, combine, shifted
from engine.training import CancelFlag, ProgressCallback, TrainResult
from engine.types import NO_RELATION, EntityText, RelationSpec, SentenceExample, TripleExample

#: with at least this many held-out facts the head is chosen on them (one training); with fewer, by
#: cross-validation over the labels
MIN_FACTS_TO_CHOOSE = 50
#: fewer items than this (positives and negatives together) choose nothing: the average is kept
MIN_ITEMS_TO_CHOOSE = 20

Stating = Callable[[list[TripleExample], set[frozenset[str]], int], list[SentenceExample]]


@dataclass
class RetrainInput:
    """Everything a retrain learns from, before any split: what the worker reads from the database and a
    benchmark from its files."""

    relations: list[RelationSpec]
    entities: dict[str, EntityText]
    #: the curator's labels
    triples: list[TripleExample] = field(default_factory=list)
    sentences: list[SentenceExample] = field(default_factory=list)
    #: accepted facts that are not labels
    facts: list[TripleExample] = field(default_factory=list)
    symmetric: set[str] = field(default_factory=set)
    #: entity pairs known to hold some relation: never drawn as a negative
    known: set[tuple[str, str]] = field(default_factory=set)
    types: dict[str, Optional[str]] = field(default_factory=dict)
    #: the corpus sentences that mention a fact's two entities (engine.distant), pairs in the set left out
    stating: Optional[Stating] = None


@dataclass
class Split:
    """The training set and what is measured on, negatives added; `folds` (train, held out) when the head
    is chosen by cross-validation."""

    train: joint.LabelledSet
    held_out: joint.LabelledSet
    #: what the estimate rests on: "labels", "facts", "labels and facts", "cross-validation" or "none"
    source: str
    held_facts: list[TripleExample]
    kept_facts: list[TripleExample]
    folds: list[tuple[joint.LabelledSet, joint.LabelledSet]] = field(default_factory=list)
    labels: int = 0


@dataclass
class Retrained:
    model: PromptClassifier
    result: TrainResult
    report: Optional[joint.HeldOutReport]
    head: HeadChoice


def _materialise(data: RetrainInput, config: TrainConfig, train: joint.LabelledSet, held: joint.LabelledSet
                 ) -> tuple[joint.LabelledSet, joint.LabelledSet]:
    """Reversed triples and sentences and type-aware corrupted triples as negatives, for training and measuring."""
    train = joint.with_reversals(train, data.symmetric, data.known)
    held = joint.with_reversals(held, data.symmetric, data.known)
    return (joint.with_negatives(train, data.entities, config.negative_ratio, data.known, config.seed, data.types),
            joint.with_negatives(held, data.entities, 1, data.known, config.seed + 1, data.types))


def _folds(triples: list[TripleExample], sentences: list[SentenceExample], k: int, seed: int
           ) -> list[joint.LabelledSet]:
    """Every label in one of k folds, each relation (and each kind of label) spread over the folds evenly."""
    rng = random.Random(seed)
    folds = [joint.LabelledSet() for _ in range(k)]
    offset = 0
    for kind, items in joint.label_groups(triples, sentences):
        items = list(items)
        rng.shuffle(items)
        for j, item in enumerate(items):
            fold = folds[(offset + j) % k]
            (fold.triples if kind == "triple" else fold.sentences).append(item)
        offset += len(items)
    return folds


def _pairs(labels: joint.LabelledSet) -> set[frozenset[str]]:
    return {frozenset((x.head, x.tail)) for x in labels.triples}


def _with_kg(data: RetrainInput, plan: RetrainPlan, seed: int, labels: joint.LabelledSet,
             facts: list[TripleExample], held_pairs: set[frozenset[str]]) -> joint.LabelledSet:
    """The labels with the KG's facts and their sentences beside them, held-out pairs left out in either
    direction and under any relation (a symmetric or inverse relation would give them away)."""
    pool = [f for f in facts if frozenset((f.head, f.tail)) not in held_pairs] if plan.kg_items_per_epoch else []
    sentences = []
    if plan.corpus_sentences_per_epoch and data.stating is not None:
        # a labelled sentence trains (or, held out, measures) as labelled, whatever mentions are found in it
        labelled = {x.tokens for x in data.sentences}
        sentences = [x for x in data.stating(facts, held_pairs, seed) if x.tokens not in labelled]
    return joint.LabelledSet(labels.triples, labels.sentences, pool, sentences)


def split(data: RetrainInput, config: TrainConfig, plan: RetrainPlan) -> Split:
    """Hold out facts (kept out of every model) and either a share of the labels or, where the facts are too
    few to choose a head on and the labels no more than `cv_max_labels`, make the cross-validation folds of the
    labels (`fold_count`). Where the facts are too few and the labels fewer than `cv_min_labels`, every label
    trains the final model (too few to spare)."""
    facts, held_facts = joint.hold_out_facts(data.facts, plan.held_out_share, plan.held_out_facts, config.seed)
    labels = len(data.triples) + len(data.sentences)
    few_facts = len(held_facts) < MIN_FACTS_TO_CHOOSE
    folds = fold_count(plan, labels, len(held_facts))
    cross = config.head == AUTO and few_facts and folds >= 2 and labels <= plan.cv_max_labels
    if cross or (few_facts and labels < plan.cv_min_labels):
        train_labels, held_labels = joint.LabelledSet(list(data.triples), list(data.sentences)), joint.LabelledSet()
    else:
        train_labels, held_labels = joint.split_held_out(data.triples, data.sentences, plan.held_out_share,
                                                         config.seed)
    held_out = joint.LabelledSet(held_labels.triples + held_facts, held_labels.sentences)
    held_pairs = _pairs(held_out)
    train = _with_kg(data, plan, config.seed, train_labels, facts, held_pairs)
    train, held = _materialise(data, config, train, held_out)
    folds = _cross_validation_folds(data, config, plan, facts, held_pairs, folds) if cross else []
    source = ("cross-validation" if cross else
              " and ".join(name for name, n in (("labels", len(held_labels)), ("facts", len(held_facts))) if n)
              or "none")
    return Split(train, held, source, held_facts, facts, folds, labels)


def fold_count(plan: RetrainPlan, labels: int, held_facts: int) -> int:
    """The folds that choose the head and the "no relation" shift (0: none): `cv_folds` from `cv_min_labels`
    labels; under it `cv_small_folds` where the held-out facts are too few to choose on, since a choice made on
    nothing kept the average and no shift, whatever the curator's data said. `cv_folds` under 2 turns all
    cross-validation off."""
    if plan.cv_folds < 2:
        return 0
    if labels >= plan.cv_min_labels:
        return plan.cv_folds if labels >= 2 * plan.cv_folds else 0
    if held_facts < MIN_ITEMS_TO_CHOOSE and labels >= max(2 * plan.cv_small_folds, MIN_ITEMS_TO_CHOOSE):
        return plan.cv_small_folds
    return 0


def _cross_validation_folds(data: RetrainInput, config: TrainConfig, plan: RetrainPlan, facts: list,
                            held_pairs: set, count: int) -> list:
    """Each fold's (training set, held-out part): the labels of the other parts with the KG's items."""
    parts = _folds(data.triples, data.sentences, count, config.seed)
    folds = []
    for i, part in enumerate(parts):
        rest = joint.LabelledSet([x for j, p in enumerate(parts) if j != i for x in p.triples],
                                 [x for j, p in enumerate(parts) if j != i for x in p.sentences])
        fold_train = _with_kg(data, plan, config.seed, rest, facts, held_pairs | _pairs(part))
        folds.append(_materialise(data, config, fold_train, part))
    return folds


def _held_logits(model: PromptClassifier, entities: dict[str, EntityText], held: joint.LabelledSet
                 ) -> tuple[torch.Tensor, Optional[torch.Tensor], list[int]]:
    """(prompt logits, classifier logits or None where the model has no classifier head, gold labels)."""
    items = joint.measured_items(model, entities, held)
    width = len(model.classes)
    if not items:
        return torch.empty(0, width), None if model.module.classifier is None else torch.empty(0, width), []
    encoded = [x for x, _ in items]
    gold = [label for _, label in items]
    if model.module.classifier is None:
        return model.logits_for(encoded), None, gold
    prompt, classifier = model.head_logits(encoded)
    return prompt, classifier, gold


def planned_steps(labels: joint.LabelledSet, config: TrainConfig, plan: RetrainPlan) -> int:
    """The optimisation steps one training on `labels` takes at most (engine.training's count)."""
    per_epoch = (len(labels.triples) + len(labels.sentences) + min(plan.kg_items_per_epoch, len(labels.pool))
                 + min(plan.corpus_sentences_per_epoch, len(labels.fact_sentences)))
    epochs = config.stage2_epochs + (config.stage1_epochs if config.two_stage else 0)
    return epochs * -(-per_epoch // config.batch_size)


def _shifted(progress: Optional[ProgressCallback], before: int, everything: int) -> Optional[ProgressCallback]:
    """One training's progress as part of all the run's trainings (the folds', then the final one): `before`
    steps done by the earlier ones, `everything` in all, so the bar and its estimate never jump back."""
    if progress is None:
        return None
    return lambda step, total, loss: progress(before + step, max(everything, before + total), loss)


def train_model(data: RetrainInput, prepared: Split, config: TrainConfig, plan: RetrainPlan, *,
                progress: Optional[ProgressCallback] = None, cancel: Optional[CancelFlag] = None,
                stage: Callable[[str], None] = lambda message: None) -> Retrained:
    """Train on the split (after each fold's model, where it has folds), choose the head, measure and calibrate
    on what was held out (the folds' predictions, or the held-out items)."""
    fit = dict(pool_per_epoch=plan.kg_items_per_epoch, sentences_per_epoch=plan.corpus_sentences_per_epoch,
               cancel=cancel)
    steps = [planned_steps(fold_train, config, plan) for fold_train, _ in prepared.folds]
    everything, done = sum(steps) + planned_steps(prepared.train, config, plan), 0
    out_of_fold = []
    for i, (fold_train, fold_held) in enumerate(prepared.folds):
        stage(f"trying the ways of answering on part of your labels: round {i + 1} of {len(prepared.folds)}")
        model = joint.build(data.relations, config)
        joint.fit(model, data.entities, fold_train, config, progress=_shifted(progress, done, everything), **fit)
        out_of_fold.append(_held_logits(model, data.entities, fold_held))
        done += steps[i]
    if prepared.folds:
        stage(f"training on all {prepared.labels} labels")
    model = joint.build(data.relations, config)
    result = joint.fit(model, data.entities, prepared.train, config, progress=_shifted(progress, done, everything),
                       **fit)
    if out_of_fold:
        prompt = torch.cat([p for p, _, _ in out_of_fold])
        classifier = torch.cat([c for _, c, _ in out_of_fold]) if out_of_fold[0][1] is not None else None
        gold = [g for _, _, fold_gold in out_of_fold for g in fold_gold]
        basis = f"{len(prepared.folds)}-fold cross-validation over {prepared.labels} labels"
    else:
        prompt, classifier, gold = _held_logits(model, data.entities, prepared.held_out)
        basis = f"{len(gold)} held-out items"
    head = _choose(model, config, prompt, classifier, gold, basis)
    model.head = head.chosen
    logits = combine(prompt, classifier, head.chosen)
    none = model.index.get(NO_RELATION)
    if config.head == AUTO and none is not None and len(gold) >= MIN_ITEMS_TO_CHOOSE:
        head.no_relation_shift, head.shift_scores = choose_no_relation_shift(logits.numpy(), gold, none)
        model.module.no_relation_shift = head.no_relation_shift
        logits = shifted(logits, none, head.no_relation_shift)
    report = joint.report(model, logits.numpy(), np.array(gold)) if gold else None
    return Retrained(model, result, report, head)


def _choose(model: PromptClassifier, config: TrainConfig, prompt: torch.Tensor, classifier: Optional[torch.Tensor],
            gold: list[int], basis: str) -> HeadChoice:
    """The head the options fix, or the data's choice; the average where too few items were held out."""
    if classifier is None:
        return HeadChoice(PROMPT, basis="the prompt is the only head", by_data=False)
    if not gold:
        return HeadChoice(model.head, basis="nothing was held out to measure the heads on", by_data=False)
    ignore = [model.index[NO_RELATION]] if NO_RELATION in model.index else []
    measured = choose_head(prompt.numpy(), classifier.numpy(), gold, ignore, basis)
    if config.head != AUTO:
        measured.chosen, measured.basis, measured.by_data = config.head, f"set in the options ({basis})", False
    elif len(gold) < MIN_ITEMS_TO_CHOOSE:
        measured.chosen, measured.by_data = model.head, False
        measured.basis = f"only {len(gold)} items to choose on (at least {MIN_ITEMS_TO_CHOOSE}): kept the {model.head}"
    return measured
