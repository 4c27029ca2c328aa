"""Retraining for real with the tiny backbone: in the background worker (progress, checkpoint, suggestions,
cancel) and in the foreground (`python -m knowco train` / `suggest`)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from knowco.cli import main
from knowco.demo import seed_demo
from knowco.jobs import JobError, cancel, current_job, start_training
from knowco.options import TrainOptions
from storage.database import open_database
from storage.labels import add_triple_example
from storage.review import count_suggestions, suggestions
from storage.runs import get_run

FAST = dict(stage1_epochs=1, stage2_epochs=2, suggestions_per_relation=5, max_pairs_per_relation=300)


@pytest.fixture
def kg(tmp_path, monkeypatch):
    monkeypatch.setenv("KNOWCO_MODEL_DIR", str(tmp_path / "models"))
    database = open_database(str(tmp_path / "kg.sqlite"))
    seed_demo(database, "seeder")
    add_triple_example(database, "aspirin", "treats", "headache", True, "ann")
    add_triple_example(database, "aspirin", "treats", "stomach", False, "ann")
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
    run = start_training(kg, TrainOptions(**FAST), "ann")
    with pytest.raises(JobError, match="still"):
        start_training(kg, TrainOptions(**FAST), "bob")
    run = _wait(kg, run.id, lambda r: r.finished)
    assert run.status == "succeeded", run.message
    assert run.is_active and Path(run.checkpoint_path, "model.safetensors").is_file()
    assert run.metrics["held_out"] > 0 and 0 <= run.metrics["accuracy"] <= 1
    assert run.curve and run.curve[-1][0] > run.curve[0][0]
    assert run.metrics["suggestions"]["new"] == count_suggestions(kg) > 0
    assert {s.model_version for s in suggestions(kg, limit=500)} == {run.name}
    assert current_job(kg) is None
    assert (tmp_path / "models" / "v1.log").read_text().count("finished") == 1


def test_cancel_stops_a_running_worker(kg):
    run = start_training(kg, TrainOptions(**{**FAST, "stage2_epochs": 500}), "ann")
    _wait(kg, run.id, lambda r: r.status == "running" and r.progress > 0)
    assert cancel(kg, run.id, "ann")
    run = _wait(kg, run.id, lambda r: r.finished, timeout=60)
    assert run.status == "cancelled" and run.checkpoint_path is None and count_suggestions(kg) == 0


def test_train_and_suggest_from_the_command_line(kg, capsys):
    code = main(["--db", kg.url, "--user", "cli", "train", "--stage1-epochs", "1", "--stage2-epochs", "1",
                 "--no-suggest"])
    out = capsys.readouterr().out
    assert code == 0 and "v1: succeeded" in out
    assert main(["--db", kg.url, "suggest", "--top", "3", "--max-pairs", "200"]) == 0
    assert "model v1:" in capsys.readouterr().out
    assert count_suggestions(kg) == 3 * 9
    assert main(["--db", kg.url, "suggest", "--relation", "nope"]) == 2
    assert "no relation named 'nope'" in capsys.readouterr().err


def test_suggest_without_a_model_says_what_to_do(kg, capsys):
    assert main(["--db", kg.url, "suggest"]) == 2
    assert "press Retrain" in capsys.readouterr().err


def test_a_killed_worker_leaves_no_checkpoint_and_the_next_run_works(kg, tmp_path, monkeypatch):
    """SIGKILL mid-training: the run is reported failed once its heartbeat stops, nothing half-saved is
    visible, the previously active model stays active, and a new run succeeds."""
    import os
    import signal
    from datetime import timedelta

    from storage.runs import active_run

    first = _wait(kg, start_training(kg, TrainOptions(**{**FAST, "suggest_after": False}), "ann").id,
                  lambda r: r.finished)
    assert first.status == "succeeded" and active_run(kg).id == first.id
    doomed = start_training(kg, TrainOptions(**{**FAST, "stage2_epochs": 500}), "ann")
    _wait(kg, doomed.id, lambda r: r.status == "running" and r.progress > 0)
    os.kill(running_pid(kg, doomed.id), signal.SIGKILL)
    monkeypatch.setattr("storage.runs.HEARTBEAT_TIMEOUT", timedelta(seconds=2))
    time.sleep(3)
    assert current_job(kg) is None
    lost = get_run(kg, doomed.id)
    assert lost.status == "failed" and "stopped without finishing" in lost.message and lost.checkpoint_path is None
    assert sorted(p.name for p in (tmp_path / "models").iterdir() if p.is_dir() and not p.name.startswith(".")) \
        == [first.name]
    assert active_run(kg).id == first.id
    again = _wait(kg, start_training(kg, TrainOptions(**{**FAST, "suggest_after": False}), "ann").id,
                  lambda r: r.finished)
    assert again.status == "succeeded" and active_run(kg).id == again.id


def running_pid(database, run_id) -> int:
    from storage.models import ModelVersion

    with database.sessions() as session:
        return session.get(ModelVersion, run_id).worker_pid
