"""Labels, the review queue and training-run rows, on both backends: what a curator does is kept, undoable
and never lost."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from knowco.demo import seed_demo
from storage.audit import recent_events
from storage.corpus import DocumentError, add_document, add_sentence, find_sentences
from storage.labels import (
    LabelError,
    add_sentence_example,
    add_triple_example,
    change_example,
    delete_example,
    list_examples,
    training_data,
)
from storage.models import Example, ModelVersion, Triple, utcnow
from storage.review import (
    ReviewError,
    accept,
    accept_edited,
    bulk_accept,
    count_suggestions,
    reject,
    replace_suggestions,
    suggestions,
    undo_last,
)
from storage.runs import activate, claim, create_run, finish_run, get_run, request_cancel, unfinished_run


@pytest.fixture
def demo(db):
    seed_demo(db, "seeder")
    return db


def _status(db, triple_id):
    with db.sessions() as session:
        return session.get(Triple, triple_id).status


def _examples(db) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(Example))


def test_triple_labels_are_checked_and_edits_keep_the_old_values(demo):
    example_id = add_triple_example(demo, "aspirin", "treats", "fever", True, "ann")
    with pytest.raises(LabelError, match="already labelled"):
        add_triple_example(demo, "aspirin", "treats", "fever", False, "bob")
    with pytest.raises(LabelError, match="no entity named"):
        add_triple_example(demo, "aspirin", "treats", "no such thing", True, "ann")
    with pytest.raises(LabelError, match="same entity"):
        add_triple_example(demo, "aspirin", "treats", "aspirin", True, "ann")
    change_example(demo, example_id, "bob", holds=False)
    [row] = [x for x in list_examples(demo, "treats") if x.id == example_id]
    assert row.holds is False and row.created_by == "ann"
    delete_example(demo, example_id, "carol")
    with demo.sessions() as session:
        events = recent_events(session, limit=2)
    assert [e.action for e in events] == ["delete", "edit"]
    assert events[0].details["before"]["label"] is False and events[1].details["before"]["label"] is True
    assert events[0].actor == "carol"


def test_sentence_labels_from_an_uploaded_document(demo):
    added, present = add_document(demo, "notes.txt", "Metformin lowers blood glucose. It treats type 2 diabetes.\n"
                                                     "Metformin lowers blood glucose.", "ann")
    assert (added, present) == (2, 0)
    assert add_document(demo, "notes.txt", "It treats type 2 diabetes.", "ann") == (0, 1)
    with pytest.raises(DocumentError):
        add_document(demo, "empty.txt", " \n ", "ann")
    [sentence] = find_sentences(demo, "lowers glucose")
    assert sentence.tokens[:3] == ["Metformin", "lowers", "blood"]
    add_sentence_example(demo, sentence.id, (0, 1), (2, 4), "treats", "ann")
    with pytest.raises(LabelError, match="overlap"):
        add_sentence_example(demo, sentence.id, (0, 2), (1, 3), None, "ann")
    with pytest.raises(LabelError, match="tokens of the sentence"):
        add_sentence_example(demo, sentence.id, (0, 1), (5, 99), None, "ann")
    typed = add_sentence(demo, "Aspirin relieves headache .", "bob")
    no_relation = add_sentence_example(demo, typed, (0, 1), (2, 3), None, "bob")
    data = training_data(demo)
    mine = [s for s in data.sentences if s[0] == no_relation]
    assert mine and mine[0][4] is None and mine[0][1] == ["Aspirin", "relieves", "headache", "."]


def _queue(db, scored):
    run = create_run(db, backbone="splade-tiny", hyperparameters={}, seed=1, user="ann")
    return run, replace_suggestions(db, run.id, scored, "ann")


def test_review_accept_reject_edit_bulk_and_undo(demo):
    run, counts = _queue(demo, [("aspirin", "treats", "gout", 0.9), ("ibuprofen", "treats", "gout", 0.6),
                                ("paracetamol", "treats", "gout", 0.51), ("aspirin", "treats", "asthma", 0.2)])
    assert counts["new"] == 4
    queue = suggestions(demo)
    assert [s.confidence for s in queue] == [0.9, 0.6, 0.51, 0.2]
    assert [s.confidence for s in suggestions(demo, order="uncertainty")][:2] == [0.51, 0.6]
    before = _examples(demo)

    accept(demo, queue[0].id, "ann")
    assert _status(demo, queue[0].id) == "accepted" and _examples(demo) == before + 1
    reject(demo, queue[3].id, "ann")
    assert _status(demo, queue[3].id) == "rejected" and _examples(demo) == before + 2
    with pytest.raises(ReviewError, match="already rejected by ann"):
        accept(demo, queue[3].id, "bob")

    assert undo_last(demo, "ann").startswith("reject")
    assert _status(demo, queue[3].id) == "suggested" and _examples(demo) == before + 1
    assert undo_last(demo, "bob") is None

    accept_edited(demo, queue[1].id, "ann", head="ibuprofen", relation="treats", tail="influenza")
    assert _status(demo, queue[1].id) == "rejected"
    with demo.sessions() as session:
        corrected = session.scalar(select(Triple).join(Triple.tail).where(Triple.tail.has(name="influenza"),
                                                                          Triple.head.has(name="ibuprofen")))
        assert corrected.status == "accepted" and corrected.reviewed_by == "ann"

    assert bulk_accept(demo, "bob", min_confidence=0.5) == 1
    assert count_suggestions(demo) == 1
    assert undo_last(demo, "bob").startswith("bulk accept")
    assert count_suggestions(demo) == 2
    assert undo_last(demo, "ann").startswith("edit accept")
    assert _status(demo, queue[1].id) == "suggested"
    with demo.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Triple).where(Triple.tail.has(name="influenza"),
                                                                              Triple.head.has(name="ibuprofen"))) == 0


def test_a_new_queue_never_resuggests_reviewed_triples(demo):
    run, _ = _queue(demo, [("aspirin", "treats", "gout", 0.9), ("ibuprofen", "treats", "gout", 0.6)])
    first = suggestions(demo)
    reject(demo, first[0].id, "ann")
    counts = replace_suggestions(demo, run.id, [("aspirin", "treats", "gout", 0.95),
                                                ("paracetamol", "treats", "gout", 0.4)], "ann")
    assert counts == {"new": 1, "rescored": 0, "removed": 1, "already reviewed": 1}
    assert [(s.head, s.confidence) for s in suggestions(demo)] == [("paracetamol", 0.4)]
    assert _status(demo, first[0].id) == "rejected"


def test_runs_claim_cancel_activate(demo):
    run = create_run(demo, backbone="splade-tiny", hyperparameters={"seed": 1}, seed=1, user="ann")
    assert unfinished_run(demo).id == run.id
    assert request_cancel(demo, run.id, "ann")
    assert get_run(demo, run.id).status == "cancelled"
    assert not claim(demo, run.id, 123)

    second = create_run(demo, backbone="splade-tiny", hyperparameters={}, seed=1, user="ann")
    assert claim(demo, second.id, 123) and not claim(demo, second.id, 456)
    with pytest.raises(ValueError, match="successfully trained"):
        activate(demo, second.id, "ann")
    finish_run(demo, second.id, "succeeded", "done", metrics={"accuracy": 0.5}, checkpoint_path="/nowhere")
    activate(demo, second.id, "ann")
    assert get_run(demo, second.id).is_active
    assert not request_cancel(demo, second.id, "ann")


def test_a_silent_worker_is_reported_lost(demo):
    from knowco.jobs import current_job

    run = create_run(demo, backbone="splade-tiny", hyperparameters={}, seed=1, user="ann")
    claim(demo, run.id, 123)
    with demo.transaction() as session:
        session.get(ModelVersion, run.id).heartbeat_at = utcnow() - timedelta(minutes=10)
    assert current_job(demo) is None
    assert get_run(demo, run.id).status == "failed" and "stopped" in get_run(demo, run.id).message


def test_a_table_of_edits_is_saved_whole_or_not_at_all(demo):
    from storage.labels import ExampleEdit, edit_examples

    first = add_triple_example(demo, "aspirin", "treats", "gout", True, "ann")
    second = add_triple_example(demo, "aspirin", "treats", "asthma", True, "ann")
    with pytest.raises(LabelError, match="only a sentence"):
        edit_examples(demo, [ExampleEdit(first, delete=True), ExampleEdit(second, no_relation=True)], "bob")
    assert {x.id for x in list_examples(demo, "treats")} >= {first, second}
    edit_examples(demo, [ExampleEdit(first, delete=True), ExampleEdit(second, holds=False, relation="interacts_with")], "bob")
    [row] = [x for x in list_examples(demo, "interacts_with") if x.id == second]
    assert row.holds is False and first not in {x.id for x in list_examples(demo)}


def test_two_curators_deciding_at_once_one_wins_and_the_other_is_told(demo):
    """Two real connections interleaved: both read the pending suggestion, then both write."""
    from storage.review import _verdict

    run, _ = _queue(demo, [("aspirin", "treats", "gout", 0.9)])
    [item] = suggestions(demo)
    first, second = demo.sessions(), demo.sessions()
    try:
        mine, theirs = first.get(Triple, item.id), second.get(Triple, item.id)
        assert mine.status == theirs.status == "suggested"
        _verdict(first, mine, "accepted", "ann", utcnow())
        first.commit()
        with pytest.raises(ReviewError, match="another curator decided"):
            _verdict(second, theirs, "rejected", "bob", utcnow())
        second.rollback()
    finally:
        first.close()
        second.close()
    with demo.sessions() as session:
        row = session.get(Triple, item.id)
        assert (row.status, row.reviewed_by) == ("accepted", "ann")


def test_backup_names_the_right_tool_on_each_backend(db, backend, tmp_path):
    from storage.backup import backup
    from storage.database import StorageError

    out = tmp_path / f"backup-{backend}.sqlite"
    if backend == "postgresql":
        with pytest.raises(StorageError, match="pg_dump"):
            backup(db, out)
    else:
        assert backup(db, out) == 0 and out.is_file()


BULK_SCRIPT = """
import sys
from storage.database import open_database
from storage.review import bulk_accept
database = open_database(sys.argv[1])
print("ready", flush=True)
bulk_accept(database, "killer", min_confidence=0.0)
print("done", flush=True)
"""


def test_killing_the_process_during_a_bulk_accept_leaves_all_or_nothing(sqlite_db, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT

    seed_demo(sqlite_db, "seeder")
    from storage.labels import training_data

    names = sorted(training_data(sqlite_db).entities)
    scored = [(h, "treats", t, 0.5) for h in names[:60] for t in names[60:120] if h != t]
    run, _ = _queue(sqlite_db, scored)
    pending = count_suggestions(sqlite_db)
    interrupted = []
    for delay in (0.05, 0.3, 1.0):
        process = subprocess.Popen([sys.executable, "-c", BULK_SCRIPT, sqlite_db.url], cwd=ROOT,
                                   stdout=subprocess.PIPE, text=True)
        assert process.stdout.readline().strip() == "ready"
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        if "done" not in process.stdout.read():
            interrupted.append(delay)
        left = count_suggestions(sqlite_db)
        assert left in (0, pending), f"a killed bulk accept left {left} of {pending} pending"
        if left == 0:
            break
    assert interrupted, "every bulk accept finished before the kill: nothing was tested"
    with sqlite_db.sessions() as session:
        accepted_by_killer = session.scalar(select(func.count()).select_from(Triple).where(
            Triple.reviewed_by == "killer"))
        assert accepted_by_killer in (0, pending)
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
