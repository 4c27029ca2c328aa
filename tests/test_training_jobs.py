"""Retraining for real with the tiny backbone: in the background worker (progress, checkpoint, suggestions,
cancel) and in the foreground (`python -m knowco train` / `suggest`)."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from knowco.cli import main
from knowco.errors import JobError
from knowco.services import (Actor, TrainOptions, active_run, add_triple_label, cancel, current_job, get_run,
                             list_relations, list_runs, queue, queue_size, seed_demo, start_training)
from engine.queue.policy import QueuePolicy

UNCERTAIN = QueuePolicy().uncertain
from storage.database import open_database

ANN, BOB = Actor("ann", "admin"), Actor("bob", "admin")

FAST_STRUCTURE = ("rotate", "distmult")
FAST = dict(stage1_epochs=1, stage2_epochs=2, queue=QueuePolicy(per_relation=5, max_pairs=300),
            structure_interactions=FAST_STRUCTURE, structure_epochs=30)


@pytest.fixture
def kg(tmp_path, monkeypatch):
    monkeypatch.setenv("KNOWCO_MODEL_DIR", str(tmp_path / "models"))
    database = open_database(str(tmp_path / "kg.sqlite"))
    seed_demo(database, Actor("seeder", "admin"))
    add_triple_label(database, ANN, "aspirin", "treats", "headache", True)
    add_triple_label(database, ANN, "aspirin", "treats", "stomach", False)
    yield database
    database.dispose()


def _wait(database, run_id, until, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = get_run(database, run_id)
        if until(run):
            return run
        time.sleep(0.5)
    raise AssertionError(f"timed out; last state {run.status}: {run.message}")


def test_worker_trains_saves_activates_and_suggests(kg, tmp_path):
    run = start_training(kg, ANN, TrainOptions(**FAST))
    with pytest.raises(JobError, match="still"):
        start_training(kg, BOB, TrainOptions(**FAST))
    run = _wait(kg, run.id, lambda r: r.finished)
    assert run.status == "succeeded", run.message
    assert run.is_active and run.checkpoint_path == run.name  # relative to the model store
    assert (tmp_path / "models" / run.name / "model.safetensors").is_file()
    assert run.metrics["held_out"] > 0 and 0 <= run.metrics["accuracy"] <= 1
    per_relation = run.metrics["per_relation"]
    assert per_relation and sum(r["support"] for r in per_relation) <= run.metrics["held_out"]
    assert all(0 <= r["f1"] <= 1 and r["relation"] != "no relation" for r in per_relation)
    assert run.curve and run.curve[-1][0] > run.curve[0][0]
    assert run.metrics["suggestions"]["new"] == queue_size(kg) > 0
    assert {s.model_version for s in queue(kg, limit=500)} == {run.name}
    assert current_job(kg) is None
    assert _logged_once(tmp_path / "models" / "v1.log", "finished")


def _logged_once(log, line, timeout=30):
    """The worker writes its last log line after it marks the run finished, so the test waits for the line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and line not in log.read_text():
        time.sleep(0.2)
    return log.read_text().count(line) == 1


def test_cancel_stops_a_running_worker(kg):
    run = start_training(kg, ANN, TrainOptions(**{**FAST, "stage2_epochs": 500}))
    _wait(kg, run.id, lambda r: r.status == "running" and r.progress > 0)
    assert cancel(kg, ANN, run.id)
    run = _wait(kg, run.id, lambda r: r.finished, timeout=60)
    assert run.status == "cancelled" and run.checkpoint_path is None and queue_size(kg) == 0


def test_train_and_suggest_from_the_command_line(kg, capsys):
    code = main(["--db", kg.url, "--user", "cli", "train", "--stage1-epochs", "1", "--stage2-epochs", "1",
                 "--no-suggest"])
    out = capsys.readouterr().out
    assert code == 0 and "v1: succeeded" in out
    assert main(["--db", kg.url, "suggest", "--top", "3", "--max-pairs", "200"]) == 0
    out = capsys.readouterr().out
    assert "model v1:" in out
    # each relation's 3 most confident, what the documents state confidently, and the pool's most uncertain
    # for the uncertainty order
    from_text = int(re.search(r"\((\d+) text suggestions\)", out).group(1))
    assert 3 * 9 <= queue_size(kg) <= 3 * 9 + from_text + UNCERTAIN
    assert all(queue_size(kg, relation=r.name) >= 3 for r in list_relations(kg))
    assert main(["--db", kg.url, "suggest", "--relation", "nope"]) == 2
    assert "no relation named 'nope'" in capsys.readouterr().err


def test_a_cancel_while_the_structural_model_trains_leaves_the_active_model_and_queue(kg, monkeypatch):
    from knowco.services import train_in_foreground
    import knowco.training_job as training_job

    first = train_in_foreground(kg, ANN, TrainOptions(**FAST))
    assert first.status == "succeeded", first.message
    before = sorted((s.head, s.relation, s.tail, s.confidence) for s in queue(kg, limit=500))
    real = training_job.report_progress

    def cancel_in_structure(session, run_id, progress, message, *args):
        asked = real(session, run_id, progress, message, *args)
        return asked or message.startswith("structural model")

    monkeypatch.setattr(training_job, "report_progress", cancel_in_structure)
    second = train_in_foreground(kg, ANN, TrainOptions(**FAST))
    assert second.status == "cancelled" and second.checkpoint_path is None
    assert active_run(kg).id == first.id
    assert sorted((s.head, s.relation, s.tail, s.confidence) for s in queue(kg, limit=500)) == before


def test_a_worse_retrain_stays_inactive_and_leaves_the_queue(kg, monkeypatch):
    """A curator's v2 (held-out accuracy 0.43, v1 0.62) became active and replaced all of v1's suggestions.
    Here v2 is made to answer the items both versions held out wrongly (v1 rightly): v1 stays active, the
    queue stays as it was, and v2's message says why, with the figures."""
    import engine.comparison
    from knowco.services import train_in_foreground

    first = train_in_foreground(kg, ANN, TrainOptions(**FAST))
    assert first.status == "succeeded" and first.metrics["held_out_facts"]
    before = sorted((s.head, s.relation, s.tail, s.confidence) for s in queue(kg, limit=500))
    real = engine.comparison.right_answers
    calls = []

    def new_wrong_old_right(model, entities, triples):
        answers = real(model, entities, triples)
        calls.append(len(answers))
        return {key: len(calls) == 1 for key in answers}  # the active version answers first

    monkeypatch.setattr(engine.comparison, "right_answers", new_wrong_old_right)
    second = train_in_foreground(kg, ANN, TrainOptions(**FAST))
    assert second.status == "succeeded" and not second.is_active and second.checkpoint_path
    compared = second.metrics["compared"]
    assert compared["worse"] and compared["version"] == first.name and compared["items"] >= 10
    assert compared["new_right"] == 0 and compared["old_right"] == compared["items"]
    assert f"{second.name} is not active" in second.message and "the queue is unchanged" in second.message
    assert active_run(kg).id == first.id
    assert sorted((s.head, s.relation, s.tail, s.confidence) for s in queue(kg, limit=500)) == before


def test_a_paired_comparison_weighs_the_difference_against_its_noise():
    from engine.comparison import paired

    from engine.comparison import MIN_DISAGREEMENTS

    same = {i: i % 2 == 0 for i in range(40)}
    assert not paired(same, same).worse and paired(same, same).difference == 0
    worse = paired({i: i < 10 for i in range(40)}, {i: i < 25 for i in range(40)})
    assert worse.worse and worse.difference == pytest.approx(-15 / 40)
    noisy = paired({i: i % 2 == 0 for i in range(40)}, {i: i % 2 == 0 or i == 1 for i in range(40)})
    assert not noisy.worse  # one item apart: within its noise
    few = paired({i: i >= 2 for i in range(200)}, {i: True for i in range(200)})
    assert not few.worse and 2 < MIN_DISAGREEMENTS  # two disagreements among 200 items: not a downgrade
    assert not paired({i: False for i in range(5)}, {i: True for i in range(5)}).worse  # too few items
    assert paired({1: True}, {2: True}) is None


def test_suggest_without_a_model_says_what_to_do(kg, capsys):
    assert main(["--db", kg.url, "suggest"]) == 2
    assert "press Retrain" in capsys.readouterr().err


def test_a_killed_worker_leaves_no_checkpoint_and_the_next_run_works(kg, tmp_path, monkeypatch):
    """SIGKILL mid-training: the run is reported failed once its heartbeat stops, nothing half-saved is
    visible, the previously active model stays active, and a new run succeeds."""
    import os
    import signal

    first = _wait(kg, start_training(kg, ANN, TrainOptions(**{**FAST, "suggest_after": False})).id,
                  lambda r: r.finished)
    assert first.status == "succeeded" and active_run(kg).id == first.id
    doomed = start_training(kg, ANN, TrainOptions(**{**FAST, "stage2_epochs": 500}))
    _wait(kg, doomed.id, lambda r: r.status == "running" and r.progress > 0)
    os.kill(running_pid(kg, doomed.id), signal.SIGKILL)
    monkeypatch.setenv("KNOWCO_WORKER_TIMEOUT_S", "2")
    time.sleep(3)
    assert current_job(kg) is None
    lost = get_run(kg, doomed.id)
    assert lost.status == "failed" and "stopped without finishing" in lost.message and lost.checkpoint_path is None
    assert sorted(p.name for p in (tmp_path / "models").iterdir() if p.is_dir() and not p.name.startswith(".")) \
        == [first.name]
    assert active_run(kg).id == first.id
    again = _wait(kg, start_training(kg, ANN, TrainOptions(**{**FAST, "suggest_after": False})).id,
                  lambda r: r.finished)
    assert again.status == "succeeded" and active_run(kg).id == again.id


def running_pid(database, run_id) -> int:
    from storage.models import ModelVersion

    with database.sessions() as session:
        return session.get(ModelVersion, run_id).worker_pid


def test_a_run_that_dies_while_suggesting_is_never_active(kg, monkeypatch):
    """The checkpoint, the activation and the new queue are written in the one transaction that ends the run: a
    worker that dies before it (here: while suggesting) leaves the previous model active and its queue as it was."""
    from knowco.training_job import train_in_foreground

    first = train_in_foreground(kg, ANN, TrainOptions(**FAST))
    assert first.status == "succeeded" and active_run(kg).id == first.id
    before = sorted((s.head, s.relation, s.tail) for s in queue(kg, limit=500))

    class Killed(BaseException):
        """A kill no handler sees (SIGKILL, power loss): unlike Ctrl-C, the run cannot end its row."""

    def killed(*args, **kwargs):
        raise Killed("killed while suggesting")

    monkeypatch.setattr("knowco.training_job.plan_suggestions", killed)
    with pytest.raises(Killed):
        train_in_foreground(kg, ANN, TrainOptions(**FAST))
    dead = get_run(kg, first.id + 1)
    assert dead.status == "running" and not dead.is_active and active_run(kg).id == first.id
    monkeypatch.setenv("KNOWCO_WORKER_TIMEOUT_S", "0")
    assert current_job(kg) is None
    lost = get_run(kg, dead.id)
    assert lost.status == "failed" and not lost.is_active and active_run(kg).id == first.id
    assert sorted((s.head, s.relation, s.tail) for s in queue(kg, limit=500)) == before


def test_a_kg_with_facts_and_no_labels_trains_and_is_measured_on_held_out_facts(tmp_path, monkeypatch, capsys):
    """A freshly imported KG: every accepted fact is a positive, so a retrain needs no hand labels."""
    from knowco.demo import DEMO_DIR
    from knowco.services import import_file, train_in_foreground

    monkeypatch.setenv("KNOWCO_MODEL_DIR", str(tmp_path / "models"))
    database = open_database(str(tmp_path / "facts.sqlite"))
    import_file(database, ANN, DEMO_DIR, "kgdir")
    run = train_in_foreground(database, ANN, TrainOptions(**FAST))
    assert run.status == "succeeded", run.message
    assert run.metrics["held_out_source"] == "facts" and run.metrics["held_out"] > 0
    assert "(facts of your KG and made-up wrong ones, no label) kept aside" in run.message and queue_size(database) > 0
    out = capsys.readouterr().out
    assert "0 labelled items and 128 of" in out and "structural model:" in out
    # the structural model and the combiner of opinions were trained in the same run and saved with it
    assert run.metrics["structure"]["interaction"] in FAST_STRUCTURE
    combined = run.metrics["combiner"]
    assert combined["fitted"] and combined["facts"] >= 20 and 0.5 < combined["auc"] <= 1.0
    assert (tmp_path / "models" / run.checkpoint_path / "structure" / "structure.safetensors").is_file()
    assert (tmp_path / "models" / run.checkpoint_path / "combiner.json").is_file()
    shown = queue(database, limit=500)
    assert all({"text", "graph", "sentences", "margin"} <= set(s.opinions) for s in shown)
    # Suggest now reuses the saved opinions: the same queue with the same confidences
    before = {(s.head, s.relation, s.tail): s.confidence for s in shown}
    assert main(["--db", database.url, "suggest", "--top", "5", "--max-pairs", "300"]) == 0
    assert {(s.head, s.relation, s.tail): s.confidence for s in queue(database, limit=500)} == before
    labels_only = train_in_foreground(database, ANN, TrainOptions(**{**FAST, "kg_items_per_epoch": 0}))
    assert labels_only.status == "failed" and "nothing to learn from" in labels_only.message
    database.dispose()


def test_a_run_interrupted_at_the_command_line_ends_cancelled(kg, monkeypatch):
    import knowco.training_job
    from knowco.services import train_in_foreground

    def interrupted(database, run_id, log):
        raise KeyboardInterrupt

    monkeypatch.setattr(knowco.training_job, "run_training", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_in_foreground(kg, ANN, TrainOptions(**FAST))
    [run] = list_runs(kg)
    assert run.status == "cancelled" and "interrupted" in run.message and current_job(kg) is None


def test_a_finished_worker_is_reaped(kg, monkeypatch):
    import os
    import subprocess
    import sys

    import knowco.jobs

    started = []
    real = subprocess.Popen

    def quick(command, **kwargs):
        started.append(real([sys.executable, "-c", "pass"], **kwargs))
        return started[-1]

    monkeypatch.setattr(knowco.jobs.subprocess, "Popen", quick)
    run = start_training(kg, ANN, TrainOptions(**FAST))
    deadline = time.monotonic() + 30
    while started[0].returncode is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert started[0].returncode == 0  # waited for by the reaper thread, not left a zombie
    with pytest.raises(ChildProcessError):
        os.waitpid(started[0].pid, os.WNOHANG)
    cancel(kg, ANN, run.id)


def test_ids_only_a_relation_with_one_fact_and_one_with_none_still_train_and_suggest(tmp_path, monkeypatch):
    """Issue 10's edges: no entity text at all (the names are ids), one relation with a single fact and one
    with none. The retrain must succeed, suggest for the relation it can learn, and none for the empty one."""
    from knowco.errors import CuratorError
    from knowco.services import import_file, suggest, train_in_foreground, unlearned

    monkeypatch.setenv("KNOWCO_MODEL_DIR", str(tmp_path / "models"))
    kgdir = tmp_path / "ids"
    kgdir.mkdir()
    rows = [f"Q{i}\tP1\tQ{i + 1}" for i in range(1, 40)] + [f"Q{i}\tP2\tQ{i + 20}" for i in range(1, 20)]
    (kgdir / "train.tsv").write_text("\n".join(rows + ["Q1\tP3\tQ50"]) + "\n")
    (kgdir / "relation2text.txt").write_text("P1\tP1\nP2\tP2\nP3\tP3\nP4\tP4\n")
    database = open_database(str(tmp_path / "ids.sqlite"))
    import_file(database, ANN, kgdir, "kgdir")
    assert {r.name for r in list_relations(database)} == {"P1", "P2", "P3", "P4"}
    run = train_in_foreground(database, ANN, TrainOptions(**FAST))
    assert run.status == "succeeded", run.message
    suggested = {s.relation for s in queue(database, limit=1000)}
    assert suggested and "P4" not in suggested  # nothing to learn P4 from: nothing suggested for it
    assert unlearned(database) == ["P4"]
    with pytest.raises(CuratorError, match="nothing to learn 'P4' from yet"):
        suggest(database, ANN, relation="P4")
    database.dispose()


def test_a_big_kg_gets_one_structural_try_and_says_why():
    """Four tries over 10^6 facts keep a 2-core retrain for over an hour (bench scale): above
    `structure_search_facts` the search is its first interaction at its smallest size, and the run says so."""
    from knowco.errors import OptionsError
    from knowco.training_job import searched

    assert searched(TrainOptions(), 250_000) == (("rotate", "distmult"), (32, 64), "")
    interactions, dims, why = searched(TrainOptions(), 960_000)
    assert (interactions, dims) == (("rotate",), (32,))
    assert why.startswith("one try of the graph model (rotate of size 32) instead of 4: your 960,000 facts")
    assert searched(TrainOptions(structure_search_facts=0), 10 ** 7)[2] == ""
    assert searched(TrainOptions(structure_interactions=("transe",), structure_dims=(16,)), 10 ** 7)[2] == ""
    with pytest.raises(OptionsError, match="cannot be negative"):
        TrainOptions(structure_search_facts=-1).check()


def test_a_labelled_triple_is_never_suggested_back(kg):
    """A curator's trial: triples labelled as not holding came back as the queue's top suggestions. A label is
    decided as surely as a verdict, either way."""
    add_triple_label(kg, ANN, "ibuprofen", "treats", "gout", False)
    add_triple_label(kg, ANN, "metformin", "treats", "gout", True)
    from knowco.services import train_in_foreground
    from knowco.suggest import _read_inputs
    from storage.labels import training_data

    train_in_foreground(kg, ANN, TrainOptions(**FAST))

    with kg.sessions() as session:
        relations = {r.name: 0 for r in training_data(session).relations}
        known = _read_inputs(session, type("Model", (), {"index": relations})(), None).known
    labelled = {("ibuprofen", "treats", "gout"), ("metformin", "treats", "gout"), ("aspirin", "treats", "stomach"),
                ("aspirin", "treats", "headache")}
    assert labelled <= known
    assert not labelled & {(s.head, s.relation, s.tail) for s in queue(kg, limit=10_000)}
