"""The curator's labels (the `example` table): add, change and delete, each with an audit event that keeps the
old values, and read back as plain records for training.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from sqlalchemy import column, func, or_, select, table
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from storage import entity_search, label_team
from storage.audit import record_event

from storage.models import Entity, Example, Relation, Sentence, Triple, utcnow


class LabelError(ValueError):
    """A label that cannot be stored: one sentence saying why and what to do."""


@dataclass
class EntityInfo:
    id: int
    name: str
    label: str
    type: Optional[str]
    description: str
    aliases: list[str] = field(default_factory=list)


@dataclass
class RelationInfo:
    id: int
    name: str
    label: str
    description: str
    head_type: Optional[str]
    tail_type: Optional[str]
    functional: bool = False  # at most one tail per head (a curator's mark)
    symmetric: bool = False  # holds both ways (a curator's mark)
    one_head_per_tail: bool = False  # at most one head per tail (a curator's mark)


@dataclass
class ExampleRow:
    id: int
    kind: str
    relation: Optional[str]
    holds: bool
    head: Optional[str]
    tail: Optional[str]
    sentence: Optional[str]
    head_mention: Optional[str]
    tail_mention: Optional[str]
    created_by: str
    created_at: datetime
    comment: str = ""
    #: settled (trains the model), pending (waits for more curators' answers) or disputed (label overlap > 1)
    status: str = "settled"


def _entity_info(row: Entity) -> EntityInfo:
    return EntityInfo(row.id, row.name, row.label, row.type, row.description or "", list(row.aliases or []))


def list_relations(session: Session) -> list[RelationInfo]:
    return [RelationInfo(r.id, r.name, r.label, r.description or "", r.head_type, r.tail_type, bool(r.functional),
                         bool(r.symmetric), bool(r.one_head_per_tail))
            for r in session.scalars(select(Relation).order_by(Relation.name))]


#: how closely part of an entity's label must match the typed text (rapidfuzz partial ratio, 0–100) to offer it
#: despite typos
FUZZY_CUTOFF = 85


def search_entities(session: Session, text: str = "", limit: int = 50) -> list[EntityInfo]:
    """Entities whose name or label contains every word typed, shortest label first (the likeliest pick),
    through the search index where there is one (`storage.entity_search`); where none does, the labels that
    contain something close to the text (rapidfuzz), so "metformn" still finds metformin. (The typo pass reads
    every label: 0.2 s on WN18RR's 40,943.)"""
    words = text.split()
    query = select(Entity).order_by(func.length(Entity.label), Entity.label).limit(limit)
    match = entity_search.match_expression(words) if entity_search.has_fts(session) else None
    if match is not None:
        index = table(entity_search.TABLE, column("rowid"))
        query = query.where(Entity.id.in_(select(index.c.rowid).where(
            sql_text(f"{entity_search.TABLE} MATCH :match").bindparams(match=match))))
    else:
        for word in words:
            query = query.where(or_(Entity.label.ilike(f"%{word}%"), Entity.name.ilike(f"%{word}%")))
    found = list(session.scalars(query))
    if text.strip() and not found:
        found = _alike(session, text, limit)
    return [_entity_info(e) for e in found]


def _alike(session: Session, text: str, limit: int) -> list[Entity]:
    """The entities whose label holds the closest thing to `text`, best first, shorter labels first on a tie."""
    from rapidfuzz import fuzz, process, utils

    labels = dict(session.execute(select(Entity.id, Entity.label)).all())
    best = process.extract(text, labels, scorer=fuzz.partial_ratio, processor=utils.default_process,
                           limit=None, score_cutoff=FUZZY_CUTOFF)
    chosen = [key for _, _, key in sorted(best, key=lambda m: (-m[1], len(labels[m[2]])))[:limit]]
    rows = {e.id: e for e in session.scalars(select(Entity).where(Entity.id.in_(chosen)))}
    return [rows[key] for key in chosen]


def get_entity(session: Session, name: str) -> Optional[EntityInfo]:
    row = session.scalar(select(Entity).where(Entity.name == name))
    return _entity_info(row) if row else None


def _by_name(session: Session, model, name: str, what: str):
    row = session.scalar(select(model).where(model.name == name))
    if row is None:
        raise LabelError(f"there is no {what} named {name!r}; pick one from the list")
    return row


def list_examples(session: Session, relation: Optional[str] = None, *, include_no_relation: bool = False
                  ) -> list[ExampleRow]:
    head, tail = aliased(Entity), aliased(Entity)
    query = (select(Example, Relation.name, head.name, tail.name, Sentence)
             .outerjoin(Relation, Example.relation_id == Relation.id)
             .outerjoin(head, Example.head_id == head.id).outerjoin(tail, Example.tail_id == tail.id)
             .outerjoin(Sentence, Example.sentence_id == Sentence.id).order_by(Example.id))
    if relation is not None:
        condition = Relation.name == relation
        if include_no_relation:
            condition = or_(condition, Example.relation_id.is_(None))
        query = query.where(condition)
    rows = []
    for example, relation_name, head_name, tail_name, sentence in session.execute(query):
        tokens = sentence.tokens if sentence is not None else None
        rows.append(ExampleRow(
            id=example.id, kind=example.kind, relation=relation_name, holds=example.label,
            head=head_name, tail=tail_name, sentence=sentence.text if sentence is not None else None,
            head_mention=" ".join(tokens[example.head_start:example.head_end]) if tokens else None,
            tail_mention=" ".join(tokens[example.tail_start:example.tail_end]) if tokens else None,
            created_by=example.created_by, created_at=example.created_at, comment=example.comment or "",
            status=example.status))
    return rows


def _snapshot(example: Example) -> dict:
    return {column: getattr(example, column) for column in (
        "kind", "relation_id", "label", "head_id", "tail_id", "sentence_id", "head_start", "head_end",
        "tail_start", "tail_end", "created_by", "comment")} | {"created_at": example.created_at.isoformat()}


@dataclass(frozen=True)
class LabelWrite:
    """What adding a label did: made a new one (its author's answer to its task), or found the same task another
    curator labelled and still waits answers for (this curator's answer to it, `answer`). The service layer
    applies the answering rule (`knowco.label_answers`)."""

    example_id: int
    created: bool
    answer: str


def _commit_new(session: Session, example: Example, user: str, what: str, answer: str) -> LabelWrite:
    session.add(example)
    try:
        session.flush()
    except IntegrityError as exc:
        raise LabelError(f"this {what} is already labelled; edit the existing label instead") from exc
    record_event(session, actor=user, action="label", target="example", target_id=example.id,
                 details={"after": _snapshot(example)})
    return LabelWrite(example.id, True, answer)


def add_triple_example(session: Session, head: str, relation: str, tail: str, holds: bool, user: str) -> LabelWrite:
    """A positive (the triple holds) or negative (it does not) link-prediction label."""
    if head == tail:
        raise LabelError("head and tail are the same entity; pick two different entities")
    example = Example(kind="triple", label=holds, head_id=_by_name(session, Entity, head, "entity").id,
                      relation_id=_by_name(session, Relation, relation, "relation").id,
                      tail_id=_by_name(session, Entity, tail, "entity").id, created_by=user, created_at=utcnow())
    existing = session.scalar(select(Example).where(
        Example.kind == "triple", Example.head_id == example.head_id, Example.relation_id == example.relation_id,
        Example.tail_id == example.tail_id))
    answer = label_team.HOLDS if holds else label_team.DOES_NOT_HOLD
    if existing is not None and existing.status == "pending":
        return LabelWrite(existing.id, False, answer)
    return _commit_new(session, example, user, "triple", answer)


def _mention_entity(session: Session, tokens: list[str], span: tuple[int, int], user: str) -> int:
    """The entity a mention names (by name or label, any case), created from the mention text if none does."""
    text = " ".join(tokens[span[0]:span[1]])
    found = session.scalar(select(Entity.id).where(or_(func.lower(Entity.name) == text.lower(),
                                                       func.lower(Entity.label) == text.lower())).limit(1))
    if found is not None:
        return found
    entity = Entity(name=text, label=text, description="", aliases=[], created_by=user, created_at=utcnow())
    session.add(entity)
    session.flush()
    record_event(session, actor=user, action="create", target="entity", target_id=entity.id,
                 details={"name": text, "from": "sentence mention"})
    return entity.id


def add_sentence_example(session: Session, sentence_id: int, head: tuple[int, int], tail: tuple[int, int],
                         relation: Optional[str], user: str) -> LabelWrite:
    """A relation-extraction label: token spans [start, end) of the two mentions and the relation (None = none)."""
    sentence = session.get(Sentence, sentence_id)
    if sentence is None:
        raise LabelError("that sentence no longer exists; pick another one")
    n = len(sentence.tokens)
    for which, (start, end) in (("head", head), ("tail", tail)):
        if not 0 <= start < end <= n:
            raise LabelError(f"the {which} mention must be one or more tokens of the sentence")
    if head[0] < tail[1] and tail[0] < head[1]:
        raise LabelError("the head and tail mentions overlap; pick two separate mentions")
    relation_id = _by_name(session, Relation, relation, "relation").id if relation is not None else None
    existing = session.scalar(select(Example).where(
        Example.sentence_id == sentence_id, Example.head_start == head[0], Example.head_end == head[1],
        Example.tail_start == tail[0], Example.tail_end == tail[1]))
    answer = relation or label_team.NO_RELATION
    if existing is not None and existing.status == "pending":
        return LabelWrite(existing.id, False, answer)
    example = Example(kind="sentence", label=True, sentence_id=sentence_id, relation_id=relation_id,
                      head_start=head[0], head_end=head[1], tail_start=tail[0], tail_end=tail[1],
                      head_id=_mention_entity(session, sentence.tokens, head, user),
                      tail_id=_mention_entity(session, sentence.tokens, tail, user),
                      created_by=user, created_at=utcnow())
    return _commit_new(session, example, user, "pair of mentions", answer)


@dataclass
class ExampleEdit:
    """One row of the Label page's table as the curator left it: `relation` None with `no_relation` False
    means the relation is unchanged; `holds` None means the verdict is unchanged."""

    example_id: int
    delete: bool = False
    holds: Optional[bool] = None
    relation: Optional[str] = None
    no_relation: bool = False
    comment: Optional[str] = None  # None: unchanged; "" clears it


def answer_change(session: Session, edit: ExampleEdit) -> Optional[str]:
    """Where the edit changes what the label answers, the label's status (the service layer decides whether
    that may be done); None where it does not."""
    example = session.get(Example, edit.example_id)
    if example is None:
        raise LabelError("that label no longer exists (someone may have deleted it); reload the page")
    return example.status if not edit.delete and _answer_changes(session, example, edit) else None


def edit_example(session: Session, edit: ExampleEdit, user: str) -> None:
    """Apply one edit of the Label page's table (the caller's transaction holds the table's edits together)."""
    example = session.get(Example, edit.example_id)
    if example is None:
        raise LabelError("that label no longer exists (someone may have deleted it); reload the page")
    before = _snapshot(example)
    if edit.delete:
        record_event(session, actor=user, action="delete", target="example", target_id=example.id,
                     details={"before": before})
        session.delete(example)
        return
    if edit.holds is not None:
        example.label = edit.holds
    if edit.no_relation:
        if example.kind != "sentence":
            raise LabelError("only a sentence can be labelled 'no relation'; mark the triple as not holding")
        example.relation_id = None
    elif edit.relation is not None:
        example.relation_id = _by_name(session, Relation, edit.relation, "relation").id
    if edit.comment is not None:
        example.comment = " ".join(edit.comment.split()) or None
    try:
        session.flush()
    except IntegrityError as exc:
        raise LabelError("an identical label already exists; delete this one instead") from exc
    record_event(session, actor=user, action="edit", target="example", target_id=example.id,
                 details={"before": before, "after": _snapshot(example)})


def _answer_changes(session: Session, example: Example, edit: ExampleEdit) -> bool:
    if edit.holds is not None and edit.holds != example.label:
        return True
    if edit.no_relation:
        return example.relation_id is not None
    return edit.relation is not None and _by_name(session, Relation, edit.relation, "relation").id != example.relation_id


@dataclass
class TrainingData:
    """Everything a training run reads, as plain values (storage knows nothing of the engine's types)."""

    relations: list[RelationInfo]
    entities: dict[str, EntityInfo]
    triples: list[tuple[int, str, str, str, bool]]
    sentences: list[tuple[int, list[str], tuple[int, int], tuple[int, int], Optional[str]]]
    facts: list[tuple[str, str, str]]


def training_data(session: Session) -> TrainingData:
    head, tail = aliased(Entity), aliased(Entity)
    triples = [
        (example_id, h, r, t, bool(label)) for example_id, h, r, t, label in session.execute(
            select(Example.id, head.name, Relation.name, tail.name, Example.label)
            .join(head, Example.head_id == head.id).join(tail, Example.tail_id == tail.id)
            .join(Relation, Example.relation_id == Relation.id)
            .where(Example.kind == "triple", Example.status == "settled").order_by(Example.id))
    ]
    sentences = [
        (example.id, list(tokens), (example.head_start, example.head_end), (example.tail_start, example.tail_end),
         relation)
        for example, tokens, relation in session.execute(
            select(Example, Sentence.tokens, Relation.name).join(Sentence, Example.sentence_id == Sentence.id)
            .outerjoin(Relation, Example.relation_id == Relation.id)
            .where(Example.kind == "sentence", Example.status == "settled").order_by(Example.id))
    ]
    facts = [tuple(row) for row in session.execute(
        select(head.name, Relation.name, tail.name).select_from(Triple)
        .join(head, Triple.head_id == head.id).join(tail, Triple.tail_id == tail.id)
        .join(Relation, Triple.relation_id == Relation.id).where(Triple.status == "accepted")
        .order_by(Triple.id))]
    entities = {e.name: _entity_info(e) for e in session.scalars(select(Entity))}
    return TrainingData(list_relations(session), entities, triples, sentences, facts)


def entities_named(session: Session, texts: set[str]) -> dict[str, str]:
    """Lower-cased text → entity name, for the texts that are some entity's name or label (any case)."""
    lowered = sorted({t.lower() for t in texts})
    found: dict[str, str] = {}
    for start in range(0, len(lowered), 500):
        chunk = lowered[start:start + 500]
        for name, label in session.execute(select(Entity.name, Entity.label).where(
                or_(func.lower(Entity.name).in_(chunk), func.lower(Entity.label).in_(chunk)))):
            for text in (name.lower(), label.lower()):
                if text in chunk:
                    found.setdefault(text, name)
    return found


def reviewed_triples(session: Session) -> set[tuple[str, str, str]]:
    """Triples a curator or an import decided (accepted or rejected), by name: never suggested again."""
    head, tail = aliased(Entity), aliased(Entity)
    return {tuple(row) for row in session.execute(
        select(head.name, Relation.name, tail.name).select_from(Triple)
        .join(head, Triple.head_id == head.id).join(tail, Triple.tail_id == tail.id)
        .join(Relation, Triple.relation_id == Relation.id).where(Triple.status != "suggested"))}


def entity_surfaces(session: Session) -> list[tuple[str, str]]:
    """(text, entity name) for every name, label and alias: what a mention of an entity may look like."""
    surfaces = []
    for name, label, aliases in session.execute(select(Entity.name, Entity.label, Entity.aliases)):
        surfaces += [(label, name), (name, name)] + [(alias, name) for alias in aliases or []]
    return surfaces


def is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(Entity))
