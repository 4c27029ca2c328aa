"""Curating as a team (issue 13): the overlap rule (agree → decided, disagree → disputed), adjudication with
every verdict kept (history, RDF), each curator's own queue and "my next items", undo, agreement figures
checked against hand-computed κ and α, and the Team page."""
from __future__ import annotations

import pytest
from rdflib import RDF, Graph

from knowco.errors import CURATOR_ERRORS, PermissionDenied
from knowco.services import (Actor, accept, accept_corrected, adjudicate, agreement, bulk_accept, curator_counts,
                             disputed, export_file, history, my_next_items, queue, queue_size, reject, seed_demo,
                             set_review_overlap, undo_last)
from knowco.team import agreement_of
from storage.rdf_vocab import KC
from storage.review import replace_suggestions
from storage.team import JudgedItem
from tests.storage_helpers import queued, triple_status

ANN, BOB, CY = Actor("ann", "curator"), Actor("bob", "curator"), Actor("cy", "curator")
ADA = Actor("ada", "admin")
SUGGESTED = [("aspirin", "treats", "gout", 0.9), ("ibuprofen", "treats", "gout", 0.6),
             ("paracetamol", "treats", "gout", 0.3)]


@pytest.fixture
def demo(db):
    seed_demo(db, Actor("seeder", "admin"))
    queued(db, SUGGESTED)
    return db


def _ids(database, actor=None) -> dict[str, int]:
    return {s.head: s.id for s in queue(database, curator=actor.name if actor else None)}


def test_with_an_overlap_of_two_a_suggestion_is_decided_when_two_agree(demo):
    set_review_overlap(demo, ADA, 2)
    ids = _ids(demo)
    said = accept(demo, ANN, ids["aspirin"], "seen in a trial")
    assert said.endswith("(your verdict is 1 of the 2 needed: it stays in the queue for 1 more curator)")
    assert triple_status(demo, "aspirin", "treats", "gout") == "suggested"
    assert "aspirin" not in _ids(demo, ANN) and "aspirin" in _ids(demo, BOB)  # each sees what they have not judged
    assert queue_size(demo, curator="ann") == 2 and queue_size(demo, curator="bob") == 3
    with pytest.raises(CURATOR_ERRORS, match="already gave your verdict"):
        reject(demo, ANN, ids["aspirin"])
    [hidden] = history(demo, actions=["accept"], viewer="bob")  # bob is still asked: ann's verdict stays hidden
    assert hidden.summary == "others' answer, hidden until you give yours" and hidden.details == {}
    assert accept(demo, BOB, ids["aspirin"]) == "aspirin —treats→ gout (2 curators agree: it is accepted)"
    assert triple_status(demo, "aspirin", "treats", "gout") == "accepted"
    summaries = [row.summary for row in history(demo, actions=["accept"])]
    assert "aspirin —treats→ gout — 2 curators agree" in summaries
    assert "aspirin —treats→ gout: “seen in a trial” — verdict 1 of 2, waiting for the others" in summaries


def test_a_disagreement_goes_to_adjudication_and_every_verdict_is_kept(demo, tmp_path):
    set_review_overlap(demo, ADA, 2)
    ids = _ids(demo)
    accept(demo, ANN, ids["ibuprofen"], "label says so")
    said = reject(demo, BOB, ids["ibuprofen"], "not stated in the evidence", "no source")
    assert said.endswith("(the curators disagree: it goes to adjudication)")
    assert triple_status(demo, "ibuprofen", "treats", "gout") == "disputed"
    [waiting] = disputed(demo)
    assert [(v.curator, v.decision, v.reason, v.comment) for v in waiting.verdicts] == [
        ("ann", "accepted", None, "label says so"), ("bob", "rejected", "not stated in the evidence", "no source")]
    with pytest.raises(PermissionDenied):
        adjudicate(demo, ANN, waiting.triple_id, "accepted")
    assert adjudicate(demo, ADA, waiting.triple_id, "accepted", comment="in the 2024 guideline") == (
        "ibuprofen —treats→ gout")
    assert triple_status(demo, "ibuprofen", "treats", "gout") == "accepted" and disputed(demo) == []
    [row] = history(demo, actions=["adjudicate"])
    assert row.summary == ("ibuprofen —treats→ gout: accepted, where ann accepted “label says so”; bob rejected "
                           "(not stated in the evidence) “no source”")
    export_file(demo, ADA, tmp_path / "kg.ttl")
    graph = Graph().parse(tmp_path / "kg.ttl", format="turtle")
    [statement] = [s for s in graph.subjects(RDF.type, RDF.Statement)
                   if str(graph.value(s, RDF.subject)).endswith("/ibuprofen")
                   and str(graph.value(s, RDF.object)).endswith("/gout")]
    verdicts = {str(graph.value(v, KC.decision)) for v in graph.objects(statement, KC.verdict)}
    assert verdicts == {"accepted", "rejected"}
    assert undo_last(demo, ADA).startswith("adjudicate")
    assert triple_status(demo, "ibuprofen", "treats", "gout") == "disputed"


def test_undo_takes_back_a_waiting_verdict_but_not_one_others_have_built_on(demo):
    set_review_overlap(demo, ADA, 2)
    ids = _ids(demo)
    accept(demo, ANN, ids["aspirin"])
    assert undo_last(demo, ANN).startswith("accept")
    assert "aspirin" in _ids(demo, ANN)  # judged no more
    reject(demo, ANN, ids["ibuprofen"])
    accept(demo, ANN, ids["aspirin"])
    accept(demo, BOB, ids["aspirin"])
    # ann's aspirin verdict decided it with bob's: passed over (and said), her ibuprofen one is taken back
    assert undo_last(demo, ANN) == ("reject: ibuprofen —treats→ gout (your later verdicts on aspirin —treats→ gout "
                                    "were decided on by other curators since and stay)")
    with pytest.raises(CURATOR_ERRORS, match="decided on by other curators since"):
        undo_last(demo, ANN)
    assert undo_last(demo, BOB).startswith("accept")  # the deciding verdict: back to waiting for one more
    assert triple_status(demo, "aspirin", "treats", "gout") == "suggested"


def test_lowering_the_overlap_settles_what_already_has_enough_verdicts(demo):
    set_review_overlap(demo, ADA, 3)
    ids = _ids(demo)
    accept(demo, ANN, ids["aspirin"])
    accept(demo, BOB, ids["aspirin"])
    accept(demo, ANN, ids["ibuprofen"])
    reject(demo, BOB, ids["ibuprofen"])
    accept(demo, ANN, ids["paracetamol"])
    assert set_review_overlap(demo, ADA, 2) == 2
    assert [triple_status(demo, h, "treats", "gout") for h in ("aspirin", "ibuprofen", "paracetamol")] == [
        "accepted", "disputed", "suggested"]
    assert "aspirin —treats→ gout — 2 curators agree" in [row.summary for row in history(demo, actions=["settle"])]


def test_one_curator_shortcuts_are_off_while_several_decide(demo):
    set_review_overlap(demo, ADA, 2)
    ids = _ids(demo)
    with pytest.raises(CURATOR_ERRORS, match="accepting in bulk is off"):
        bulk_accept(demo, ANN, min_confidence=0.0)
    with pytest.raises(CURATOR_ERRORS, match="correcting a suggestion"):
        accept_corrected(demo, ANN, ids["aspirin"], head="gout", relation="treats", tail="aspirin")
    with pytest.raises(PermissionDenied):
        set_review_overlap(demo, ANN, 1)
    with pytest.raises(CURATOR_ERRORS, match="between 1 and 5"):
        set_review_overlap(demo, ADA, 0)


def test_a_new_suggest_pass_keeps_a_suggestion_that_waits_for_verdicts(demo):
    set_review_overlap(demo, ADA, 2)
    ids = _ids(demo)
    accept(demo, ANN, ids["paracetamol"])
    with demo.transaction() as session:
        from storage.models import ModelVersion

        version = ModelVersion(name="v9", backbone="x", created_by="ada")
        session.add(version)
        session.flush()
        counts = replace_suggestions(session, version.id, [], "ada")
    assert counts["removed"] == 2  # the two nobody judged
    assert triple_status(demo, "paracetamol", "treats", "gout") == "suggested"


def test_my_next_items_hand_each_suggestion_to_as_many_curators_as_the_overlap(demo):
    ann_first = [s.head for s in my_next_items(demo, ANN, limit=2)]
    assert ann_first == ["aspirin", "ibuprofen"]
    assert [s.head for s in my_next_items(demo, BOB, limit=2)] == ["paracetamol"]  # the rest are ann's for now
    assert [s.head for s in my_next_items(demo, ANN, limit=2)] == ann_first  # asking again keeps one's own
    set_review_overlap(demo, ADA, 2)
    assert [s.head for s in my_next_items(demo, CY, limit=3)] == ["aspirin", "ibuprofen", "paracetamol"]
    accept(demo, ANN, _ids(demo)["aspirin"])
    # aspirin's two seats: ann's verdict and cy's claim; ibuprofen's: ann's and cy's claims; paracetamol has one left
    assert [s.head for s in my_next_items(demo, BOB, limit=3)] == ["paracetamol"]


def test_agreement_per_relation_matches_kappa_and_alpha_computed_by_hand():
    def item(i, relation, **decisions):
        return JudgedItem(i, relation, f"t{i}", "accepted", {c: d for c, d in decisions.items()})

    a, r = "accepted", "rejected"
    items = [item(1, "treats", ann=a, bob=a), item(2, "treats", ann=a, bob=r), item(3, "treats", ann=r, bob=r),
             item(4, "causes", ann=a, bob=a, cy=a), item(5, "causes", ann=r, bob=a), item(6, "causes", ann=r, bob=r, cy=r)]
    by_relation = {x.relation: x for x in agreement_of(items)}
    treats, causes = by_relation["treats"], by_relation["causes"]
    # ann 1,1,0 and bob 1,0,0: p_o = 2/3, p_e = 2/3·1/3 + 1/3·2/3 = 4/9, κ = (2/3 - 4/9) / (1 - 4/9) = 0.4
    assert treats.kappa == pytest.approx(0.4, abs=1e-4)
    # coincidences o11 = 2, o10 = o01 = 1, o00 = 2; n = 6: α = 1 - (2/6) / (2·3·3 / (6·5)) = 4/9
    assert treats.alpha == pytest.approx(4 / 9, abs=1e-4)
    assert treats.agreed == pytest.approx(2 / 3, abs=1e-4) and [d.item_id for d in treats.disagreements] == [2]
    # three curators, cy missing on item 5: o11 = 3, o10 = o01 = 1, o00 = 3; n = 8:
    # α = 1 - (2/8) / (2·4·4 / (8·7)) = 0.5625; no κ (not two curators on the same items)
    assert causes.alpha == pytest.approx(0.5625, abs=1e-4) and causes.kappa is None
    assert causes.figure == ("α", causes.alpha) and not causes.low and treats.figure == ("κ", treats.kappa)
    same = agreement_of([item(7, "x", ann=a, bob=a), item(8, "x", ann=a, bob=a)])[0]
    assert same.alpha is None and same.kappa is None and same.agreed == 1.0  # chance cannot be told apart


def test_agreement_and_counts_come_from_the_stored_verdicts(demo):
    set_review_overlap(demo, ADA, 2)
    ids = _ids(demo)
    for head in ("aspirin", "ibuprofen", "paracetamol"):
        accept(demo, ANN, ids[head])
    accept(demo, BOB, ids["aspirin"])
    reject(demo, BOB, ids["ibuprofen"])
    reject(demo, BOB, ids["paracetamol"])
    [treats] = agreement(demo)
    assert (treats.relation, treats.items, treats.curators, len(treats.disagreements)) == (
        "treats", 3, ["ann", "bob"], 2)
    assert {(c.curator, c.verdicts, c.accepted, c.rejected) for c in curator_counts(demo)} == {
        ("ann", 3, 3, 0), ("bob", 3, 1, 2)}


def test_the_team_page_sets_the_overlap_shows_agreement_and_adjudicates(demo, monkeypatch):
    from knowco.settings import DATABASE_ENV
    from tests.app_helpers import signed_in_page as page

    monkeypatch.setenv(DATABASE_ENV, demo.url)
    app = page("team", "root")
    app.number_input[0].set_value(2)
    app.button[0].click().run()
    assert not app.exception
    ids = _ids(demo)
    accept(demo, ANN, ids["ibuprofen"], "label says so")
    reject(demo, BOB, ids["ibuprofen"], "false")
    review = page("review", "ann")
    assert any("Each suggestion needs 2 curators' verdicts" in c.value for c in review.caption)
    assert review.button(key=next(b.key for b in review.button if b.key.startswith("review_swap_"))).disabled
    app = page("team", "root")
    [table] = [d.value for d in app.dataframe if "differ" in d.value.columns]
    assert table["differ"].tolist() == [1]
    markdown = " ".join(m.value for m in app.markdown)
    assert "**ann**: accepted" in markdown and "**bob**: rejected" in markdown
    app.button(key=f"team_accepted_{ids['ibuprofen']}").click().run()
    assert not app.exception
    assert triple_status(demo, "ibuprofen", "treats", "gout") == "accepted"
