"""Accept many at once with a stated precision: a frozen slice, a stratified sample judged with ordinary verdicts,
the estimate of the rest, accepting the rest with its provenance, one undo, and the refusals."""
from __future__ import annotations

import pytest

from knowco.services import Actor, accept, history, list_relations, reject, seed_demo, undo_last
from knowco.spot_checks import SpotCheckError, accept_rest, open_spot_checks, spot_check, start_spot_check
from storage.models import Triple
from tests.storage_helpers import queued

ANN = Actor("ann", "curator")


@pytest.fixture
def slice_db(db):
    seed_demo(db, Actor("seeder", "admin"))
    with db.sessions() as session:
        from sqlalchemy import select
        from storage.models import Entity

        names = list(session.scalars(select(Entity.name).order_by(Entity.name)))
    pairs = [(names[i], names[j]) for i in range(0, 40) for j in range(60, 64)][:120]
    queued(db, [(h, "interacts_with", t, 0.5 + 0.5 * k / 120) for k, (h, t) in enumerate(pairs)]
           + [("aspirin", "treats", "gout", 0.95)])
    return db


def _judge_sample(db, view, holds):
    for item in view.sample:
        if holds(item):
            accept(db, ANN, item.triple_id)
        else:
            reject(db, ANN, item.triple_id, "false")


def _exports_carry_the_sign_off(db, folder, check_id):
    import pandas as pd
    from rdflib import Graph, Literal
    from rdflib.namespace import XSD

    from knowco.services import export_file
    from storage.rdf_vocab import KC

    admin = Actor("root", "admin")
    export_file(db, admin, folder / "kg.csv")
    stated = pd.read_csv(folder / "kg.csv")["spot_check"].dropna()
    assert len(stated) == 100 and stated.iloc[0].startswith(f"spot check {check_id} of 120 (interacts_with, ")
    assert "signed off by ann at " in stated.iloc[0]
    export_file(db, admin, folder / "kg.ttl")
    graph = Graph().parse(folder / "kg.ttl")
    checks = set(graph.objects(None, KC.acceptedBySpotCheck))
    assert len(checks) == 1 and len(list(graph.subjects(KC.acceptedBySpotCheck, next(iter(checks))))) == 100
    precision = graph.value(next(iter(checks)), KC.statedPrecision)
    assert isinstance(precision, Literal) and precision.datatype == XSD.double and 0 < precision.toPython() <= 1


def test_a_spot_check_states_the_rest_s_precision_and_accepts_it_with_its_provenance(slice_db, tmp_path):
    view = start_spot_check(slice_db, ANN, relation="interacts_with", min_confidence=0.5, sample_size=20, seed=3)
    assert view.size == 120 and len(view.sample) == 20 and view.estimate.rest == 100
    assert "judge at least one" in view.words()
    _judge_sample(slice_db, view, holds=lambda item: item.confidence >= 0.6)
    view = spot_check(slice_db, view.id)
    assert view.judged == 20 and view.estimate.precision is not None
    assert view.estimate.low < view.estimate.precision < view.estimate.high <= 1.0
    assert view.words().startswith("accept these 100: about ")
    said = accept_rest(slice_db, ANN, view.id)
    assert said.startswith("accepted 100 suggestions of interacts_with, confidence 0.50–1.00 when frozen: about ")
    with slice_db.sessions() as session:
        from sqlalchemy import func, select

        marked = session.scalar(select(func.count()).where(Triple.spot_check_id == view.id))
        treats = session.scalar(select(Triple.status).join(Triple.relation).where(Triple.relation.has(name="treats"),
                                                                                  Triple.source == "model"))
    assert marked == 100 and treats == "suggested"  # the slice, nothing beyond it
    assert spot_check(slice_db, view.id).status == "accepted" and not open_spot_checks(slice_db)
    with pytest.raises(SpotCheckError, match="signed off already"):
        accept_rest(slice_db, ANN, view.id)
    _exports_carry_the_sign_off(slice_db, tmp_path, view.id)
    assert undo_last(slice_db, ANN).startswith("accept the rest of a spot check: ")
    with slice_db.sessions() as session:
        assert session.scalar(select(func.count()).where(Triple.spot_check_id == view.id)) == 0
        assert session.scalar(select(func.count()).where(Triple.status == "suggested")) == 101
    assert spot_check(slice_db, view.id).status == "open"
    signed = [row for row in history(slice_db, actions=["accept_spot_check"])]
    assert len(signed) == 1 and signed[0].undone  # the History page's "undone" column


def test_two_curators_asking_for_one_slice_judge_one_sample(slice_db):
    bob = Actor("bob", "curator")
    first = start_spot_check(slice_db, ANN, relation="interacts_with", sample_size=10, seed=1)
    second = start_spot_check(slice_db, bob, relation="interacts_with", sample_size=20, seed=2)
    assert second.joined and not first.joined
    assert (second.id, second.created_by, [i.triple_id for i in second.sample]) == \
        (first.id, "ann", [i.triple_id for i in first.sample])
    other = start_spot_check(slice_db, bob, relation="interacts_with", min_confidence=0.7, sample_size=5, seed=2)
    assert other.id != first.id and not other.joined  # another slice is another check
    assert len(open_spot_checks(slice_db)) == 2


def test_the_interval_width_a_team_wants_is_a_setting(slice_db):
    from knowco.spot_checks import set_wanted_width, wanted_width

    view = start_spot_check(slice_db, ANN, relation="interacts_with", sample_size=20, seed=3)
    _judge_sample(slice_db, view, holds=lambda item: True)
    view = spot_check(slice_db, view.id)
    assert wanted_width(slice_db) == 0.15
    assert not view.narrow_enough(wanted_width(slice_db))  # 20 of 20 held: still about 0.2 wide
    assert set_wanted_width(slice_db, ANN, 0.3).startswith("spot checks may stop once their interval is 30% wide")
    assert view.narrow_enough(wanted_width(slice_db))
    with pytest.raises(SpotCheckError, match="between 1 and 100"):
        set_wanted_width(slice_db, ANN, 0)
    with pytest.raises(Exception, match="review"):
        set_wanted_width(slice_db, Actor("viewer", "viewer"), 0.2)


def test_nothing_is_accepted_where_the_sample_held_nothing_or_a_band_is_unjudged(slice_db):
    view = start_spot_check(slice_db, ANN, relation="interacts_with", sample_size=10, seed=1)
    with pytest.raises(SpotCheckError, match="judge at least one suggestion of each confidence band"):
        accept_rest(slice_db, ANN, view.id)
    _judge_sample(slice_db, view, holds=lambda item: False)
    with pytest.raises(SpotCheckError, match="none of the 10 suggestions checked holds: nothing is accepted"):
        accept_rest(slice_db, ANN, view.id)


def test_a_slice_smaller_than_the_sample_is_judged_whole_and_an_empty_one_is_refused(slice_db):
    view = start_spot_check(slice_db, ANN, relation="treats", sample_size=40)
    assert view.size == 1 and [i.words for i in view.sample] == ["aspirin —treats→ gout"]
    assert view.estimate.rest == 0 and view.words().startswith("nothing is left to accept")
    with pytest.raises(SpotCheckError, match="no pending suggestion"):
        start_spot_check(slice_db, ANN, relation="treats", min_confidence=0.99)
    assert [r.name for r in list_relations(slice_db)]  # the database is intact


def test_the_graph_s_reason_for_a_suggestion_is_exported_with_it(db, tmp_path):
    import pandas as pd
    from rdflib import Graph

    from knowco.services import export_file
    from storage.rdf_vocab import KC

    seed_demo(db, Actor("seeder", "admin"))
    pattern = {"rule": "interacts_with ∘ member_of_class ⇒ member_of_class", "support": 12, "linked": 13,
               "confidence": 0.87, "body": [["interacts_with", True], ["member_of_class", True]],
               "relation": "member_of_class"}
    weak = dict(pattern, support=2, linked=2)
    queued(db, [("aspirin", "member_of_class", "statin", 0.7), ("ibuprofen", "member_of_class", "statin", 0.6)],
           opinions={("aspirin", "member_of_class", "statin"): {"text": 0.7, "pattern": pattern},
                     ("ibuprofen", "member_of_class", "statin"): {"text": 0.6, "pattern": weak}})
    admin = Actor("root", "admin")
    export_file(db, admin, tmp_path / "kg.csv", include_suggested=True)
    rows = pd.read_csv(tmp_path / "kg.csv")
    rows = rows[rows["tail"] == "statin"].set_index("head")
    assert rows.loc["aspirin", "pattern"] == "interacts_with ∘ member_of_class ⇒ member_of_class: 12 of 13"
    assert pd.isna(rows.loc["ibuprofen", "pattern"])  # two supporting pairs are no reason to give
    export_file(db, admin, tmp_path / "kg.ttl", include_suggested=True)
    assert len(list(Graph().parse(tmp_path / "kg.ttl").objects(None, KC.becausePattern))) == 1
