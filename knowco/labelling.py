"""Use cases of the Label page and `python -m knowco label`: reading relations, entities, sentences and labels,
and writing labels. Each write is one transaction with the acting curator's role checked first; deleting a
label is an admin's decision, since a label is what the model learns from.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Optional

from storage import corpus, labels
from storage.corpus import SentenceRow
from storage.database import Database
from storage.labels import EntityInfo, ExampleEdit, ExampleRow, LabelError, RelationInfo
from storage.team import TeamError

from knowco.access import Actor, require
from knowco import label_answers
from knowco.label_answers import after_writing


def list_relations(database: Database) -> list[RelationInfo]:
    with database.sessions() as session:
        return labels.list_relations(session)


def search_entities(database: Database, text: str = "", limit: int = 50) -> list[EntityInfo]:
    with database.sessions() as session:
        return labels.search_entities(session, text, limit)


def get_entity(database: Database, name: str) -> Optional[EntityInfo]:
    with database.sessions() as session:
        return labels.get_entity(session, name)


def list_examples(database: Database, relation: Optional[str] = None) -> list[ExampleRow]:
    with database.sessions() as session:
        return labels.list_examples(session, relation)


def add_triple_label(database: Database, actor: Actor, head: str, relation: str, tail: str, holds: bool) -> int:
    """A triple that holds (or does not); returns the label's id."""
    require(actor, "label")
    with database.transaction() as session:
        return after_writing(session, labels.add_triple_example(session, head, relation, tail, holds, actor.name),
                             actor.name)


HOLDS = {"true": True, "yes": True, "1": True, "holds": True, "false": False, "no": False, "0": False}


def _triple_rows(path: Path) -> list[tuple[int, str, str, str, bool]]:
    """(line, head, relation, tail, holds) of a TSV/CSV file; a header row (head, relation, tail) is skipped."""
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".txt") else ","
    rows = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, cells in enumerate(csv.reader(handle, delimiter=delimiter), start=1):
            cells = [c.strip() for c in cells]
            if len(cells) == 4 and not cells[3]:  # an empty "holds" cell: it holds
                cells = cells[:3]
            if not any(cells) or (line == 1 and [c.lower() for c in cells[:3]] == ["head", "relation", "tail"]):
                continue
            if len(cells) not in (3, 4) or (len(cells) == 4 and cells[3].lower() not in HOLDS):
                raise LabelError(f"{path.name} line {line}: expected head, relation, tail and optionally whether it "
                                 f"holds (true/false, yes/no, 1/0); got {len(cells)} cells")
            rows.append((line, *cells[:3], HOLDS[cells[3].lower()] if len(cells) == 4 else True))
    return rows


def import_triple_labels(database: Database, actor: Actor, path: Path) -> int:
    """Triple labels from a TSV or CSV file (`python -m knowco label import`): all of them or none; an error
    names its line. Returns how many were added."""
    require(actor, "label")
    rows = _triple_rows(path)
    with database.transaction() as session:
        for line, head, relation, tail, holds in rows:
            try:
                after_writing(session, labels.add_triple_example(session, head, relation, tail, holds, actor.name),
                              actor.name)
            except (LabelError, TeamError) as exc:
                raise LabelError(f"{path.name} line {line}: {exc}; nothing was imported") from exc
    return len(rows)


def add_sentence_label(database: Database, actor: Actor, sentence_id: int, head: tuple[int, int],
                       tail: tuple[int, int], relation: Optional[str]) -> int:
    """The relation a sentence states between two mentions (None: no relation); returns the label's id."""
    require(actor, "label")
    with database.transaction() as session:
        return after_writing(session, labels.add_sentence_example(session, sentence_id, head, tail, relation,
                                                                  actor.name), actor.name)


def edit_labels(database: Database, actor: Actor, edits: list[ExampleEdit]) -> None:
    """A table's worth of edits: all of them or none; deleting needs an admin."""
    require(actor, "label")
    if any(edit.delete for edit in edits):
        require(actor, "delete_label")
    with database.transaction() as session:
        label_answers.edit_labels(session, edits, actor.name, adjudicator=actor.may("adjudicate"))


def add_sentence(database: Database, actor: Actor, text: str) -> int:
    """A sentence typed by the curator, to label it; returns its id."""
    require(actor, "label")
    with database.transaction() as session:
        return corpus.add_sentence(session, text, actor.name)


def find_sentences(database: Database, contains: str = "", limit: int = 50) -> list[SentenceRow]:
    with database.sessions() as session:
        return corpus.find_sentences(session, contains, limit)


def get_sentence(database: Database, sentence_id: int) -> Optional[SentenceRow]:
    with database.sessions() as session:
        return corpus.get_sentence(session, sentence_id)
