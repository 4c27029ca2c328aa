"""Labels, the review queue and training-run rows through the service layer, on both backends: what a curator
does is kept, undoable and never lost, and a role does only what it may."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from knowco.access import Actor
from knowco.errors import JobError, PermissionDenied
from knowco.services import (
    ExampleEdit,
    accept,
    accept_corrected,
    activate,
    add_sentence,
    add_sentence_label,
    add_triple_label,
    bulk_accept,
    current_job,
    edit_labels,
    find_sentences,
    import_document,
    list_examples,
    queue,
    queue_size,
    reject,
    seed_demo,
    undo_last,
)
from storage.audit import recent_events
from storage.corpus import DocumentError
from storage.labels import LabelError, training_data
from storage.models import Example, ModelVersion, Triple, utcnow
from storage.review import ReviewError, replace_suggestions
from storage.runs import claim, create_run, finish_run, get_run, request_cancel, unfinished_run

ANN, BOB, CAROL = Actor("ann", "admin"), Actor("bob", "curator"), Actor("carol", "admin")


@pytest.fixture
def demo(db):
    seed_demo(db, Actor("seeder", "admin"))
    return db


def _status(db, triple_id):
    with db.sessions() as session:
        return session.get(Triple, triple_id).status


def _examples(db) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(Example))


def test_triple_labels_are_checked_and_edits_keep_the_old_values(demo):
    example_id = add_triple_label(demo, ANN, "aspirin", "treats", "fever", True)
    with pytest.raises(LabelError, match="already labelled"):
        add_triple_label(demo, BOB, "aspirin", "treats", "fever", False)
    with pytest.raises(LabelError, match="no entity named"):
        add_triple_label(demo, ANN, "aspirin", "treats", "no such thing", True)
    with pytest.raises(LabelError, match="same entity"):
        add_triple_label(demo, ANN, "aspirin", "treats", "aspirin", True)
    edit_labels(demo, BOB, [ExampleEdit(example_id, holds=False)])
    [row] = [x for x in list_examples(demo, "treats") if x.id == example_id]
    assert row.holds is False and row.created_by == "ann"
    edit_labels(demo, CAROL, [ExampleEdit(example_id, delete=True)])
    with demo.sessions() as session:
        events = recent_events(session, limit=2)
    assert [e.action for e in events] == ["delete", "edit"]
    assert events[0].details["before"]["label"] is False and events[1].details["before"]["label"] is True
    assert events[0].actor == "carol"


def test_sentence_labels_from_an_uploaded_document(demo):
    added, present = import_document(demo, ANN, "notes.txt", b"Metformin lowers blood glucose. It treats type 2 "
                                     b"diabetes.\nMetformin lowers blood glucose.")
    assert (added, present) == (2, 0)
    assert import_document(demo, ANN, "notes.txt", b"It treats type 2 diabetes.") == (0, 1)
    with pytest.raises(DocumentError):
        import_document(demo, ANN, "empty.txt", b" \n ")
    [sentence] = find_sentences(demo, "lowers glucose")
    assert sentence.tokens[:3] == ["Metformin", "lowers", "blood"]
    add_sentence_label(demo, ANN, sentence.id, (0, 1), (2, 4), "treats")
    with pytest.raises(LabelError, match="overlap"):
        add_sentence_label(demo, ANN, sentence.id, (0, 2), (1, 3), None)
    with pytest.raises(LabelError, match="tokens of the sentence"):
        add_sentence_label(demo, ANN, sentence.id, (0, 1), (5, 99), None)
    typed = add_sentence(demo, BOB, "Aspirin relieves headache .")
    no_relation = add_sentence_label(demo, BOB, typed, (0, 1), (2, 3), None)
    with demo.sessions() as session:
        data = training_data(session)
    mine = [s for s in data.sentences if s[0] == no_relation]
    assert mine and mine[0][4] is None and mine[0][1] == ["Aspirin", "relieves", "headache", "."]


def _queue(db, scored):
    with db.transaction() as session:
        run = create_run(session, backbone="splade-tiny", hyperparameters={}, seed=1, user="ann")
        return run, replace_suggestions(session, run.id, scored, "ann")


def test_review_accept_reject_edit_bulk_and_undo(demo):
    run, counts = _queue(demo, [("aspirin", "treats", "gout", 0.9), ("ibuprofen", "treats", "gout", 0.6),
                                ("paracetamol", "treats", "gout", 0.51), ("aspirin", "treats", "asthma", 0.2)])
    assert counts["new"] == 4
    pending = queue(demo)
    assert [s.confidence for s in pending] == [0.9, 0.6, 0.51, 0.2]
    assert [s.confidence for s in queue(demo, order="uncertainty")][:2] == [0.51, 0.6]
    before = _examples(demo)

    accept(demo, ANN, pending[0].id)
    assert _status(demo, pending[0].id) == "accepted" and _examples(demo) == before + 1
    reject(demo, ANN, pending[3].id)
    assert _status(demo, pending[3].id) == "rejected" and _examples(demo) == before + 2
    with pytest.raises(ReviewError, match="already rejected by ann"):
        accept(demo, BOB, pending[3].id)

    assert undo_last(demo, ANN).startswith("reject")
    assert _status(demo, pending[3].id) == "suggested" and _examples(demo) == before + 1
    assert undo_last(demo, BOB) is None

    accept_corrected(demo, ANN, pending[1].id, head="ibuprofen", relation="treats", tail="influenza")
    assert _status(demo, pending[1].id) == "rejected"
    with demo.sessions() as session:
        corrected = session.scalar(select(Triple).join(Triple.tail).where(Triple.tail.has(name="influenza"),
                                                                          Triple.head.has(name="ibuprofen")))
        assert corrected.status == "accepted" and corrected.reviewed_by == "ann"

    assert bulk_accept(demo, BOB, min_confidence=0.5) == 1
    assert queue_size(demo) == 1
    assert undo_last(demo, BOB).startswith("accept in bulk")
    assert queue_size(demo) == 2
    assert undo_last(demo, ANN).startswith("swap or correct, and accept")
    assert _status(demo, pending[1].id) == "suggested"
    with demo.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Triple).where(Triple.tail.has(name="influenza"),
                                                                              Triple.head.has(name="ibuprofen"))) == 0


def test_a_new_queue_never_resuggests_reviewed_triples(demo):
    run, _ = _queue(demo, [("aspirin", "treats", "gout", 0.9), ("ibuprofen", "treats", "gout", 0.6)])
    first = queue(demo)
    reject(demo, ANN, first[0].id)
    with demo.transaction() as session:
        counts = replace_suggestions(session, run.id, [("aspirin", "treats", "gout", 0.95),
                                                       ("paracetamol", "treats", "gout", 0.4)], "ann")
    assert counts == {"new": 1, "rescored": 0, "removed": 1, "already reviewed": 1}
    assert [(s.head, s.confidence) for s in queue(demo)] == [("paracetamol", 0.4)]
    assert _status(demo, first[0].id) == "rejected"


def _in(db, change):
    with db.transaction() as session:
        return change(session)


def test_runs_claim_cancel_activate(demo):
    run = _in(demo, lambda s: create_run(s, backbone="splade-tiny", hyperparameters={"seed": 1}, seed=1, user="ann"))
    assert _in(demo, unfinished_run).id == run.id
    assert _in(demo, lambda s: request_cancel(s, run.id, "ann"))
    assert _in(demo, lambda s: get_run(s, run.id)).status == "cancelled"
    assert not _in(demo, lambda s: claim(s, run.id, 123))

    second = _in(demo, lambda s: create_run(s, backbone="splade-tiny", hyperparameters={}, seed=1, user="ann"))
    assert _in(demo, lambda s: claim(s, second.id, 123)) and not _in(demo, lambda s: claim(s, second.id, 456))
    with pytest.raises(JobError, match="successfully trained"):
        activate(demo, ANN, second.id)
    _in(demo, lambda s: finish_run(s, second.id, "succeeded", "done", metrics={"accuracy": 0.5},
                                   checkpoint_path="/nowhere"))
    with pytest.raises(PermissionDenied, match="curator may not change the active model"):
        activate(demo, BOB, second.id)
    activate(demo, ANN, second.id)
    assert _in(demo, lambda s: get_run(s, second.id)).is_active
    assert not _in(demo, lambda s: request_cancel(s, second.id, "ann"))


def test_a_silent_worker_is_reported_lost_and_never_becomes_active(demo):
    run = _in(demo, lambda s: create_run(s, backbone="splade-tiny", hyperparameters={}, seed=1, user="ann"))
    _in(demo, lambda s: claim(s, run.id, 123))
    with demo.transaction() as session:
        session.get(ModelVersion, run.id).heartbeat_at = utcnow() - timedelta(minutes=10)
    assert current_job(demo) is None
    lost = _in(demo, lambda s: get_run(s, run.id))
    assert lost.status == "failed" and "stopped" in lost.message and not lost.is_active


def test_a_curator_may_label_but_not_delete_labels(demo):
    mine = add_triple_label(demo, BOB, "aspirin", "treats", "gout", True)
    edit_labels(demo, BOB, [ExampleEdit(mine, holds=False)])
    with pytest.raises(PermissionDenied, match="curator may not delete labels"):
        edit_labels(demo, BOB, [ExampleEdit(mine, delete=True)])
    assert mine in {x.id for x in list_examples(demo, "treats")}
    edit_labels(demo, ANN, [ExampleEdit(mine, delete=True)])
    assert mine not in {x.id for x in list_examples(demo, "treats")}


def test_a_table_of_edits_is_saved_whole_or_not_at_all(demo):
    first = add_triple_label(demo, ANN, "aspirin", "treats", "gout", True)
    second = add_triple_label(demo, ANN, "aspirin", "treats", "asthma", True)
    with pytest.raises(LabelError, match="only a sentence"):
        edit_labels(demo, CAROL, [ExampleEdit(first, delete=True), ExampleEdit(second, no_relation=True)])
    assert {x.id for x in list_examples(demo, "treats")} >= {first, second}
    edit_labels(demo, CAROL, [ExampleEdit(first, delete=True),
                              ExampleEdit(second, holds=False, relation="interacts_with")])
    [row] = [x for x in list_examples(demo, "interacts_with") if x.id == second]
    assert row.holds is False and first not in {x.id for x in list_examples(demo)}


def test_two_curators_deciding_at_once_one_wins_and_the_other_is_told(demo):
    """Two real connections interleaved: both read the pending suggestion, then both write."""
    from knowco.verdicts import set_with_label
    from storage.triple_rows import triple_row

    run, _ = _queue(demo, [("aspirin", "treats", "gout", 0.9)])
    [item] = queue(demo)
    first, second = demo.sessions(), demo.sessions()
    try:
        mine, theirs = triple_row(first, item.id), triple_row(second, item.id)
        assert mine.status == theirs.status == "suggested"
        set_with_label(first, mine, "accepted", "ann", utcnow())
        first.commit()
        with pytest.raises(ReviewError, match="another curator decided"):
            set_with_label(second, theirs, "rejected", "bob", utcnow())
        second.rollback()
    finally:
        first.close()
        second.close()
    with demo.sessions() as session:
        row = session.get(Triple, item.id)
        assert (row.status, row.reviewed_by) == ("accepted", "ann")


def test_backup_names_the_right_tool_on_each_backend(db, backend, tmp_path):
    from knowco.services import backup
    from storage.database import StorageError

    out = tmp_path / f"backup-{backend}.sqlite"
    if backend == "postgresql":
        with pytest.raises(StorageError, match="pg_dump"):
            backup(db, ANN, out)
    else:
        assert backup(db, ANN, out) == 0 and out.is_file()
    with pytest.raises(PermissionDenied):
        backup(db, BOB, out)


BULK_SCRIPT = """
import sys
from knowco.services import Actor, bulk_accept, open_database
database = open_database(sys.argv[1])
print("ready", flush=True)
bulk_accept(database, Actor("killer", "curator"), min_confidence=0.0)
print("done", flush=True)
"""


def test_killing_the_process_during_a_bulk_accept_leaves_all_or_nothing(sqlite_db, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT

    seed_demo(sqlite_db, Actor("seeder", "admin"))
    with sqlite_db.sessions() as session:
        names = sorted(training_data(session).entities)
    scored = [(h, "treats", t, 0.5) for h in names[:60] for t in names[60:120] if h != t]
    run, _ = _queue(sqlite_db, scored)
    pending = queue_size(sqlite_db)
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
        left = queue_size(sqlite_db)
        assert left in (0, pending), f"a killed bulk accept left {left} of {pending} pending"
        if left == 0:
            break
    assert interrupted, "every bulk accept finished before the kill: nothing was tested"
    with sqlite_db.sessions() as session:
        accepted_by_killer = session.scalar(select(func.count()).select_from(Triple).where(
            Triple.reviewed_by == "killer"))
        assert accepted_by_killer in (0, pending)
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"


def test_the_queue_s_count_agrees_with_the_queue_under_every_filter(demo):
    """The count is a lean query of its own (every API page counts its total): it must find what the queue
    lists, by relation, confidence, curator and whether a sentence states the suggestion."""
    from storage.review import count_suggestions, suggestions
    from tests.storage_helpers import queued

    queued(demo, [("aspirin", "treats", "gout", 0.9), ("ibuprofen", "treats", "asthma", 0.8),
                  ("metformin", "treats", "gout", 0.4), ("aspirin", "interacts_with", "ibuprofen", 0.7)])
    with demo.sessions() as session:
        decided = next(s.id for s in suggestions(session, limit=100) if s.head == "metformin")
    accept(demo, Actor("ann", "curator"), decided)
    filters = [{}, {"relation": "treats"}, {"relation": "interacts_with"},
               {"min_confidence": 0.75}, {"max_confidence": 0.75}, {"curator": "ann"}, {"curator": "bob"},
               {"from_text": True}, {"from_text": False}]
    with demo.sessions() as session:
        for narrowed in filters:
            listed = suggestions(session, limit=100, **narrowed)
            assert count_suggestions(session, **narrowed) == len(listed), narrowed
