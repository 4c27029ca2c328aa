"""SQLite's writers of one process (the API's request threads) wait for each other in turn, from their first
write to their commit or rollback: a transaction that fails, or a session closed without a commit, never keeps
the others waiting."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from storage.database import StorageError, open_database
from storage.models import Entity


def _add(session, name: str) -> None:
    session.add(Entity(name=name, label=name, created_by="tester"))
    session.flush()


def _names(database) -> int:
    with database.sessions() as session:
        return session.scalar(select(func.count()).select_from(Entity))


def _write_in_thread(database, name: str) -> tuple[threading.Thread, list[float]]:
    done: list[float] = []

    def write() -> None:
        with database.transaction() as session:
            _add(session, name)
        done.append(time.monotonic())

    thread = threading.Thread(target=write)
    thread.start()
    return thread, done


def _holding(database, name: str) -> tuple[threading.Thread, threading.Event]:
    """A thread that has written `name` and holds its transaction open until the event returned is set."""
    wrote, go_on = threading.Event(), threading.Event()

    def hold() -> None:
        with database.transaction() as session:
            _add(session, name)
            wrote.set()
            go_on.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert wrote.wait(10)
    return thread, go_on


def test_a_writer_waits_for_the_one_before_it_and_goes_on_at_its_commit(tmp_path):
    database = open_database(str(tmp_path / "kg.sqlite"))
    holder, go_on = _holding(database, "first")
    second, done = _write_in_thread(database, "second")
    time.sleep(0.3)
    assert not done  # the first still holds its turn
    committed = time.monotonic()
    go_on.set()
    holder.join(10)
    second.join(10)
    assert done and done[0] - committed < 1.0 and _names(database) == 2
    database.dispose()


def test_a_failed_transaction_and_an_uncommitted_session_hand_the_turn_on(tmp_path):
    database = open_database(str(tmp_path / "kg.sqlite"))
    with pytest.raises(RuntimeError):
        with database.transaction() as session:
            _add(session, "rolled back")
            raise RuntimeError("a bug after the first write")
    with database.sessions() as session:
        _add(session, "never committed")
    started = time.monotonic()
    thread, done = _write_in_thread(database, "next")
    thread.join(15)
    assert done and done[0] - started < 2.0  # a kept turn would have made it wait 10 s and fail
    assert _names(database) == 1
    database.dispose()


def test_a_writer_that_waits_too_long_is_told_in_a_sentence(tmp_path, monkeypatch):
    import storage.database as storage_database

    monkeypatch.setattr(storage_database, "BUSY_TIMEOUT_S", 0.2)
    database = open_database(str(tmp_path / "kg.sqlite"))
    thread, go_on = _holding(database, "holder")
    try:
        with pytest.raises(StorageError, match="busy with another writer"):
            with database.transaction() as session:
                _add(session, "waiter")
    finally:
        go_on.set()
        thread.join(10)
    assert _names(database) == 1
    database.dispose()
