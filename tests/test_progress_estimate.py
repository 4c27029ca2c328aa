"""The Train page's bar and its estimate are the whole run's: a curator read 26 % at step 167 of 1,600 as a
broken bar, and "5.3 minutes left" when 8.9 were (the suggest stage and the folds after the current one were
not counted)."""
from __future__ import annotations

import pytest

from knowco import training_job
from knowco.training_job import ProgressReporter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(training_job.time, "monotonic", clock)
    return clock


class Recorder:
    """Stands in for the database: what the reporter wrote, in order."""

    def __init__(self) -> None:
        self.written: list[tuple[float, str]] = []

    def transaction(self):
        recorder = self

        class Session:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

        recorder.session = Session()
        return recorder.session


def _reporter(monkeypatch, clock, suggest_seconds):
    recorder = Recorder()
    monkeypatch.setattr(training_job, "report_progress",
                        lambda session, run_id, progress, message, curve: recorder.written.append((progress, message))
                        or False)
    flag = training_job.DatabaseCancelFlag(recorder, 1)
    # the run started 20 s ago (preparing, the structural model); the model then loads for 5 s
    reporter = ProgressReporter(recorder, 1, flag, clock.now - 20.0, suggest_seconds, lambda message: None)
    clock.now += 5.0
    return reporter, recorder


def test_the_estimate_counts_every_step_left_and_the_suggest_stage_at_the_pace_of_the_steps(monkeypatch, clock):
    reporter, recorder = _reporter(monkeypatch, clock, suggest_seconds=30.0)
    for step in range(1, 1601):  # 0.1 s a step: 160 s of training in all
        reporter(step, 1600, 1.0)
        clock.now += 0.1
        if step == 160:
            progress, message = recorder.written[-1]
            # 1,440 steps left at 0.1 s and the last suggest stage's 30 s: about 174 s, not inflated by the load
            assert "about 2.9 min left" in message, message
            elapsed = 25.0 + 16.0
            assert progress == pytest.approx(elapsed / (elapsed + 174.0), abs=0.02)
    shown = [p for p, _ in recorder.written]
    assert shown == sorted(shown) and shown[-1] <= 0.95  # never back, never full before the suggest stage
    assert [e[0] for e in reporter.estimates] == [0.1, 0.25, 0.5]
    share, at, left = reporter.estimates[0]
    assert at == pytest.approx(25.0 + 16.0, abs=0.2) and left == pytest.approx(174.0, abs=1.0)


def test_without_an_earlier_suggest_stage_it_is_guessed_from_the_training(monkeypatch, clock):
    reporter, recorder = _reporter(monkeypatch, clock, suggest_seconds=None)
    for step in range(1, 101):
        reporter(step, 1000, 1.0)
        clock.now += 0.1
    # 900 steps at 0.1 s and a tenth of the 100 s the training takes in all
    assert reporter.left(100, 1000, clock.now) == pytest.approx(90.0 + 10.0, abs=1.5)



def test_steps_that_slow_down_lengthen_the_estimate_at_once(monkeypatch, clock):
    """The second stage's steps (every weight trains) or a machine that got busy: the estimate follows the
    recent pace, not the average of the faster steps before."""
    reporter, recorder = _reporter(monkeypatch, clock, suggest_seconds=0.0)
    for step in range(1, 501):
        reporter(step, 1000, 1.0)
        clock.now += 0.05 if step <= 400 else 0.2
    # 500 steps left at the recent 0.2 s, not at the average 0.07 s
    assert reporter.left(500, 1000, clock.now) == pytest.approx(100.0, rel=0.1)
