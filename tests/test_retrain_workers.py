"""Retrain workers on other hosts (`KNOWCO_RETRAIN_WORKERS=queue`, `python -m knowco worker`): a retrain queued
through the API is claimed by a worker process with its own working folder against PostgreSQL, and what it
trained reaches the queue; a killed worker's run is marked lost and the active version stays; of two workers
one trains a run; a worker that cannot write to the model store fails the run with that sentence."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from knowco.api import create_app
from knowco.errors import JobError
from knowco.services import (Actor, TrainOptions, active_run, add_token, add_triple_label, cancel, current_job,
                             get_run, job_words, seed_demo, start_training, train_in_foreground)
from storage.database import open_database

ADMIN = Actor("ann", "admin")
FAST = {"stage1_epochs": 1, "stage2_epochs": 2, "structure_interactions": ["rotate"], "structure_epochs": 30,
        "queue": {"per_relation": 5, "max_pairs": 300}}


@pytest.fixture
def backend() -> str:
    return "postgresql"


@pytest.fixture
def kg(db, tmp_path, monkeypatch):
    """The demo KG on PostgreSQL, its retrains queued for workers, the model store a folder both sides reach."""
    monkeypatch.setenv("KNOWCO_RETRAIN_WORKERS", "queue")
    monkeypatch.setenv("KNOWCO_MODEL_DIR", str(tmp_path / "store"))
    seed_demo(db, Actor("seeder", "admin"))
    add_triple_label(db, ADMIN, "aspirin", "treats", "headache", True)
    return db


class Worker:
    """`python -m knowco worker` in a folder of its own (another host, as far as the files go)."""

    def __init__(self, database, folder: Path, *extra: str, store: str | None = None) -> None:
        folder.mkdir(parents=True)
        self.log = folder / "worker.log"
        env = {**os.environ, "KNOWCO_THREADS": "1", "KNOWCO_MODEL_DIR": store or os.environ["KNOWCO_MODEL_DIR"]}
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "knowco", "--db", database.url, "worker", *extra],
                                            cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        _until(lambda: "Starting worker" in self.text(), timeout, self.text)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _until(condition, timeout: float, describe=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out: {describe()}")


def _finished(database, run_id: int, timeout: float = 240):
    return _until(lambda: (lambda r: r if r.finished else None)(get_run(database, run_id)), timeout,
                  lambda: get_run(database, run_id).message)


def test_a_retrain_queued_through_the_api_is_claimed_by_a_worker_on_another_host(kg, tmp_path):
    client = TestClient(create_app(kg), raise_server_exceptions=False)
    headers = {"Authorization": f"Bearer {add_token(kg, 'pipeline', ADMIN, 'tester').secret}"}
    started = client.post("/v1/retrains", headers=headers, json={"options": FAST})
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    assert started.json()["status"] == "queued"
    assert "none is running" in job_words(kg, current_job(kg))  # the page says nobody will take it yet
    worker = Worker(kg, tmp_path / "gpu-host")
    try:
        run = _finished(kg, run_id)
        assert run.status == "succeeded", run.message + worker.text()
        assert run.is_active and run.checkpoint_path == run.name  # recorded relative to the shared store
        assert (tmp_path / "store" / run.name / "model.safetensors").is_file()
        assert not (tmp_path / "gpu-host" / "knowco-models").exists()
        pending = client.get("/v1/queue?limit=50", headers=headers).json()
        assert pending["items"] and {s["model_version"] for s in pending["items"]} == {run.name}
    finally:
        worker.stop()
    assert worker.text().count(f"run {run_id}: started") == 1


def test_killing_a_worker_mid_run_marks_it_lost_and_leaves_the_previous_version_active(kg, tmp_path,
                                                                                        monkeypatch):
    first = train_in_foreground(kg, ADMIN, TrainOptions.from_dict({**FAST, "suggest_after": False}))
    assert first.status == "succeeded" and active_run(kg).id == first.id
    worker = Worker(kg, tmp_path / "doomed-host")
    try:
        doomed = start_training(kg, ADMIN, TrainOptions.from_dict({**FAST, "stage2_epochs": 500}))
        _until(lambda: (lambda r: r.status == "running" and r.progress > 0)(get_run(kg, doomed.id)), 120,
               worker.text)
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait()
    finally:
        worker.stop()
    monkeypatch.setenv("KNOWCO_WORKER_TIMEOUT_S", "2")
    time.sleep(3)
    assert current_job(kg) is None
    lost = get_run(kg, doomed.id)
    assert lost.status == "failed" and "stopped without finishing" in lost.message and lost.checkpoint_path is None
    assert active_run(kg).id == first.id
    again = start_training(kg, ADMIN, TrainOptions.from_dict({**FAST, "suggest_after": False}))
    Worker(kg, tmp_path / "next-host", "--once").process.wait(240)
    assert get_run(kg, again.id).status == "succeeded"


def test_a_run_offered_twice_to_two_workers_is_trained_once(kg, tmp_path):
    from knowco.retrain_queue import enqueue

    workers = [Worker(kg, tmp_path / f"host-{i}") for i in range(2)]
    try:
        for worker in workers:
            worker.wait_ready()
        run = start_training(kg, ADMIN, TrainOptions.from_dict({**FAST, "suggest_after": False}))
        enqueue(kg, run.id, "tester")  # a second job for the same run: each worker may take one
        assert _finished(kg, run.id).status == "succeeded"
        _until(lambda: sum(w.text().count(f"run {run.id}") for w in workers) >= 2, 60,
               lambda: workers[0].text() + workers[1].text())
    finally:
        for worker in workers:
            worker.stop()
    logs = [w.text() for w in workers]
    assert sum(text.count(f"run {run.id}: started") for text in logs) == 1
    assert sum(text.count(f"run {run.id} was cancelled or taken by another worker") for text in logs) == 1


def test_a_worker_whose_shared_store_is_not_mounted_refuses_to_start_and_leaves_the_run_queued(kg, tmp_path):
    """It would claim runs only to fail them while a worker that reaches the store could train them."""
    (tmp_path / "mnt" / "knowco-models").mkdir(parents=True)  # the mount point, the share not mounted on it
    run = start_training(kg, ADMIN, TrainOptions.from_dict(FAST))
    worker = Worker(kg, tmp_path / "cut-off-host", "--once", store=str(tmp_path / "mnt" / "knowco-models"))
    assert worker.process.wait(120) != 0, worker.text()
    assert "this worker cannot start:" in worker.text() and "is not the one the app writes to" in worker.text()
    assert "is the shared folder mounted there?" in worker.text() and "Traceback" not in worker.text()
    assert get_run(kg, run.id).status == "queued"
    assert not list((tmp_path / "mnt" / "knowco-models").iterdir())  # nothing written where the share belongs


def test_a_store_lost_after_the_worker_started_fails_the_run_it_claims_with_that_sentence(kg):
    from knowco.worker import work_on

    run = start_training(kg, ADMIN, TrainOptions.from_dict(FAST))
    work_on(kg, run.id, store_problem=lambda: "the model store is gone")
    failed = get_run(kg, run.id)
    assert failed.status == "failed" and failed.message == "the model store is gone" and active_run(kg) is None


def test_a_run_cancelled_before_any_worker_took_it_is_never_trained(kg, tmp_path):
    run = start_training(kg, ADMIN, TrainOptions.from_dict(FAST))
    assert cancel(kg, ADMIN, run.id) and get_run(kg, run.id).status == "cancelled"
    worker = Worker(kg, tmp_path / "late-host", "--once")
    assert worker.process.wait(120) == 0, worker.text()
    assert "was cancelled or taken by another worker" in worker.text()
    assert get_run(kg, run.id).status == "cancelled" and active_run(kg) is None


def test_workers_on_other_hosts_need_postgresql(tmp_path, monkeypatch):
    monkeypatch.setenv("KNOWCO_RETRAIN_WORKERS", "queue")
    database = open_database(str(tmp_path / "kg.sqlite"))
    try:
        with pytest.raises(JobError, match="need a PostgreSQL database; this one is sqlite"):
            start_training(database, ADMIN, TrainOptions())
        assert current_job(database) is None  # nothing queued that no worker could take
    finally:
        database.dispose()


def test_an_unknown_worker_mode_is_refused(monkeypatch):
    from knowco.errors import OptionsError
    from knowco.settings import Settings

    with pytest.raises(OptionsError, match="KNOWCO_RETRAIN_WORKERS must be one of local, queue"):
        Settings.from_environment({"KNOWCO_RETRAIN_WORKERS": "cluster"})


def test_a_worker_asked_to_stop_cancels_its_run_and_the_active_version_stays(kg, tmp_path):
    first = train_in_foreground(kg, ADMIN, TrainOptions.from_dict({**FAST, "suggest_after": False}))
    worker = Worker(kg, tmp_path / "stopping-host")
    try:
        run = start_training(kg, ADMIN, TrainOptions.from_dict({**FAST, "stage2_epochs": 500}))
        _until(lambda: (lambda r: r.status == "running" and r.progress > 0)(get_run(kg, run.id)), 120, worker.text)
        os.killpg(worker.process.pid, signal.SIGTERM)
        assert worker.process.wait(60) == 0, worker.text()
    finally:
        worker.stop()
    stopped = get_run(kg, run.id)
    assert stopped.status == "cancelled" and stopped.checkpoint_path is None, stopped.message
    assert "its retrain worker was asked to stop" in stopped.message
    assert active_run(kg).id == first.id and current_job(kg) is None


def test_a_run_that_could_not_be_offered_fails_with_the_reason(kg, monkeypatch):
    from knowco import retrain_queue

    def broken(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(retrain_queue, "enqueue", broken)
    with pytest.raises(JobError, match="could not offer v1 to the retrain workers"):
        start_training(kg, ADMIN, TrainOptions.from_dict(FAST))
    assert get_run(kg, 1).status == "failed" and current_job(kg) is None


def test_a_queued_run_whose_job_is_gone_is_lost_not_waited_for_forever(kg, monkeypatch):
    from sqlalchemy import text

    run = start_training(kg, ADMIN, TrainOptions.from_dict(FAST))
    monkeypatch.setenv("KNOWCO_WORKER_TIMEOUT_S", "0")
    assert current_job(kg).id == run.id  # its job waits in the queue: so does the run, however long
    with kg.transaction() as session:  # as if the worker that fetched it died before claiming it
        session.execute(text("UPDATE procrastinate_jobs SET status = 'failed'"))
    assert current_job(kg) is None
    lost = get_run(kg, run.id)
    assert lost.status == "failed" and "no worker started it" in lost.message


def test_checkpoints_recorded_before_the_shared_store_are_still_found(tmp_path, monkeypatch):
    from knowco.model_store import checkpoint_folder

    store = tmp_path / "store"
    monkeypatch.setenv("KNOWCO_MODEL_DIR", str(store))
    (store / "v3").mkdir(parents=True)
    url = "postgresql+psycopg://db/kg"
    assert checkpoint_folder(url, "v3") == store / "v3"
    assert checkpoint_folder(url, "/elsewhere/knowco-models/v3") == store / "v3"  # another host's mount
    assert checkpoint_folder(url, "knowco-models/v3") == store / "v3"  # the old relative default
    monkeypatch.chdir(tmp_path)
    (tmp_path / "knowco-models" / "v4").mkdir(parents=True)
    assert checkpoint_folder(url, "knowco-models/v4") == Path("knowco-models/v4")  # where it still is
