"""Writing an `ImportBatch` in one transaction, idempotently, in bulk.

Existing rows win: a re-import changes nothing, and an import never overwrites what a curator set; it only
fills fields that are still empty (a description, a type, a label equal to the name).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from hashlib import sha256
from typing import Iterable, Iterator, TypeVar

from sqlalchemy import func, insert, select, update
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


@dataclass
class _Writer:
    """One batch's write: the session, who, when, and the report being filled."""

    session: Session
    batch: ImportBatch
    user: str
    now: datetime
    report: ImportReport

    def named(self, model, records: dict, fill: tuple[str, ...], what: str) -> dict[str, int]:
        """Insert the records whose name is new; fill still-empty fields of the others. Returns name → id."""
        columns = [getattr(model, name) for name in ("id", "name", "label", *fill)]
        existing = {
            row.name: row
            for chunk in _chunks(list(records))
            for row in self.session.execute(select(*columns).where(model.name.in_(chunk)))
        }
        new_rows, filled = [], 0
        for record in records.values():
            row = existing.get(record.name)
            if row is None:
                new_rows.append({name: getattr(record, name) for name in fill} | dict(
                    name=record.name, label=record.label or record.name, created_by=self.user, created_at=self.now))
            elif self._fill(model, row, record, fill):
                filled += 1
        for chunk in _chunks(new_rows):
            self.session.execute(insert(model), chunk)
        self.report.created[what] = len(new_rows)
        self.report.existing[what] = len(existing)
        self.report.updated[what] = filled
        return _ids_by_name(self.session, model, records)

    def _fill(self, model, row, record, fill: tuple[str, ...]) -> bool:
        """Give an existing row what the file knows and the row lacks (a generated label counts as lacking)."""
        changes = {name: getattr(record, name) for name in fill if getattr(record, name) and not getattr(row, name)}
        if record.label and row.label == row.name and record.label != row.label:
            changes["label"] = record.label
        if changes:
            self.session.execute(update(model).where(model.id == row.id).values(**changes))
        return bool(changes)

    def triples(self, entity_ids: dict[str, int], relation_ids: dict[str, int]) -> None:
        wanted: dict[tuple[int, int, int], dict] = {}
        for record in self.batch.triples:
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
                created_by=record.created_by or self.user,
                created_at=record.created_at or self.now,
                reviewed_by=record.reviewed_by,
                reviewed_at=record.reviewed_at,
            )
        present: set[tuple[int, int, int]] = set()
        for chunk in _chunks(sorted({key[1] for key in wanted}), 500):
            query = select(Triple.head_id, Triple.relation_id, Triple.tail_id).where(Triple.relation_id.in_(chunk))
            present.update(key for key in map(tuple, self.session.execute(query)) if key in wanted)
        new_rows = [row for key, row in wanted.items() if key not in present]
        for chunk in _chunks(new_rows):
            self.session.execute(insert(Triple), chunk)
        self.report.created["triples"] = len(new_rows)
        self.report.existing["triples"] = len(present)
        if len(self.batch.triples) > len(wanted):
            self.report.skipped["repeated triples in the file"] = len(self.batch.triples) - len(wanted)

    def _sentence_ids(self, hashes: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(hashes):
            found.update(self.session.execute(
                select(Sentence.text_sha256, Sentence.id).where(Sentence.text_sha256.in_(chunk))).all())
        return found

    def _document_id(self) -> int:
        document_id = self.session.scalar(select(Document.id).where(Document.name == self.batch.document))
        if document_id is None:
            document_id = self.session.scalar(
                insert(Document).values(name=self.batch.document, created_by=self.user, created_at=self.now)
                .returning(Document.id))
        return document_id

    def _store_sentences(self, hashes: list[str], records) -> dict[str, int]:
        """Sentence hash → id, inserting the sentences not stored yet under the batch's document."""
        texts = {h: r.tokens for h, r in zip(hashes, records)}
        sentence_ids = self._sentence_ids(list(texts))
        new_hashes = [h for h in texts if h not in sentence_ids]
        if new_hashes:
            document_id = self._document_id()
            last = self.session.scalar(select(func.max(Sentence.position)).where(Sentence.document_id == document_id))
            offset = 0 if last is None else last + 1
            rows = [dict(document_id=document_id, position=offset + i, text=" ".join(texts[h]), tokens=texts[h],
                         text_sha256=h, created_at=self.now) for i, h in enumerate(new_hashes)]
            for chunk in _chunks(rows):
                self.session.execute(insert(Sentence), chunk)
            sentence_ids.update(self._sentence_ids(new_hashes))
        self.report.created["sentences"] = len(new_hashes)
        self.report.existing["sentences"] = len(texts) - len(new_hashes)
        return sentence_ids

    def sentences(self, entity_ids: dict[str, int], relation_ids: dict[str, int]) -> None:
        records = self.batch.sentence_examples
        if not records:
            return
        hashes = [sha256(" ".join(r.tokens).encode("utf-8")).hexdigest() for r in records]
        sentence_ids = self._store_sentences(hashes, records)
        wanted = {}
        for digest, record in zip(hashes, records):
            key = (sentence_ids[digest], *record.head, *record.tail)
            wanted.setdefault(key, dict(
                kind="sentence", sentence_id=key[0], head_start=record.head[0], head_end=record.head[1],
                tail_start=record.tail[0], tail_end=record.tail[1], head_id=entity_ids[record.head_name],
                tail_id=entity_ids[record.tail_name], label=True, created_by=self.user, created_at=self.now,
                relation_id=relation_ids[record.relation] if record.relation is not None else None,
            ))
        spans = (Example.sentence_id, Example.head_start, Example.head_end, Example.tail_start, Example.tail_end)
        present = set()
        for chunk in _chunks(sorted({key[0] for key in wanted})):
            present.update(map(tuple, self.session.execute(select(*spans).where(Example.sentence_id.in_(chunk)))))
        new_rows = [row for key, row in wanted.items() if key not in present]
        for chunk in _chunks(new_rows):
            self.session.execute(insert(Example), chunk)
        self.report.created["sentence examples"] = len(new_rows)
        self.report.existing["sentence examples"] = len(wanted) - len(new_rows)
        if len(records) > len(wanted):
            self.report.skipped["repeated sentence examples in the file"] = len(records) - len(wanted)


def write_batch(session: Session, batch: ImportBatch, user: str) -> ImportReport:
    """Write the batch inside the caller's transaction and record one audit event for it."""
    report = ImportReport(path=batch.path, format=batch.format, skipped=dict(batch.skipped))
    writer = _Writer(session, batch, user, utcnow(), report)
    entity_ids = writer.named(Entity, batch.entities, ("description", "type", "aliases"), "entities")
    relation_ids = writer.named(Relation, batch.relations, ("description",), "relations")
    writer.triples(entity_ids, relation_ids)
    writer.sentences(entity_ids, relation_ids)
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
