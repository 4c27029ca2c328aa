"""A curator takes back an accepted fact: kept as retracted with who, when and why, never suggested or
trained on as a fact again, exported with the negative knowledge, undoable; from the services and the CLI."""
from __future__ import annotations

import csv

import pytest

from knowco.cli import main
from knowco.errors import CURATOR_ERRORS
from knowco.services import Actor, export_file, history, retract, seed_demo, undo_last
from storage.labels import reviewed_triples, training_data
from tests.storage_helpers import triple_status

ANN = Actor("ann", "curator")


@pytest.fixture
def demo(db):
    seed_demo(db, Actor("seeder", "admin"))
    return db


def test_a_retracted_fact_is_kept_with_its_reason_and_undo_brings_it_back(demo, tmp_path):
    done = retract(demo, ANN, "aspirin", "treats", "headache", "  wrong   source ")
    assert done == "aspirin —treats→ headache"
    assert triple_status(demo, "aspirin", "treats", "headache") == "retracted"
    with demo.sessions() as session:
        assert ("aspirin", "treats", "headache") not in training_data(session).facts
        assert ("aspirin", "treats", "headache") in reviewed_triples(session)  # never suggested again
    [event] = [row for row in history(demo, limit=10) if row.action == "retract"]
    assert event.actor == "ann" and event.details["reason"] == "wrong source"
    export_file(demo, Actor("root", "admin"), tmp_path / "all.csv", include_rejected=True)
    with open(tmp_path / "all.csv", newline="", encoding="utf-8") as handle:
        rows = {(r["head"], r["relation"], r["tail"]): r["status"] for r in csv.DictReader(handle)}
    assert rows[("aspirin", "treats", "headache")] == "retracted"
    export_file(demo, Actor("root", "admin"), tmp_path / "facts.csv")
    with open(tmp_path / "facts.csv", newline="", encoding="utf-8") as handle:
        assert ("aspirin", "treats", "headache") not in {(r["head"], r["relation"], r["tail"])
                                                         for r in csv.DictReader(handle)}
    assert undo_last(demo, ANN).startswith("retract")
    assert triple_status(demo, "aspirin", "treats", "headache") == "accepted"


def test_a_retracted_suggestion_no_longer_trains_as_a_fact(demo):
    from knowco.services import accept, queue
    from tests.storage_helpers import queued

    queued(demo, [("aspirin", "treats", "gout", 0.9)])
    accept(demo, ANN, queue(demo)[0].id)  # accepting labels it "holds"
    retract(demo, ANN, "aspirin", "treats", "gout", "the paper said otherwise")
    with demo.sessions() as session:
        labels = {(h, r, t): holds for _, h, r, t, holds in training_data(session).triples}
    assert labels[("aspirin", "treats", "gout")] is False
    undo_last(demo, ANN)
    with demo.sessions() as session:
        labels = {(h, r, t): holds for _, h, r, t, holds in training_data(session).triples}
    assert labels[("aspirin", "treats", "gout")] is True


@pytest.mark.parametrize("head, relation, tail, reason, message", [
    ("aspirin", "treats", "headache", " ", "say why"),
    ("aspirin", "treats", "nowhere", "typo", "there is no such triple"),
    ("aspirin", "cures", "headache", "typo", "not an accepted fact"),
])
def test_what_cannot_be_retracted_is_said_and_nothing_changes(demo, head, relation, tail, reason, message):
    with pytest.raises(CURATOR_ERRORS, match=message):
        retract(demo, ANN, head, relation, tail, reason)
    assert triple_status(demo, "aspirin", "treats", "headache") == "accepted"


def test_retract_from_the_command_line(demo, capsys):
    assert main(["--db", demo.url, "retract", "aspirin", "treats", "headache", "--reason", "duplicate"]) == 0
    assert "retracted: aspirin —treats→ headache" in capsys.readouterr().out
    assert main(["--db", demo.url, "retract", "aspirin", "treats", "headache", "--reason", "again"]) == 2
    assert "is not an accepted fact (it is retracted)" in capsys.readouterr().err


def test_a_rejection_keeps_its_reason_and_comment_in_the_history_and_the_exports(demo, tmp_path):
    from rdflib import Graph
    from rdflib.namespace import RDF, RDFS

    from knowco.services import accept, queue, reject
    from storage.rdf_vocab import KC
    from tests.storage_helpers import queued

    queued(demo, [("aspirin", "treats", "gout", 0.9), ("ibuprofen", "treats", "gout", 0.6)])
    shown = {s.head: s.id for s in queue(demo)}
    with pytest.raises(CURATOR_ERRORS, match="unknown reason"):
        reject(demo, ANN, shown["aspirin"], "boring")
    reject(demo, ANN, shown["aspirin"], "wrong direction", "  gout does not treat  ")
    accept(demo, ANN, shown["ibuprofen"], "seen in two trials")
    rows = {row.action: row for row in history(demo, actions=["reject", "accept"])}
    assert rows["reject"].summary == "aspirin —treats→ gout (wrong direction): “gout does not treat”"
    assert rows["accept"].summary == "ibuprofen —treats→ gout: “seen in two trials”"
    export_file(demo, Actor("root", "admin"), tmp_path / "all.csv", include_rejected=True)
    with open(tmp_path / "all.csv", newline="", encoding="utf-8") as handle:
        exported = {(r["head"], r["tail"]): r for r in csv.DictReader(handle)}
    assert (exported[("aspirin", "gout")]["reason"], exported[("aspirin", "gout")]["comment"]) == (
        "wrong direction", "gout does not treat")
    export_file(demo, Actor("root", "admin"), tmp_path / "all.ttl", include_rejected=True)
    graph = Graph().parse(tmp_path / "all.ttl", format="turtle")
    [statement] = [s for s in graph.subjects(KC.rejectReason, None) if (s, RDF.type, RDF.Statement) in graph]
    assert str(graph.value(statement, RDF.subject)).endswith("/aspirin")
    verdict = graph.value(statement, KC.verdict)  # the curator's own verdict, kept beside the decision
    assert str(graph.value(verdict, KC.decision)) == "rejected" and str(graph.value(verdict, KC.rejectReason)) == (
        "wrong direction")
    assert str(graph.value(statement, RDFS.comment)) == "gout does not treat"
    undo_last(demo, ANN)  # the acceptance
    undo_last(demo, ANN)  # the rejection, its reason and comment with it
    assert triple_status(demo, "aspirin", "treats", "gout") == "suggested"
