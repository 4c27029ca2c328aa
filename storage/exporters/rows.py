"""The rows an export writes: triples joined with their entities, relation and model version; the sentences
behind each triple (its evidence); and the curators' labels."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Iterator, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from storage.models import Document, Entity, Evidence, Example, ModelVersion, Relation, Sentence, Triple


#: rows an export reads from the database at a time: the ORM otherwise reads a whole result before the first row
STREAMED_ROWS = 5_000


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
    reason: Optional[str] = None  # why it was rejected
    comment: Optional[str] = None  # the curator's words on the verdict (a retraction's reason)
    spot_check_id: Optional[int] = None  # the spot check whose stated precision accepted it
    #: the graph's pattern the Review card gave as its reason, e.g. "born_in ∘ located_in ⇒ citizen_of: 12 of 13"
    pattern: Optional[str] = None


def statuses_for(include_suggested: bool, include_rejected: bool) -> tuple[str, ...]:
    """The statuses an export writes; "rejected" also brings the retracted facts (both are negative knowledge),
    "suggested" the disputed ones (still undecided, waiting for an adjudicator)."""
    return (("accepted",) + (("suggested", "disputed") if include_suggested else ())
            + (("rejected", "retracted") if include_rejected else ()))


def export_triples(session: Session, statuses: Iterable[str]) -> Iterator[ExportTriple]:
    """Triples with the given statuses, ordered by head, relation, tail name so exports are stable."""
    head, tail = aliased(Entity), aliased(Entity)
    query = (
        select(
            head.name, Relation.name, tail.name, head.label, Relation.label, tail.label, Triple.status,
            Triple.source, Triple.confidence, ModelVersion.name, Triple.created_by, Triple.created_at,
            Triple.reviewed_by, Triple.reviewed_at, Triple.reason, Triple.comment, Triple.spot_check_id,
            Triple.opinions,
        )
        .join(head, Triple.head_id == head.id)
        .join(tail, Triple.tail_id == tail.id)
        .join(Relation, Triple.relation_id == Relation.id)
        .outerjoin(ModelVersion, Triple.model_version_id == ModelVersion.id)
        .where(Triple.status.in_(list(statuses)))
        .order_by(head.name, Relation.name, tail.name)
    )
    for *row, opinions in session.execute(query.execution_options(yield_per=STREAMED_ROWS)):
        yield ExportTriple(*row, pattern=pattern_words((opinions or {}).get("pattern")))


def pattern_words(pattern: Optional[dict]) -> Optional[str]:
    """A suggestion's pattern as its card shows it (3 supporting pairs, a confidence of 0.5), in one line."""
    if not pattern or pattern.get("support", 0) < 3 or pattern.get("confidence", 0.0) < 0.5:
        return None
    return f"{pattern.get('rule', '?')}: {pattern['support']} of {pattern.get('linked', '?')}"


@dataclass(frozen=True)
class ExportSentence:
    id: int
    text: str
    document: Optional[str]


def export_evidence(session: Session, statuses: Iterable[str]
                    ) -> dict[tuple[str, str, str], list[tuple[ExportSentence, float]]]:
    """Per exported triple (by names), the sentences the model read it in and its score in each."""
    head, tail = aliased(Entity), aliased(Entity)
    query = (select(head.name, Relation.name, tail.name, Sentence.id, Sentence.text, Document.name, Evidence.score)
             .select_from(Evidence).join(Triple, Evidence.triple_id == Triple.id)
             .join(head, Triple.head_id == head.id).join(tail, Triple.tail_id == tail.id)
             .join(Relation, Triple.relation_id == Relation.id).join(Sentence, Evidence.sentence_id == Sentence.id)
             .outerjoin(Document, Sentence.document_id == Document.id)
             .where(Triple.status.in_(list(statuses))).order_by(Sentence.id))
    found: dict[tuple[str, str, str], list[tuple[ExportSentence, float]]] = {}
    for h, r, t, sentence_id, text, document, score in session.execute(query):
        found.setdefault((h, r, t), []).append((ExportSentence(sentence_id, text, document), score))
    return found


@dataclass(frozen=True)
class ExportLabel:
    id: int
    kind: str
    head: Optional[str]
    relation: Optional[str]  # None: the sentence states no relation
    tail: Optional[str]
    holds: bool
    sentence_id: Optional[int]
    sentence: Optional[str]
    head_span: Optional[str]  # "start-end" token span in the sentence
    tail_span: Optional[str]
    created_by: str
    created_at: datetime
    comment: Optional[str] = None
    #: settled (trains the model), or still waiting for curators' answers (pending) or an adjudicator (disputed)
    status: str = "settled"


def export_labels(session: Session) -> Iterator[ExportLabel]:
    """Every curator label: triples said to hold or not, and sentences with the relation they state."""
    head, tail = aliased(Entity), aliased(Entity)
    query = (select(Example, head.name, Relation.name, tail.name, Sentence.text)
             .outerjoin(head, Example.head_id == head.id).outerjoin(tail, Example.tail_id == tail.id)
             .outerjoin(Relation, Example.relation_id == Relation.id)
             .outerjoin(Sentence, Example.sentence_id == Sentence.id).order_by(Example.id))
    for example, h, r, t, text in session.execute(query.execution_options(yield_per=STREAMED_ROWS)):
        spans = (f"{example.head_start}-{example.head_end}", f"{example.tail_start}-{example.tail_end}"
                 ) if example.kind == "sentence" else (None, None)
        yield ExportLabel(example.id, example.kind, h, r, t, example.label, example.sentence_id, text, *spans,
                          example.created_by, example.created_at, example.comment, example.status)
