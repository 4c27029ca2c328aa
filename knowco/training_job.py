"""A retrain from start to end: read the labels, train the prompt model, measure it on held-out labels, save
the checkpoint, make it active and fill the suggestion queue. Runs in the worker process (or in the
foreground for `python -m knowco train`); everything it reports goes through the `model_version` row.
"""
from __future__ import annotations

import os
import random
import time
from typing import Callable

from engine import joint
from engine.checkpoint import save_checkpoint
from engine.config import TrainConfig
from engine.direction import symmetric_relations
from engine.training import TrainingCancelled
from engine.types import EntityText, RelationSpec, SentenceExample, TripleExample
from storage.database import Database
from storage.labels import TrainingData, training_data
from storage.runs import Run, activate, claim, create_run, finish_run, get_run, record_checkpoint, report_progress, set_examples, update_message

from knowco.model_store import model_dir
from knowco.options import TrainOptions
from knowco.suggest import suggest

CURVE_POINTS = 300
REPORT_EVERY_S = 0.5


class NothingToTrain(ValueError):
    """No labels at all: say what to label first."""


class DatabaseCancelFlag:
    """Cancellation as the engine wants it (`is_set()`), read from the run's row at most twice a second."""

    def __init__(self, database: Database, run_id: int) -> None:
        self.database, self.run_id, self.value = database, run_id, False

    def is_set(self) -> bool:
        return self.value


class ProgressReporter:
    """Progress and the loss curve into the row, throttled; picks up a cancel request on the way."""

    def __init__(self, database: Database, run_id: int, flag: DatabaseCancelFlag, share: float) -> None:
        self.database, self.run_id, self.flag, self.share = database, run_id, flag, share
        self.curve: list[list[float]] = []
        self.last = 0.0

    def __call__(self, step: int, total: int, loss: float) -> None:
        if not self.curve or step - self.curve[-1][0] >= max(1, total // CURVE_POINTS):
            self.curve.append([step, round(loss, 5)])
        now = time.monotonic()
        if now - self.last >= REPORT_EVERY_S or step >= total:
            self.last = now
            self.flag.value = report_progress(self.database, self.run_id, self.share * step / max(1, total),
                                              f"training: step {step} of {total}, loss {loss:.4f}", self.curve)


def _labels(data: TrainingData) -> tuple[list[TripleExample], list[SentenceExample]]:
    triples = [TripleExample(h, r, t, holds) for _, h, r, t, holds in data.triples]
    sentences = [SentenceExample(tuple(tokens), head, tail, relation) for _, tokens, head, tail, relation
                 in data.sentences]
    return triples, sentences


def _facts_as_labels(data: TrainingData, options: TrainOptions, labelled: set[tuple[str, str, str]]
                     ) -> list[TripleExample]:
    rng = random.Random(options.seed)
    by_relation: dict[str, list] = {}
    for fact in data.facts:
        if fact not in labelled:
            by_relation.setdefault(fact[1], []).append(fact)
    chosen = []
    for relation in sorted(by_relation):
        facts = by_relation[relation]
        chosen += rng.sample(facts, min(options.facts_per_relation, len(facts)))
    return [TripleExample(*fact) for fact in chosen]


def train_config(options: TrainOptions) -> TrainConfig:
    return TrainConfig(backbone=options.backbone, seed=options.seed, stage1_epochs=options.stage1_epochs,
                       stage2_epochs=options.stage2_epochs, stage2_lr=options.learning_rate,
                       entity_loss=options.entity_loss, two_stage=options.two_stage and options.stage1_epochs > 0)


def run_training(database: Database, run_id: int,
                 log: Callable[[str], None] = lambda message: None) -> None:
    """Do the claimed run `run_id`; its row ends succeeded, failed (with the reason) or cancelled."""
    run = get_run(database, run_id)
    options = TrainOptions.from_dict(run.hyperparameters)
    flag = DatabaseCancelFlag(database, run_id)
    try:
        options.check()
        data = training_data(database)
        triples, sentences = _labels(data)
        if not triples and not sentences:
            raise NothingToTrain("there are no labels yet: label a few triples or sentences on the Label page")
        set_examples(database, run_id, len(triples) + len(sentences))
        entities = {name: EntityText(name, e.label, e.description) for name, e in data.entities.items()}
        relations = [RelationSpec(r.name, r.label) for r in data.relations]
        train_set, held_out = joint.split_held_out(triples, sentences, options.held_out_share, options.seed)
        labelled = {(x.head, x.relation, x.tail) for x in triples}
        train_set.triples += _facts_as_labels(data, options, labelled)
        known = {(h, t) for h, _, t in data.facts} | {(x.head, x.tail) for x in triples}
        config = train_config(options)
        symmetric = symmetric_relations(data.facts)
        train_set = joint.with_reversals(train_set, symmetric, known)
        held_out = joint.with_reversals(held_out, symmetric, known)
        train_set = joint.with_negatives(train_set, entities, config.negative_ratio, known, options.seed)
        held_out = joint.with_negatives(held_out, entities, 1, known, options.seed + 1)
        log(f"run {run.name}: {len(train_set)} training items, {len(held_out)} held out")
        update_message(database, run_id, f"loading {options.backbone}")
        model = joint.build(relations, config)
        reporter = ProgressReporter(database, run_id, flag, 0.8 if options.suggest_after else 0.95)
        result = joint.fit(model, entities, train_set, config, progress=reporter, cancel=flag)
        update_message(database, run_id, "measuring and calibrating on held-out labels")
        metrics = {**joint.evaluate(model, entities, held_out), "train_items": len(train_set),
                   "train_seconds": round(result.seconds, 1), "best_stage": result.best_stage,
                   "curve": reporter.curve}
        path = save_checkpoint(model, model_dir(database.url) / run.name,
                               {k: v for k, v in metrics.items() if k != "curve" and not k.startswith("reliability")})
        record_checkpoint(database, run_id, str(path), metrics)
        activate(database, run_id, run.created_by)
        if options.suggest_after:
            update_message(database, run_id, "suggesting missing triples")
            def scoring(done: int, total: int) -> None:
                share = reporter.share
                flag.value = report_progress(database, run_id, share + (0.99 - share) * done / max(1, total),
                                             f"suggesting: scored {done} of {total} candidate pairs")

            report = suggest(database, run.created_by, per_relation=options.suggestions_per_relation,
                             max_pairs=options.max_pairs_per_relation, model=model, cancel=flag, progress=scoring)
            metrics["suggestions"] = report.as_dict()
        finish_run(database, run_id, "succeeded", _summary(metrics), metrics=metrics)
    except TrainingCancelled:
        finish_run(database, run_id, "cancelled", "cancelled by the curator")
    except (NothingToTrain, ValueError) as exc:
        finish_run(database, run_id, "failed", str(exc))
    except Exception as exc:
        finish_run(database, run_id, "failed", f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
        raise


def train_in_foreground(database: Database, options: TrainOptions, user: str) -> Run:
    """`python -m knowco train`: the same run as the app's, in this process, with its row and audit event."""
    options.check()
    run = create_run(database, backbone=options.backbone, hyperparameters=options.as_dict(), seed=options.seed,
                     user=user)
    claim(database, run.id, os.getpid())
    run_training(database, run.id, print)
    return get_run(database, run.id)


def _summary(metrics: dict) -> str:
    parts = []
    if "accuracy" in metrics:
        parts.append(f"held-out accuracy {metrics['accuracy']:.2f} on {metrics['held_out']} labels")
    if "suggestions" in metrics:
        parts.append(f"{metrics['suggestions']['new']} new suggestions")
    return "done: " + ", ".join(parts) if parts else "done"
