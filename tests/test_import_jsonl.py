"""SemEval-style sentences become labelled sentence examples and their entities."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from engine.verbalizer import label_words
from knowco.services import Actor, import_file
from storage.importers import ImportFailed
from storage.models import Example, Relation, Sentence


def _line(tokens, h, t, relation):
    return json.dumps({"token": tokens, "h": {"name": " ".join(tokens[h[0]:h[1]]), "pos": h},
                       "t": {"name": " ".join(tokens[t[0]:t[1]]), "pos": t}, "relation": relation})


def test_semeval_test_split(db, semeval_dir):
    report = import_file(db, Actor("u", "admin"), semeval_dir / "test.txt")
    assert report.created["sentence examples"] == 2717
    with db.sessions() as session:
        relations = set(session.scalars(select(Relation.name)))
        no_relation = session.scalar(select(func.count()).select_from(Example).where(Example.relation_id.is_(None)))
        cause = session.execute(select(Relation.name, Relation.label).where(Relation.name.like("Cause-Effect%"))).all()
    # the 18 directed labels are 9 relations; the direction is which mention is the head
    assert len(relations) == 9 and "Other" not in relations
    assert no_relation == 454
    assert cause == [("Cause-Effect", "cause effect")]
    # the model's label words are the engine's choice, made from the name when a model is built
    assert label_words(*cause[0]) == "cause effect"
    again = import_file(db, Actor("u", "admin"), semeval_dir / "test.txt")
    assert not any(again.created.values())


def test_spans_and_no_relation(db, tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(_line(["aspirin", "relieves", "bad", "pain", "."], (0, 1), (2, 4), "treats") + "\n"
                    + _line(["aspirin", "and", "ibuprofen"], (0, 1), (2, 3), "Other") + "\n", encoding="utf-8")
    import_file(db, Actor("u", "admin"), path)
    with db.sessions() as session:
        examples = session.scalars(select(Example).order_by(Example.id)).all()
        sentence = session.get(Sentence, examples[0].sentence_id)
    assert (examples[0].head_start, examples[0].head_end, examples[0].tail_start, examples[0].tail_end) == (0, 1, 2, 4)
    assert sentence.tokens[2:4] == ["bad", "pain"]
    assert examples[1].relation_id is None


def test_a_directed_label_makes_its_first_named_mention_the_head(db, tmp_path):
    path = tmp_path / "s.jsonl"
    tokens = ["the", "flu", "was", "caused", "by", "a", "virus"]
    path.write_text(_line(tokens, (1, 2), (6, 7), "Cause-Effect(e2,e1)") + "\n"
                    + _line(["smoke", "causes", "cancer"], (0, 1), (2, 3), "Cause-Effect(e1,e2)") + "\n",
                    encoding="utf-8")
    import_file(db, Actor("u", "admin"), path)
    with db.sessions() as session:
        examples = session.scalars(select(Example).order_by(Example.id)).all()
        names = set(session.scalars(select(Relation.name)))
    assert names == {"Cause-Effect"}
    assert (examples[0].head_start, examples[0].head_end, examples[0].tail_start, examples[0].tail_end) == (6, 7, 1, 2)
    assert (examples[1].head_start, examples[1].tail_start) == (0, 2)


@pytest.mark.parametrize(
    "line, reason",
    [
        ("{not json", "not valid JSON"),
        ('{"token": [], "h": {"pos": [0, 1]}, "t": {"pos": [0, 1]}, "relation": "r"}', '"token" must be'),
        ('{"token": ["a", "b"], "h": {"name": "a", "pos": [0, 5]}, "t": {"name": "b", "pos": [1, 2]}, "relation": "r"}',
         "outside the 2 tokens"),
        ('{"token": ["a", "b"], "h": {"name": "a", "pos": [0, 1]}, "t": {"name": "b", "pos": [1, 2]}}',
         '"relation" must be'),
    ],
)
def test_bad_lines_are_reported_and_nothing_is_written(db, tmp_path, line, reason):
    path = tmp_path / "bad.jsonl"
    path.write_text(_line(["a", "b"], (0, 1), (1, 2), "r") + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failure:
        import_file(db, Actor("u", "admin"), path)
    assert failure.value.line == 2 and reason in failure.value.reason
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Sentence)) == 0
