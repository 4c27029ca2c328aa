"""Writing an `ImportBatch` in one transaction, idempotently, in bulk.

Existing rows win: a re-import changes nothing, and an import never overwrites what a curator set; it only
fills fields that are still empty (a description, a type, a label equal to the name).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from hashlib import sha256
from typing import Iterable, Iterator, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from storage.audit import record_event
from storage.importers.records import ImportBatch
from storage.models import Document, Entity, Example, Relation, Sentence, Triple, utcnow

CHUNK = 5000
T = TypeVar("T")


@dataclass
class ImportReport:
    """What an import did, for the CLI's summary line and the audit event."""

    path: str
    format: str
    created: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        parts = [f"{n} {what}" for what, n in self.created.items() if n]
        text = "added " + (", ".join(parts) if parts else "nothing new")
        existing = [f"{n} {what}" for what, n in self.existing.items() if n]
        if existing:
            text += "; already present: " + ", ".join(existing)
        if any(self.updated.values()):
            text += "; filled " + ", ".join(f"{n} {what}" for what, n in self.updated.items() if n)
        if self.skipped:
            text += "; skipped " + ", ".join(f"{n} {why}" for why, n in self.skipped.items())
        return text


def _chunks(items: list[T], size: int = CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ids_by_name(session: Session, model, names: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(list(names)):
        found.update(session.execute(select(model.name, model.id).where(model.name.in_(chunk))).all())
    return found


def _write_named(
    session: Session, model, records: dict, fill: tuple[str, ...], user: str, now: datetime, report: ImportReport,
    what: str,
) -> dict[str, int]:
    """Insert the records whose name is new; fill still-empty fields of the others. Returns name → id."""
    columns = [getattr(model, name) for name in ("id", "name", "label", *fill)]
    existing = {
        row.name: row
        for chunk in _chunks(list(records))
        for row in session.execute(select(*columns).where(model.name.in_(chunk)))
    }
    new_rows, filled = [], 0
    for record in records.values():
        row = existing.get(record.name)
        if row is None:
            values = {name: getattr(record, name) for name in fill}
            values.update(name=record.name, label=record.label or record.name, created_by=user, created_at=now)
            new_rows.append(values)
            continue
        changes = {
            name: getattr(record, name)
            for name in fill
            if getattr(record, name) and not getattr(row, name)
        }
        if record.label and row.label == row.name and record.label != row.label:
            changes["label"] = record.label
        if changes:
            session.execute(update(model).where(model.id == row.id).values(**changes))
            filled += 1
    for chunk in _chunks(new_rows):
        session.execute(insert(model), chunk)
    report.created[what] = len(new_rows)
    report.existing[what] = len(existing)
    report.updated[what] = filled
    return _ids_by_name(session, model, records)


def _write_triples(
    session: Session,
    batch: ImportBatch,
    entity_ids: dict[str, int],
    relation_ids: dict[str, int],
    user: str,
    now: datetime,
    report: ImportReport,
) -> None:
    wanted: dict[tuple[int, int, int], dict] = {}
    for record in batch.triples:
        key = (entity_ids[record.head], relation_ids[record.relation], entity_ids[record.tail])
        if key in wanted:
            continue
        wanted[key] = dict(
            head_id=key[0],
            relation_id=key[1],
            tail_id=key[2],
            status=record.status,
            source=record.source,
            confidence=record.confidence,
            created_by=record.created_by or user,
            created_at=record.created_at or now,
            reviewed_by=record.reviewed_by,
            reviewed_at=record.reviewed_at,
        )
    present: set[tuple[int, int, int]] = set()
    relation_set = sorted({key[1] for key in wanted})
    for chunk in _chunks(relation_set, 500):
        present.update(
            tuple(row) for row in session.execute(select(Triple.head_id, Triple.relation_id, Triple.tail_id).where(
                Triple.relation_id.in_(chunk)
            )).all()
            if tuple(row) in wanted
        )
    new_rows = [row for key, row in wanted.items() if key not in present]
    for chunk in _chunks(new_rows):
        session.execute(insert(Triple), chunk)
    report.created["triples"] = len(new_rows)
    report.existing["triples"] = len(present)
    duplicates = len(batch.triples) - len(wanted)
    if duplicates:
        report.skipped["repeated triples in the file"] = duplicates


def _write_sentences(
    session: Session,
    batch: ImportBatch,
    entity_ids: dict[str, int],
    relation_ids: dict[str, int],
    user: str,
    now: datetime,
    report: ImportReport,
) -> None:
    if not batch.sentence_examples:
        return
    texts = {}
    for record in batch.sentence_examples:
        text = " ".join(record.tokens)
        texts.setdefault(sha256(text.encode("utf-8")).hexdigest(), (text, record.tokens))
    sentence_ids = {}
    for chunk in _chunks(list(texts)):
        sentence_ids.update(
            session.execute(select(Sentence.text_sha256, Sentence.id).where(Sentence.text_sha256.in_(chunk))).all()
        )
    new_hashes = [h for h in texts if h not in sentence_ids]
    if new_hashes:
        document_id = session.scalar(select(Document.id).where(Document.name == batch.document))
        if document_id is None:
            document_id = session.scalar(
                insert(Document).values(name=batch.document, created_by=user, created_at=now).returning(Document.id)
            )
        start = session.scalar(select(Sentence.position).where(Sentence.document_id == document_id).order_by(
            Sentence.position.desc()).limit(1))
        offset = 0 if start is None else start + 1
        rows = [
            dict(document_id=document_id, position=offset + i, text=texts[h][0], tokens=texts[h][1],
                 text_sha256=h, created_at=now)
            for i, h in enumerate(new_hashes)
        ]
        for chunk in _chunks(rows):
            session.execute(insert(Sentence), chunk)
        for chunk in _chunks(new_hashes):
            sentence_ids.update(
                session.execute(select(Sentence.text_sha256, Sentence.id).where(Sentence.text_sha256.in_(chunk))).all()
            )
    report.created["sentences"] = len(new_hashes)
    report.existing["sentences"] = len(texts) - len(new_hashes)

    wanted = {}
    for record in batch.sentence_examples:
        sentence_id = sentence_ids[sha256(" ".join(record.tokens).encode("utf-8")).hexdigest()]
        key = (sentence_id, *record.head, *record.tail)
        if key in wanted:
            continue
        wanted[key] = dict(
            kind="sentence",
            sentence_id=sentence_id,
            head_start=record.head[0],
            head_end=record.head[1],
            tail_start=record.tail[0],
            tail_end=record.tail[1],
            head_id=entity_ids[record.head_name],
            tail_id=entity_ids[record.tail_name],
            relation_id=relation_ids[record.relation] if record.relation is not None else None,
            label=True,
            created_by=user,
            created_at=now,
        )
    present = set()
    sentence_list = sorted({key[0] for key in wanted})
    for chunk in _chunks(sentence_list):
        present.update(
            tuple(row) for row in session.execute(
                select(Example.sentence_id, Example.head_start, Example.head_end, Example.tail_start, Example.tail_end)
                .where(Example.sentence_id.in_(chunk))
            )
        )
    new_rows = [row for key, row in wanted.items() if key not in present]
    for chunk in _chunks(new_rows):
        session.execute(insert(Example), chunk)
    report.created["sentence examples"] = len(new_rows)
    report.existing["sentence examples"] = len(wanted) - len(new_rows)
    repeated = len(batch.sentence_examples) - len(wanted)
    if repeated:
        report.skipped["repeated sentence examples in the file"] = repeated


def write_batch(session: Session, batch: ImportBatch, user: str) -> ImportReport:
    """Write the batch inside the caller's transaction and record one audit event for it."""
    now = utcnow()
    report = ImportReport(path=batch.path, format=batch.format, skipped=dict(batch.skipped))
    entity_ids = _write_named(session, Entity, batch.entities, ("description", "type", "aliases"), user, now, report,
                              "entities")
    relation_ids = _write_named(session, Relation, batch.relations, ("description",), user, now, report,
                                "relations")
    _write_triples(session, batch, entity_ids, relation_ids, user, now, report)
    _write_sentences(session, batch, entity_ids, relation_ids, user, now, report)
    if any(report.created.values()) or any(report.updated.values()):
        record_event(
            session,
            actor=user,
            action="import",
            target="file",
            details={"path": batch.path, "format": batch.format, "created": report.created,
                     "updated": report.updated, "skipped": report.skipped},
        )
    return report
