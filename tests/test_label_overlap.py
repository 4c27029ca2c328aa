"""Second opinions on labels (issue 13, item 1 for label tasks): with a label overlap above 1 a label trains the
model only once enough curators give the same answer, blind; differing answers go to an adjudicator; agreement on
label tasks is measured; lowering the overlap settles what already has enough answers."""
from __future__ import annotations

import pytest

from knowco.errors import CURATOR_ERRORS, PermissionDenied
from rdflib import Graph, Literal

from knowco.services import (DOES_NOT_HOLD, HOLDS, NO_RELATION_CHOICE, Actor, ExampleEdit, add_sentence,
                             add_sentence_label, add_triple_label, adjudicate_label, answer_label_task,
                             delete_relation, disputed_labels, edit_labels, export_file, get_sentence, history,
                             label_agreement, label_tasks_waiting, list_examples, merge_relations,
                             relation_footprint, retract, seed_demo, set_label_overlap, statistics, undo_last)
from storage.rdf_vocab import KC
from knowco.team import agreement_of
from storage.labels import training_data
from storage.team import JudgedItem

ANN, BOB, CY = Actor("ann", "curator"), Actor("bob", "curator"), Actor("cy", "curator")
ADA = Actor("ada", "admin")


@pytest.fixture
def demo(db):
    seed_demo(db, Actor("seeder", "admin"))
    return db


def _trains(database, head: str, relation: str, tail: str):
    """Whether the triple is among the labels a retrain reads, and with which answer (None: not there)."""
    with database.sessions() as session:
        found = [holds for _, h, r, t, holds in training_data(session).triples if (h, r, t) == (head, relation, tail)]
    return found[0] if found else None


def _status(database, example_id: int) -> str:
    return next(x.status for x in list_examples(database) if x.id == example_id)


def test_a_label_trains_the_model_once_two_curators_agree_blind(demo):
    set_label_overlap(demo, ADA, 2)
    before = statistics(demo).examples_by_relation["treats"].positive_triples
    example_id = add_triple_label(demo, ANN, "aspirin", "treats", "gout", True)
    assert _status(demo, example_id) == "pending" and _trains(demo, "aspirin", "treats", "gout") is None
    assert statistics(demo).examples_by_relation["treats"].positive_triples == before  # counts only what trains
    assert label_tasks_waiting(demo, ANN) == ([], 0)  # the author's answer is in
    [task], total = label_tasks_waiting(demo, BOB)
    assert total == 1 and (task.kind, task.head, task.relation, task.tail) == ("triple", "aspirin", "treats", "gout")
    # the History page does not tell bob what ann answered before he answers; ann sees her own label
    [told_bob] = [r for r in history(demo, actions=["label"], viewer="bob") if r.target_id == example_id]
    [told_ann] = [r for r in history(demo, actions=["label"], viewer="ann") if r.target_id == example_id]
    assert (told_bob.summary, told_bob.details) == ("others' answer, hidden until you give yours", {})
    assert told_ann.summary == "aspirin —treats→ gout holds"
    said = answer_label_task(demo, BOB, example_id, HOLDS, "in the guideline").words()
    assert said == "2 curators agree (holds): the label trains the model"
    assert _status(demo, example_id) == "settled" and _trains(demo, "aspirin", "treats", "gout") is True
    assert statistics(demo).examples_by_relation["treats"].positive_triples == before + 1
    with pytest.raises(CURATOR_ERRORS, match="settled or disputed already"):
        answer_label_task(demo, CY, example_id, DOES_NOT_HOLD)
    assert [r.summary for r in history(demo, actions=["label"], viewer="bob") if r.target_id == example_id] == [
        "aspirin —treats→ gout holds"]  # answered: nothing to hide any more
    summaries = [row.summary for row in history(demo, actions=["label_opinion"])]
    assert summaries == ["does aspirin —treats→ gout hold? holds “in the guideline” — 2 curators agree: the label "
                         "trains the model"]


def test_different_answers_go_to_an_adjudicator_who_settles_the_label(demo):
    set_label_overlap(demo, ADA, 2)
    example_id = add_triple_label(demo, ANN, "ibuprofen", "treats", "gout", True)
    said = answer_label_task(demo, BOB, example_id, DOES_NOT_HOLD, "no trial").words()
    assert said == "the curators' answers differ: the label goes to adjudication (Team page)"
    assert _status(demo, example_id) == "disputed" and _trains(demo, "ibuprofen", "treats", "gout") is None
    [waiting] = disputed_labels(demo)
    assert [(o.curator, o.answer, o.comment) for o in waiting.opinions] == [
        ("ann", HOLDS, None), ("bob", DOES_NOT_HOLD, "no trial")]
    with pytest.raises(PermissionDenied):
        adjudicate_label(demo, ANN, example_id, HOLDS)
    with pytest.raises(CURATOR_ERRORS, match="answer is"):
        adjudicate_label(demo, ADA, example_id, "maybe")
    assert adjudicate_label(demo, ADA, example_id, DOES_NOT_HOLD, "bob is right") == DOES_NOT_HOLD
    assert _trains(demo, "ibuprofen", "treats", "gout") is False and disputed_labels(demo) == []
    [event] = history(demo, actions=["adjudicate_label"])
    assert event.summary == ("does ibuprofen —treats→ gout hold? does not hold, where ann holds; bob does not hold "
                             "“no trial”")
    assert undo_last(demo, ADA) is None  # the Review page's undo takes back verdicts, never a label's settlement
    assert _trains(demo, "ibuprofen", "treats", "gout") is False


def test_sentence_tasks_are_answered_with_a_relation_and_agreement_counts_every_relation(demo):
    set_label_overlap(demo, ADA, 2)
    sentence_id = add_sentence(demo, ANN, "Aspirin relieves the pain of gout .")
    tokens = get_sentence(demo, sentence_id).tokens
    head, tail = (tokens.index("Aspirin"), tokens.index("Aspirin") + 1), (tokens.index("gout"), tokens.index("gout") + 1)
    example_id = add_sentence_label(demo, ANN, sentence_id, head, tail, "treats")
    [task], _ = label_tasks_waiting(demo, BOB)
    assert task.kind == "sentence" and task.relation is None and (task.head_span, task.tail_span) == (head, tail)
    # bob labels the same mentions on his own: that is his answer to the task, not a second label
    assert add_sentence_label(demo, BOB, sentence_id, head, tail, None) == example_id
    assert _status(demo, example_id) == "disputed"
    [measured] = [a for a in label_agreement(demo) if a.relation == "sentence labels"]
    assert (measured.items, measured.curators, len(measured.disagreements)) == (1, ["ann", "bob"], 1)
    adjudicate_label(demo, ADA, example_id, NO_RELATION_CHOICE)
    [row] = [x for x in list_examples(demo) if x.id == example_id]
    assert (row.status, row.relation) == ("settled", None)


def test_lowering_the_overlap_settles_labels_with_enough_answers_and_pending_answers_cannot_be_edited(demo):
    set_label_overlap(demo, ADA, 3)
    agreed = add_triple_label(demo, ANN, "aspirin", "treats", "gout", True)
    answer_label_task(demo, BOB, agreed, HOLDS)
    alone = add_triple_label(demo, ANN, "paracetamol", "treats", "gout", False)
    with pytest.raises(CURATOR_ERRORS, match="cannot be changed here"):
        edit_labels(demo, ANN, [ExampleEdit(alone, holds=True)])
    edit_labels(demo, ANN, [ExampleEdit(alone, comment="a comment is fine")])
    with pytest.raises(PermissionDenied):
        set_label_overlap(demo, ANN, 2)
    assert set_label_overlap(demo, ADA, 2) == 1
    assert (_status(demo, agreed), _status(demo, alone)) == ("settled", "pending")
    assert set_label_overlap(demo, ADA, 1) == 1 and _trains(demo, "paracetamol", "treats", "gout") is False


def test_only_an_admin_changes_a_settled_label_alone_and_retracting_a_fact_settles_its_waiting_label(demo):
    set_label_overlap(demo, ADA, 2)
    agreed = add_triple_label(demo, ANN, "aspirin", "treats", "gout", True)
    answer_label_task(demo, BOB, agreed, HOLDS)
    with pytest.raises(CURATOR_ERRORS, match="an admin's decision"):
        edit_labels(demo, CY, [ExampleEdit(agreed, holds=False)])
    edit_labels(demo, ADA, [ExampleEdit(agreed, holds=False)])
    assert _trains(demo, "aspirin", "treats", "gout") is False
    # headache is an accepted fact of the demo; a label waiting for a second answer says it holds
    waiting = add_triple_label(demo, ANN, "aspirin", "treats", "headache", True)
    retract(demo, BOB, "aspirin", "treats", "headache", "the source was retracted")
    assert (_status(demo, waiting), _trains(demo, "aspirin", "treats", "headache")) == ("settled", False)
    with pytest.raises(CURATOR_ERRORS, match="settled or disputed already"):
        answer_label_task(demo, CY, waiting, HOLDS)  # a late answer would teach the retracted fact again
    undo_last(demo, BOB)
    assert _status(demo, waiting) == "pending" and _trains(demo, "aspirin", "treats", "headache") is None


def test_merging_or_deleting_a_relation_keeps_the_answers_consistent(demo):
    set_label_overlap(demo, ADA, 2)
    sentence_id = add_sentence(demo, ANN, "Aspirin relieves the pain of gout .")
    tokens = get_sentence(demo, sentence_id).tokens
    spans = [(tokens.index(w), tokens.index(w) + 1) for w in ("Aspirin", "relieves", "pain", "gout")]
    merged = add_sentence_label(demo, ANN, sentence_id, spans[0], spans[3], "treats")
    answer_label_task(demo, BOB, merged, "affects")
    deleted = add_sentence_label(demo, ANN, sentence_id, spans[1], spans[2], "risk_factor_for")
    answer_label_task(demo, BOB, deleted, "symptom_of")
    assert (_status(demo, merged), _status(demo, deleted)) == ("disputed", "disputed")
    merge_relations(demo, ADA, "affects", "treats")  # the two answers now say the same
    [row] = [x for x in list_examples(demo) if x.id == merged]
    assert (row.status, row.relation) == ("settled", "treats")
    delete_relation(demo, ADA, "symptom_of", relation_footprint(demo, "symptom_of"))
    assert _status(demo, deleted) == "pending"  # bob's answer named a relation that is gone: he is asked again
    [task], _ = label_tasks_waiting(demo, BOB)
    assert task.example_id == deleted


def test_agreement_waits_until_nobody_is_still_asked_and_rdf_marks_unsettled_labels(demo, tmp_path):
    set_label_overlap(demo, ADA, 3)
    example_id = add_triple_label(demo, ANN, "aspirin", "treats", "gout", True)
    answer_label_task(demo, BOB, example_id, DOES_NOT_HOLD)
    assert label_agreement(demo) == []  # cy, still to answer, must not see ann's and bob's answers here
    out = tmp_path / "kg.ttl"
    export_file(demo, ADA, out)
    graph = Graph().parse(out)
    assert list(graph.subjects(KC.status, Literal("pending")))  # a waiting label is not exported as settled
    answer_label_task(demo, CY, example_id, HOLDS)
    [measured] = label_agreement(demo)
    assert (measured.relation, measured.items, measured.curators) == ("treats", 1, ["ann", "bob", "cy"])


def test_with_an_overlap_of_one_a_label_trains_at_once_as_before(demo):
    example_id = add_triple_label(demo, ANN, "aspirin", "treats", "gout", True)
    assert _status(demo, example_id) == "settled" and _trains(demo, "aspirin", "treats", "gout") is True
    with pytest.raises(CURATOR_ERRORS, match="already labelled"):
        add_triple_label(demo, BOB, "aspirin", "treats", "gout", False)


def test_agreement_over_several_answers_matches_kappa_and_alpha_computed_by_hand():
    def item(i, **answers):
        return JudgedItem(i, "sentence labels", f"s{i}", "settled", answers)

    [measured] = agreement_of([item(1, ann="A", bob="A"), item(2, ann="A", bob="B"), item(3, ann="B", bob="C"),
                               item(4, ann="C", bob="C")])
    # coincidences AA 2, AB = BA 1, BC = CB 1, CC 2; n = 8, n_A = 3, n_B = 2, n_C = 3:
    # D_o = 4/8, D_e = (64 - 9 - 4 - 9) / (8·7) = 0.75, α = 1 - 0.5 / 0.75 = 1/3
    assert measured.alpha == pytest.approx(1 / 3, abs=1e-4)
    # p_o = 2/4; ann A,A,B,C and bob A,B,C,C: p_e = 2/4·1/4 + 1/4·1/4 + 1/4·2/4 = 5/16; κ = (1/2 - 5/16) / (11/16)
    assert measured.kappa == pytest.approx(3 / 11, abs=1e-4)


def test_the_label_page_asks_blind_and_the_team_page_adjudicates(demo, monkeypatch):
    from knowco.settings import DATABASE_ENV
    from tests.app_helpers import signed_in_page as page

    monkeypatch.setenv(DATABASE_ENV, demo.url)
    app = page("team", "root")
    [_, labels] = app.number_input
    labels.set_value(2)
    app.button[0].click().run()
    assert not app.exception and "Each label now needs 2 answers" in [t.value for t in app.toast]
    first = add_triple_label(demo, ANN, "aspirin", "treats", "gout", True)
    second = add_triple_label(demo, ANN, "ibuprofen", "treats", "gout", True)
    app = page("label", "bob")
    app.selectbox(key="label_relation").set_value("treats").run()
    assert [t.label for t in app.tabs][-1] == "Waiting for your answer"
    assert any("2 labels other curators entered wait for your answer" in c.value for c in app.caption)
    assert "ann" not in app.dataframe[0].value["by"].tolist()  # ann's answers stay hidden until bob gives his
    app.button(key=f"label_wait_yes_{first}").click().run()
    assert not app.exception and _status(demo, first) == "settled"
    app.button(key=f"label_wait_no_{second}").click().run()
    assert not app.exception and _status(demo, second) == "disputed"
    overview = " ".join(m.value for m in page("overview", "root").markdown)
    assert "1 verdict per suggestion, 2 answers per label" in overview and "**1 label disputed**" in overview
    app = page("team", "root")
    markdown = " ".join(m.value for m in app.markdown)
    assert "**ann**: holds" in markdown and "**bob**: does not hold" in markdown
    assert app.button(key=f"team_label_settle_{second}").disabled  # nothing chosen for the adjudicator
    app.selectbox(key=f"team_label_answer_{second}").set_value(DOES_NOT_HOLD).run()
    app.button(key=f"team_label_settle_{second}").click().run()
    assert not app.exception and _status(demo, second) == "settled"
    assert _trains(demo, "ibuprofen", "treats", "gout") is False
