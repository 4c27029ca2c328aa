"""The rows an export writes: triples joined with their entities, relation and model version."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Iterator, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from storage.models import Entity, ModelVersion, Relation, Triple


@dataclass(frozen=True)
class ExportTriple:
    head: str
    relation: str
    tail: str
    head_label: str
    relation_label: str
    tail_label: str
    status: str
    source: str
    confidence: Optional[float]
    model_version: Optional[str]
    created_by: str
    created_at: datetime
    reviewed_by: Optional[str]
    reviewed_at: Optional[datetime]


def statuses_for(include_suggested: bool, include_rejected: bool) -> tuple[str, ...]:
    """The statuses an export writes; "rejected" also brings the retracted facts (both are negative knowledge)."""
    return (("accepted",) + (("suggested",) if include_suggested else ())
            + (("rejected", "retracted") if include_rejected else ()))


def export_triples(session: Session, statuses: Iterable[str]) -> Iterator[ExportTriple]:
    """Triples with the given statuses, ordered by head, relation, tail name so exports are stable."""
    head, tail = aliased(Entity), aliased(Entity)
    query = (
        select(
            head.name, Relation.name, tail.name, head.label, Relation.label, tail.label, Triple.status,
            Triple.source, Triple.confidence, ModelVersion.name, Triple.created_by, Triple.created_at,
            Triple.reviewed_by, Triple.reviewed_at,
        )
        .join(head, Triple.head_id == head.id)
        .join(tail, Triple.tail_id == tail.id)
        .join(Relation, Triple.relation_id == Relation.id)
        .outerjoin(ModelVersion, Triple.model_version_id == ModelVersion.id)
        .where(Triple.status.in_(list(statuses)))
        .order_by(head.name, Relation.name, tail.name)
    )
    for row in session.execute(query):
        yield ExportTriple(*row)
