"""A retrain from start to end: read the labels and facts, train the structural model and the prompt model,
measure on held-out labels (or facts), fit the combiner of their opinions on held-out facts, save the
checkpoint, make it active and fill the suggestion queue. Runs in the worker process (or in the
foreground for `python -m knowco train`); everything it reports goes through the `model_version` row.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from typing import Callable, Optional

from sqlalchemy.orm import Session

from engine import retrain
from engine.backbones import BackboneError, set_cpu_threads
from engine.checkpoint import save_checkpoint
from engine.distant import fact_sentences
from engine.mention_index import MentionIndex
from engine.queue.policy import QueuePolicy
from engine.queue.structural import StructuralModel
from engine.label_words import LabelWordError
from engine.structure import PykeenModel, StructureCancelled, StructureConfig, train_structure
from engine.training import TrainingCancelled
from engine.types import EntityText, RelationSpec, SentenceExample, TripleExample
from engine.verbalizer import label_words
from storage.database import Database
from storage.corpus import all_sentences
from storage.labels import TrainingData, entity_surfaces, training_data
from storage.runs import (Run, activate, active_run, claim, finish_run, get_run, list_runs, record_checkpoint,
                          report_progress, set_examples, update_message)
from storage.text_split import tokenize

from knowco.access import Actor
from knowco.errors import CURATOR_ERRORS, CuratorError, JobError, report_internal
from knowco.jobs import queue_run
from knowco.metrics import RunMetrics
from knowco.model_store import checkpoint_folder, model_dir
from knowco.options import TrainOptions
from knowco.relearning import after_verdict
from knowco.settings import settings
from knowco.suggest import Planning, SuggestionPlan, plan_suggestions, symmetric_of, write_suggestions

CURVE_POINTS = 300
#: a KG with fewer facts (after holding some out) gets no structural model: too little graph to learn from
MIN_STRUCTURE_FACTS = 10
#: the bar's share for the structural model, whose length next to the rest is unknown while it trains
STRUCTURE_SHARE = 0.05
#: where the first retrain has no suggest stage of an earlier one to go by: its guess, as a share of the training
SUGGEST_GUESS = 0.1
#: the shares of the text model's steps at which the estimate of the time left is kept with the run, so that a
#: benchmark can say how far it was from the truth
ESTIMATE_CHECKS = (0.1, 0.25, 0.5)
REPORT_EVERY_S = 0.5
#: the window of the recent pace the time-left estimate also reads
RECENT_S = 10.0
LOG_EVERY_S = 5.0


class NothingToTrain(CuratorError):
    """No labels at all: say what to label first."""


class DatabaseCancelFlag:
    """Cancellation as the engine wants it (`is_set()`), read from the run's row at most twice a second."""

    def __init__(self, database: Database, run_id: int) -> None:
        self.database, self.run_id, self.value = database, run_id, False

    def is_set(self) -> bool:
        return self.value


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


class ProgressReporter:
    """Progress, elapsed time, an estimate of the rest and the loss curve into the row (which the Train page
    shows), throttled, and every few seconds to `log` (the command line); picks up a cancel request.

    The bar and the estimate are the whole run's, not the current stage's: the time left is the text model's
    remaining steps at the pace of the steps so far (timed from the first step, so loading the model does not
    count as training) plus the suggest stage, guessed from the last retrain's; the bar is the share of the run's
    time gone by (a curator read 26 % at step 167 of 1,600 as a broken bar)."""

    def __init__(self, database: Database, run_id: int, flag: DatabaseCancelFlag, run_started: float,
                 suggest_seconds: Optional[float], log: Callable[[str], None]) -> None:
        self.database, self.run_id, self.flag, self.log = database, run_id, flag, log
        self.run_started, self.suggest_seconds = run_started, suggest_seconds
        self.curve: list[list[float]] = []
        #: what the steps belong to (a cross-validation fold, the final model)
        self.doing = "training"
        self.started = time.monotonic()
        self.last = self.last_logged = 0.0
        self.first_step: Optional[tuple[float, int]] = None
        #: (time, step) of the last RECENT_S seconds' reports
        self.recent: deque = deque()
        #: the bar never moves back
        self.shown = STRUCTURE_SHARE
        #: [share of the steps, seconds since the run started, estimated seconds left] at ESTIMATE_CHECKS
        self.estimates: list[list[float]] = []

    def left(self, step: int, total: int, now: float) -> Optional[float]:
        """Seconds left in the whole run, once enough steps are timed to say: at the slower of the pace since
        the first step and the pace of the last RECENT_S seconds (the second stage's steps, which train every
        weight, and a machine that got busy are slower than the first steps were)."""
        if self.first_step is None:
            self.first_step = (now, step)
            self.recent.append((now, step))
            return None
        since, first = self.first_step
        self.recent.append((now, step))
        while len(self.recent) > 2 and now - self.recent[1][0] >= RECENT_S:
            self.recent.popleft()
        if step - first < 3 or now - since < 1.0:
            return None
        pace = (now - since) / (step - first)
        then, earlier = self.recent[0]
        if step - earlier >= 3 and now - then >= RECENT_S / 2:
            pace = max(pace, (now - then) / (step - earlier))
        suggest = self.suggest_seconds if self.suggest_seconds is not None else SUGGEST_GUESS * pace * total
        return pace * (total - step) + suggest

    def message(self, step: int, total: int, left: Optional[float]) -> str:
        elapsed = time.monotonic() - self.run_started
        estimate = f", about {_duration(left)} left" if left is not None and step < total else ""
        return f"{self.doing}: step {step:,} of {total:,}, {_duration(elapsed)} elapsed{estimate}"

    def _keep_estimate(self, step: int, total: int, now: float, left: float) -> None:
        passed = [share for share in ESTIMATE_CHECKS if step >= share * total]
        if len(passed) > len(self.estimates):
            self.estimates.append([passed[-1], round(now - self.run_started, 1), round(left, 1)])

    def __call__(self, step: int, total: int, loss: float) -> None:
        if not self.curve or step - self.curve[-1][0] >= max(1, total // CURVE_POINTS):
            self.curve.append([step, round(loss, 5)])
        now = time.monotonic()
        left = self.left(step, total, now)
        if left is not None:
            self._keep_estimate(step, total, now, left)
        if now - self.last < REPORT_EVERY_S and step < total:
            return
        if left is not None:
            elapsed = now - self.run_started
            self.shown = max(self.shown, min(0.95, elapsed / (elapsed + left)))
        self.last, message = now, self.message(step, total, left)
        with self.database.transaction() as session:
            self.flag.value = report_progress(session, self.run_id, self.shown, message, self.curve)
        if now - self.last_logged >= LOG_EVERY_S or (step >= total and self.last_logged != float("inf")):
            self.last_logged = float("inf") if step >= total else now
            self.log(message)


def _labels(data: TrainingData) -> tuple[list[TripleExample], list[SentenceExample]]:
    triples = [TripleExample(h, r, t, holds) for _, h, r, t, holds in data.triples]
    sentences = [SentenceExample(tuple(tokens), head, tail, relation) for _, tokens, head, tail, relation
                 in data.sentences]
    return triples, sentences


def _write(database: Database, change: Callable[[Session], object]):
    with database.transaction() as session:
        return change(session)


@dataclass
class Prepared:
    """What a run learns from (engine.retrain's input) and how it was split."""

    data: retrain.RetrainInput
    split: retrain.Split
    #: the facts the structural model learns from, and those held out of every model (the combiner's
    #: positives; they also choose the structural model's interaction and size)
    kept_facts: list[tuple[str, str, str]]
    held_facts: list[tuple[str, str, str]]


@dataclass
class _Corpus:
    """The stored sentences and what an entity's mention looks like: where the facts' sentences are found."""

    sentences: list[tuple[int, list[str]]]
    surfaces: list[tuple[str, str]]

    @cached_property
    def index(self) -> MentionIndex:
        """Built once per run, however many folds ask."""
        return MentionIndex(self.surfaces, tokenize)

    def stating(self, facts: list[TripleExample], skip: set[frozenset[str]], seed: int) -> list[SentenceExample]:
        if not self.sentences or not facts:
            return []
        triples = [(f.head, f.relation, f.tail) for f in facts]
        return fact_sentences(self.sentences, self.index, triples, skip, seed)


def retrain_input(data: TrainingData, corpus: _Corpus, policy: QueuePolicy) -> retrain.RetrainInput:
    """The database's labels and facts as the engine's retrain takes them."""
    triples, sentences = _labels(data)
    labelled = {(x.head, x.relation, x.tail) for x in triples}
    return retrain.RetrainInput(
        relations=[RelationSpec(r.name, label_words(r.name, r.label)) for r in data.relations],
        entities={name: EntityText(name, e.label, e.description) for name, e in data.entities.items()},
        triples=triples, sentences=sentences,
        facts=[TripleExample(*fact) for fact in data.facts if fact not in labelled],
        symmetric=symmetric_of(data, policy),
        known={(h, t) for h, _, t in data.facts} | {(x.head, x.tail) for x in triples},
        types={name: e.type for name, e in data.entities.items()},
        stating=corpus.stating if corpus.sentences else None)


def _prepare(database: Database, run: Run, options: TrainOptions, log: Callable[[str], None]) -> Prepared:
    """Read the labels and every accepted fact; hold some out (or make the folds), add the negatives."""
    with database.sessions() as session:
        data = training_data(session)
        corpus = (_Corpus(all_sentences(session), entity_surfaces(session)) if options.corpus_sentences_per_epoch
                  else _Corpus([], []))
    given = retrain_input(data, corpus, options.queue)
    if not given.triples and not given.sentences and not (given.facts and options.kg_items_per_epoch):
        raise NothingToTrain("there is nothing to learn from yet: import a KG with facts, or label a few triples "
                             "or sentences on the Label page")
    _write(database, lambda s: set_examples(s, run.id, len(given.triples) + len(given.sentences)))
    split = retrain.split(given, options.engine_config(), options.retrain_plan())
    train_set = split.train
    measured = (f"{len(split.folds)}-fold cross-validation over the labels" if split.folds
                else f"{len(split.held_out)} held-out items from {split.source}")
    log(f"run {run.name}: {len(train_set.triples) + len(train_set.sentences)} labelled items and "
        f"{min(options.kg_items_per_epoch, len(train_set.pool))} of {len(train_set.pool)} facts and negatives and "
        f"{min(options.corpus_sentences_per_epoch, len(train_set.fact_sentences))} of "
        f"{len(train_set.fact_sentences)} sentences stating facts (and their reversals) per epoch; measured on "
        f"{measured}")
    held = {(x.head, x.relation, x.tail) for x in split.held_facts}
    return Prepared(given, split, [f for f in data.facts if f not in held], sorted(held))


def _finish(database: Database, run: Run, path: str, metrics: RunMetrics, plan: Optional[SuggestionPlan]) -> None:
    """One transaction: the checkpoint, the activation, the new queue and the end of the run, so a run that
    dies before it is never active and the queue always belongs to the active model. A version worse than the
    active one on the items neither trained on stays inactive, and the queue stays as it is."""
    with database.transaction() as session:
        record_checkpoint(session, run.id, path, metrics.as_dict())
        if metrics.compared.get("worse"):
            if get_run(session, run.id).status != "running":
                raise JobError(f"{run.name} was stopped before it finished (its worker was silent too long); "
                               "start a new run")
            finish_run(session, run.id, "succeeded", downgrade_words(run.name, metrics.compared),
                       metrics=metrics.as_dict())
            return
        if not activate(session, run.id, run.created_by):  # marked lost or cancelled meanwhile: roll back
            raise JobError(f"{run.name} was stopped before it finished (its worker was silent too long); start "
                           "a new run")
        if plan is not None:
            metrics = replace(metrics, suggestions=write_suggestions(session, plan, run.created_by).as_dict())
        finish_run(session, run.id, "succeeded", metrics.summary(), metrics=metrics.as_dict())


def downgrade_words(name: str, compared: dict) -> str:
    """Why a finished version stayed inactive, in the curator's words."""
    n = compared["items"]
    return (f"{name} is not active: on the {n} held-out items neither version trained on it was right "
            f"{compared['new_right']} times, {compared['version']} (still active) {compared['old_right']} times "
            f"(difference {compared['difference']:+.2f} ± {compared['standard_error']:.2f} per item); the queue "
            f"is unchanged. An admin can still make {name} active on the Train page.")


def _compare_with_active(database: Database, run: Run, prepared: "Prepared", model,
                         log: Callable[[str], None]) -> dict:
    """The new model against the active version on the held-out items neither trained on: the facts both held
    out, and the measuring negatives made from them (their reversals and corrupted copies; no label). Empty
    where there is no active version, it recorded no held-out facts (a version from before this comparison),
    or it cannot be loaded (then the new version is activated as before, and the log says why)."""
    from engine.checkpoint import load_checkpoint
    from engine.comparison import paired, right_answers

    with database.sessions() as session:
        active = active_run(session)
    if active is None or not active.checkpoint_path or active.id == run.id:
        return {}
    theirs = {tuple(f) for f in (active.metrics or {}).get("held_out_facts") or []}
    shared = {(h, r, t) for h, r, t in theirs} & {(f.head, f.relation, f.tail) for f in prepared.split.held_facts}
    if not shared:
        return {}
    items = _items_both_held_out(prepared, shared)
    entities = prepared.data.entities
    try:
        old = right_answers(load_checkpoint(checkpoint_folder(database.url, active.checkpoint_path), device="cpu"),
                          entities, items)
    except Exception as error:  # noqa: BLE001 - a missing or unreadable old checkpoint must not fail this run
        log(f"could not compare with {active.name} ({report_internal(error, 'load the active version')}); "
            "the new version is activated as before")
        return {}
    found = paired(right_answers(model, entities, items), old)
    return {**found.as_dict(), "version": active.name} if found else {}


def _items_both_held_out(prepared: "Prepared", shared: set[tuple[str, str, str]]) -> list[TripleExample]:
    """The held-out facts both versions held out, and the measuring negatives made from their entities; no
    label (a label may have been trained on by the other version)."""
    entities_of = {e for h, _, t in shared for e in (h, t)}
    labels = {(x.head, x.relation, x.tail) for x in prepared.data.triples}

    def counts(x: TripleExample) -> bool:
        if (x.head, x.relation, x.tail) in labels:
            return False
        return (x.head, x.relation, x.tail) in shared if x.holds else (x.head in entities_of or x.tail in entities_of)

    return [x for x in prepared.split.held_out.triples if counts(x)]


def _last_suggest_seconds(runs: list[Run]) -> Optional[float]:
    """How long the last retrain's suggest stage took: the estimate's guess for this one's."""
    for earlier in runs:
        seconds = (earlier.metrics or {}).get("suggestions", {}).get("seconds")
        if earlier.status == "succeeded" and seconds is not None:
            return float(seconds)
    return None


def run_training(database: Database, run_id: int,
                 log: Callable[[str], None] = lambda message: None) -> None:
    """Do the claimed run `run_id`; its row ends succeeded, failed (with the reason) or cancelled."""
    started = time.monotonic()
    with database.sessions() as session:
        run = get_run(session, run_id)
        suggest_seconds = _last_suggest_seconds(list_runs(session))
    flag = DatabaseCancelFlag(database, run_id)
    try:
        options = TrainOptions.from_dict(run.hyperparameters)
        options.check()
        prepared = _prepare(database, run, options, log)
        threads = set_cpu_threads(settings().threads)
        log(f"{threads} CPU thread{'s' if threads != 1 else ''} (the cores the machine's load leaves free, unless "
            "KNOWCO_THREADS says otherwise)")
        structure, structure_report = _structure(database, run, options, prepared, flag, log)
        _stage(database, run_id, log, f"loading the language model ({options.backbone})")
        config = options.engine_config()
        reporter = ProgressReporter(database, run_id, flag, started,
                                    suggest_seconds if options.suggest_after else 0.0, log)

        def stage(message: str) -> None:
            """A fold's training or the final one: the curve shows the training under way, not five glued."""
            reporter.doing = message
            reporter.curve.clear()
            _stage(database, run_id, log, message)

        trained = retrain.train_model(prepared.data, prepared.split, config, options.retrain_plan(),
                                      progress=reporter, cancel=flag, stage=stage)
        model, report, train_set = trained.model, trained.report, prepared.split.train
        plan = (_plan(database, run, options, model, structure, prepared, flag, log, reporter.shown)
                if options.suggest_after
                else None)
        combiner = plan.combiner if plan else None
        metrics = RunMetrics(**(asdict(report) if report else {}), held_out_source=prepared.split.source,
                             train_items=len(train_set) - len(train_set.pool) - len(train_set.fact_sentences),
                             kg_items=len(train_set.pool), fact_sentences=len(train_set.fact_sentences),
                             train_seconds=round(time.monotonic() - reporter.started, 1),
                             best_stage=trained.result.best_stage, structure=structure_report,
                             head=trained.head.as_dict(),
                             combiner=plan.combiner_report.as_dict() if plan and plan.combiner_report else {},
                             held_out_facts=[[f.head, f.relation, f.tail] for f in prepared.split.held_facts],
                             estimates=reporter.estimates)
        _stage(database, run_id, log, "checking it against the version in use, on items neither learned from")
        metrics = replace(metrics, compared=_compare_with_active(database, run, prepared, model, log))
        path = save_checkpoint(model, model_dir(database.url) / run.name, report.scores() if report else {},
                               structure=structure, combiner=combiner)
        _finish(database, run, path.name, metrics, plan)  # relative to the model store
        if plan is not None and not metrics.compared.get("worse"):
            after_verdict(database, run.created_by, force=True)  # the new queue starts from the verdicts so far
    except (TrainingCancelled, StructureCancelled):
        _end(database, run_id, "cancelled", "cancelled by the curator")
    except (*CURATOR_ERRORS, LabelWordError, BackboneError) as exc:
        _end(database, run_id, "failed", str(exc))
    except Exception as exc:
        _end(database, run_id, "failed", report_internal(exc, f"train {run.name}"))
        raise


def _structure(database: Database, run: Run, options: TrainOptions, prepared: Prepared, flag: DatabaseCancelFlag,
               log: Callable[[str], None]) -> tuple[Optional[PykeenModel], dict]:
    """The structural model on the kept facts, its interaction chosen on the held-out ones; none where the
    facts are too few or the options ask for none."""
    facts = prepared.kept_facts
    if not options.structure_interactions or len(facts) < MIN_STRUCTURE_FACTS:
        if options.structure_interactions:
            log(f"no structural model: {len(facts)} facts are too few (it needs {MIN_STRUCTURE_FACTS})")
        return None, {}
    _stage(database, run.id, log, "learning the graph's shape from your facts")
    interactions, dims, narrowed = searched(options, len(facts))
    if narrowed:
        log(narrowed)
    config = StructureConfig(interactions=interactions, dims=dims, epochs=options.structure_epochs, seed=options.seed,
                             patience=options.structure_patience)
    started, last = time.monotonic(), [0.0]

    def progress(message: str, done: float) -> None:
        now = time.monotonic()
        if now - last[0] < REPORT_EVERY_S and done < 1:
            return
        last[0] = now
        elapsed = now - started
        estimate = f", about {_duration(elapsed * (1 - done) / done)} left" if 0 < done < 1 else ""
        text = f"{message}, {_duration(elapsed)} elapsed{estimate}"
        flag.value = _write(database, lambda s: report_progress(s, run.id, STRUCTURE_SHARE * done, text))

    relations = sorted({r.name for r in prepared.data.relations})
    structure, report = train_structure(sorted(prepared.data.entities), relations, facts, prepared.held_facts, config,
                                        progress=progress, cancel=flag.is_set)
    log(f"structural model: {report.interaction}, size {report.embedding_dim} (held-out MRR {report.mrr}) in "
        f"{report.seconds:.0f} s")
    return structure, {**asdict(report), **({"narrowed": narrowed} if narrowed else {})}


def searched(options: TrainOptions, facts: int) -> tuple[tuple, tuple, str]:
    """(interactions, sizes, why the search was narrowed or "") of the structural model: the whole search, or
    on a KG above `structure_search_facts` facts one try, so its retrain stays within the hour on 2 cores."""
    interactions, dims = tuple(options.structure_interactions), tuple(options.structure_dims)
    tries = len(interactions) * len(dims)
    if not options.structure_search_facts or facts <= options.structure_search_facts or tries == 1:
        return interactions, dims, ""
    chosen, size = interactions[0], min(dims)
    return (chosen,), (size,), (f"one try of the graph model ({chosen} of size {size}) instead of {tries}: your "
                                f"{facts:,} facts are more than {options.structure_search_facts:,}, where the "
                                "whole search would keep the retrain for over an hour")


def _end(database: Database, run_id: int, status: str, message: str) -> None:
    with database.transaction() as session:
        finish_run(session, run_id, status, message)


def _stage(database: Database, run_id: int, log: Callable[[str], None], message: str) -> None:
    """A new stage of the run: on the Train page (the row's message) and in the command line's output."""
    _write(database, lambda s: update_message(s, run_id, message))
    log(message)


def _plan(database: Database, run: Run, options: TrainOptions, model, structure: Optional[StructuralModel],
          prepared: Prepared, flag: DatabaseCancelFlag, log: Callable[[str], None], start: float) -> SuggestionPlan:
    _stage(database, run.id, log, "suggesting missing triples")

    def scoring(done: int, total: int) -> None:
        flag.value = _write(database, lambda s: report_progress(
            s, run.id, start + (0.99 - start) * done / max(1, total),
            f"suggesting: scored {done} of {total} candidate pairs"))

    plan = plan_suggestions(database, model, run.id, run.name, cancel=flag, progress=scoring,
                            planning=Planning(structure, held_out=prepared.held_facts, seed=options.seed,
                                              policy=options.queue))
    if plan.combiner_report is not None:
        log(f"combiner: {plan.combiner_report.reason or plan.combiner_report.as_dict()}")
    return plan


def _terminate_as_exit():
    """SIGTERM raises SystemExit while a foreground run trains (so it can end its row); returns the handler it
    replaced (None off the main thread, where signals cannot be handled)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    return signal.signal(signal.SIGTERM, stop)


def train_in_foreground(database: Database, actor: Actor, options: TrainOptions) -> Run:
    """`python -m knowco train`: the same run as the app's, in this process, with its row and audit event."""
    run = queue_run(database, actor, options)
    with database.transaction() as session:
        claim(session, run.id, os.getpid())
    previous = _terminate_as_exit()
    try:
        run_training(database, run.id, print)
    except (KeyboardInterrupt, SystemExit):
        # Ctrl-C or `kill`: the run ends cancelled now, not "running" until its heartbeat goes stale
        _end(database, run.id, "cancelled", "interrupted at the command line")
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    with database.sessions() as session:
        return get_run(session, run.id)
