"""Repairing the vocabulary: merge duplicate entities or relations (facts and labels re-pointed, names kept as
aliases, the history told), rename a relation, delete an entity or relation only on the counts the curator saw;
from the services and the command line."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from knowco.cli import main
from knowco.errors import CURATOR_ERRORS, PermissionDenied
from knowco.services import (Actor, Footprint, add_triple_label, delete_entity, delete_relation, entity_footprint,
                             get_entity, history, import_file, list_examples, list_relations, merge_entities, merge_relations,
                             relation_footprint, rename_relation)
from storage.models import Triple
from tests.storage_helpers import queued, triple_status

ADMIN, CURATOR = Actor("ann", "admin"), Actor("cy", "curator")
KG = """aspirin\ttreats\theadache
acetylsalicylic acid\ttreats\theadache
acetylsalicylic acid\ttreats\tfever
acetylsalicylic acid\tcures\tfever
aspirin\tinteracts_with\tacetylsalicylic acid
warfarin\tcures\tclots
colchicine\ttreats\tgout
"""


@pytest.fixture
def kg(db, tmp_path):
    (tmp_path / "kg.tsv").write_text(KG, encoding="utf-8")
    import_file(db, ADMIN, tmp_path / "kg.tsv")
    return db


def _facts(db) -> set[tuple[str, str, str]]:
    with db.sessions() as session:
        return {(t.head.name, t.relation.name, t.tail.name) for t in session.scalars(select(Triple))
                if t.status == "accepted"}


def test_a_merge_is_previewed_without_changing_anything(kg):
    from knowco.services import preview_merge

    before = _facts(kg)
    preview = preview_merge(kg, "entity", "acetylsalicylic acid", "aspirin")
    assert preview.counts["self-loops dropped"] == 1 and preview.type_clash is None
    assert "aspirin —interacts_with→ acetylsalicylic acid (accepted)" in preview.dropped
    assert _facts(kg) == before and get_entity(kg, "acetylsalicylic acid") is not None
    assert history(kg, actions=["merge"]) == []


def test_merging_two_names_of_one_entity(kg):
    add_triple_label(kg, ADMIN, "acetylsalicylic acid", "treats", "fever", True)
    queued(kg, [("acetylsalicylic acid", "treats", "clots", 0.7)])
    counts = merge_entities(kg, ADMIN, "acetylsalicylic acid", "aspirin")
    assert counts["duplicate triples dropped"] == 1  # aspirin already treats headache
    assert counts["self-loops dropped"] == 1  # aspirin interacts_with aspirin means nothing
    assert _facts(kg) == {("aspirin", "treats", "headache"), ("aspirin", "treats", "fever"),
                          ("aspirin", "cures", "fever"), ("warfarin", "cures", "clots"),
                          ("colchicine", "treats", "gout")}
    assert triple_status(kg, "aspirin", "treats", "clots") == "suggested"
    assert get_entity(kg, "acetylsalicylic acid") is None
    assert "acetylsalicylic acid" in get_entity(kg, "aspirin").aliases  # its mentions are still found
    [label] = list_examples(kg)
    assert (label.head, label.relation, label.tail) == ("aspirin", "treats", "fever")
    [event] = history(kg, actions=["merge"])
    assert event.summary.startswith("entity acetylsalicylic acid into aspirin: ")
    assert "aspirin —interacts_with→ acetylsalicylic acid (accepted)" in event.details["dropped"]
    assert event.details["source"]["name"] == "acetylsalicylic acid"


def test_a_merge_keeps_the_evidence_and_never_settles_a_disagreement_silently(kg):
    from knowco.services import evidence, find_sentences, import_document, queue, retract

    import_document(kg, ADMIN, "notes.txt", b"Acetylsalicylic acid relieves gout.")
    [sentence] = find_sentences(kg, "relieves")
    queued(kg, [("acetylsalicylic acid", "treats", "gout", 0.8), ("aspirin", "treats", "gout", 0.6)],
           evidence={("acetylsalicylic acid", "treats", "gout"): [(sentence.id, 0, 2, 3, 4, 0.8)]})
    retract(kg, ADMIN, "aspirin", "treats", "headache", "not in the source")
    counts = merge_entities(kg, ADMIN, "acetylsalicylic acid", "aspirin")
    assert counts["conflicting decisions kept as the target had them"] == 1  # accepted there, retracted here
    assert triple_status(kg, "aspirin", "treats", "headache") == "retracted"
    [gout] = [s for s in queue(kg) if s.tail == "gout"]
    assert len(evidence(kg, gout.id).sentences) == 1  # the dropped duplicate's sentence moved over


def test_merging_relations_and_renaming_one(kg):
    counts = merge_relations(kg, ADMIN, "cures", "treats")
    assert {k: n for k, n in counts.items() if n} == {"triples re-pointed": 1, "duplicate triples dropped": 1}
    assert ("warfarin", "treats", "clots") in _facts(kg) and "cures" not in {r.name for r in list_relations(kg)}
    assert rename_relation(kg, ADMIN, "treats", "may_treat", "may treat") == "may_treat"
    assert {r.name: r.label for r in list_relations(kg)}["may_treat"] == "may treat"
    with pytest.raises(CURATOR_ERRORS, match="already a relation named 'may_treat'"):
        rename_relation(kg, ADMIN, "interacts_with", "may_treat")


def test_a_delete_goes_through_only_on_the_counts_the_curator_saw(kg):
    seen = entity_footprint(kg, "fever")
    assert seen == Footprint(facts=2, suggestions=0, rejected=0, labels=0)
    add_triple_label(kg, ADMIN, "warfarin", "treats", "fever", False)  # someone labels meanwhile
    with pytest.raises(CURATOR_ERRORS, match="not what was confirmed"):
        delete_entity(kg, ADMIN, "fever", seen)
    assert get_entity(kg, "fever") is not None
    removed = delete_entity(kg, ADMIN, "fever", entity_footprint(kg, "fever"))
    assert removed.labels == 1 and get_entity(kg, "fever") is None
    assert not any("fever" in fact for fact in _facts(kg))
    with pytest.raises(PermissionDenied):
        delete_relation(kg, CURATOR, "cures", relation_footprint(kg, "cures"))
    delete_relation(kg, ADMIN, "cures", relation_footprint(kg, "cures"))
    assert ("warfarin", "cures", "clots") not in _facts(kg)
    assert history(kg, actions=["delete"])[0].summary.startswith("relation cures with 1 facts")


def test_repairs_from_the_command_line(kg, capsys):
    url = kg.url
    assert main(["--db", url, "delete", "entity", "clots"]) == 1
    assert "would delete entity clots with 1 accepted facts" in capsys.readouterr().out
    assert get_entity(kg, "clots") is not None
    assert main(["--db", url, "delete", "entity", "clots", "--yes"]) == 0
    assert get_entity(kg, "clots") is None
    assert main(["--db", url, "merge", "entity", "acetylsalicylic acid", "aspirin"]) == 0
    assert "merged entity acetylsalicylic acid into aspirin" in capsys.readouterr().out
    assert main(["--db", url, "rename-relation", "cures", "heals"]) == 0
    assert main(["--db", url, "merge", "relation", "nothing", "treats"]) == 2
    assert "there is no relation named 'nothing'" in capsys.readouterr().err


def test_marking_a_relation_functional_says_which_heads_contradict_it(kg, capsys):
    assert main(["--db", kg.url, "mark-relation", "treats", "--functional", "yes"]) == 0
    assert "note: 1 head has more than one treats fact already" in capsys.readouterr().out


def test_marking_a_relation_from_the_command_line_is_recorded(kg, capsys):
    assert main(["--db", kg.url, "mark-relation", "interacts_with", "--symmetric", "yes"]) == 0
    assert "interacts_with: functional no, symmetric yes, one head per tail no" in capsys.readouterr().out
    assert [r.symmetric for r in list_relations(kg) if r.name == "interacts_with"] == [True]
    assert history(kg, actions=["mark"])[0].summary == "interacts_with: symmetric"
    with kg.sessions() as session:
        from knowco.suggest import _read_inputs

        class Model:
            index = {"interacts_with": 0, "treats": 1, "cures": 2}

        assert "interacts_with" in _read_inputs(session, Model(), None).symmetric
