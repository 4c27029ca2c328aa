"""Counts a curator (and the Overview page) wants at a glance."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from storage.models import TRIPLE_STATUSES, Document, Entity, Example, ModelVersion, Relation, Sentence, Triple


@dataclass
class RelationExamples:
    positive_triples: int = 0
    negative_triples: int = 0
    sentences: int = 0

    @property
    def total(self) -> int:
        return self.positive_triples + self.negative_triples + self.sentences


@dataclass
class KgStats:
    entities: int
    relations: int
    triples: dict[str, int]
    examples_by_relation: dict[str, RelationExamples] = field(default_factory=dict)
    no_relation_sentences: int = 0
    documents: int = 0
    sentences: int = 0
    model_versions: int = 0
    #: labels by status where not settled: waiting for curators' answers (pending) or an adjudicator (disputed)
    unsettled_labels: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = asdict(self)
        for name, counts in self.examples_by_relation.items():
            data["examples_by_relation"][name]["total"] = counts.total
        return data


def kg_stats(session: Session) -> KgStats:
    by_status = dict(session.execute(select(Triple.status, func.count()).group_by(Triple.status)).all())
    examples = {name: RelationExamples() for name in session.scalars(select(Relation.name).order_by(Relation.name))}
    query = (
        select(
            Relation.name,
            func.sum(case(((Example.kind == "triple") & Example.label, 1), else_=0)),
            func.sum(case(((Example.kind == "triple") & ~Example.label, 1), else_=0)),
            func.sum(case((Example.kind == "sentence", 1), else_=0)),
        )
        .join(Relation, Example.relation_id == Relation.id)
        .where(Example.status == "settled")  # what trains the model: labels waiting for more answers do not
        .group_by(Relation.name)
    )
    for name, positive, negative, sentences in session.execute(query):
        examples[name] = RelationExamples(int(positive or 0), int(negative or 0), int(sentences or 0))
    return KgStats(
        entities=session.scalar(select(func.count()).select_from(Entity)) or 0,
        relations=session.scalar(select(func.count()).select_from(Relation)) or 0,
        triples={status: int(by_status.get(status, 0)) for status in TRIPLE_STATUSES},
        examples_by_relation=examples,
        no_relation_sentences=session.scalar(
            select(func.count()).select_from(Example).where(Example.kind == "sentence", Example.relation_id.is_(None),
                                                      Example.status == "settled")
        ) or 0,
        documents=session.scalar(select(func.count()).select_from(Document)) or 0,
        sentences=session.scalar(select(func.count()).select_from(Sentence)) or 0,
        model_versions=session.scalar(select(func.count()).select_from(ModelVersion)) or 0,
        unsettled_labels=dict(session.execute(select(Example.status, func.count()).where(Example.status != "settled")
                                              .group_by(Example.status)).all()),
    )


def relations_without_evidence(session: Session) -> list[str]:
    """Relations with no accepted fact, no settled label saying one holds and no sentence labelled as stating
    one: what a model cannot have learnt."""
    facts = select(Triple.relation_id).where(Triple.status == "accepted")
    labels = select(Example.relation_id).where(Example.status == "settled", Example.relation_id.is_not(None),
                                               (Example.kind == "sentence") | Example.label)
    return list(session.scalars(select(Relation.name).where(Relation.id.not_in(facts), Relation.id.not_in(labels))
                                .order_by(Relation.name)))
