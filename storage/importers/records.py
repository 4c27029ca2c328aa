"""What every importer produces: plain records, validated, before anything touches the database.

Parsing a whole file into an `ImportBatch` first, and writing it in one transaction afterwards, is what
makes imports all-or-nothing: a bad line is found before the first row is written.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from storage.models import TRIPLE_SOURCES, TRIPLE_STATUSES

MAX_NAME_LENGTH = 512


class ImportFailed(Exception):
    """A file that cannot be imported; `str()` is the one line a user reads: file, line, reason."""

    def __init__(self, path: str, line: Optional[int], reason: str) -> None:
        self.path, self.line, self.reason = path, line, reason
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


@dataclass
class EntityRecord:
    name: str
    label: Optional[str] = None
    description: str = ""
    type: Optional[str] = None
    aliases: list[str] = field(default_factory=list)


@dataclass
class RelationRecord:
    name: str
    label: Optional[str] = None
    description: str = ""


#: statuses of triples still waiting for a verdict: each has a confidence (0 where its source gave none)
UNDECIDED = ("suggested", "disputed")


@dataclass
class TripleRecord:
    head: str
    relation: str
    tail: str
    status: str = "accepted"
    source: str = "imported"
    confidence: Optional[float] = None
    created_by: Optional[str] = None
    created_at: Optional[datetime] = None
    reviewed_by: Optional[str] = None
    reviewed_at: Optional[datetime] = None


@dataclass
class SentenceExampleRecord:
    """A labelled sentence: token spans are [start, end) and `relation` is None for "no relation"."""

    tokens: list[str]
    head: tuple[int, int]
    tail: tuple[int, int]
    head_name: str
    tail_name: str
    relation: Optional[str]


@dataclass
class ImportBatch:
    """Everything one file (or directory) holds, keyed by name so repeats inside a file merge."""

    path: str
    format: str
    entities: dict[str, EntityRecord] = field(default_factory=dict)
    relations: dict[str, RelationRecord] = field(default_factory=dict)
    triples: list[TripleRecord] = field(default_factory=list)
    sentence_examples: list[SentenceExampleRecord] = field(default_factory=list)
    document: Optional[str] = None
    skipped: dict[str, int] = field(default_factory=dict)
    reading: Optional[str] = None

    def fail(self, line: Optional[int], reason: str) -> ImportFailed:
        """The error to raise, naming the file being read (one file of a directory, or the file itself)."""
        return ImportFailed(self.reading or self.path, line, reason)

    def check_name(self, value: str, what: str, line: Optional[int]) -> str:
        if not value or not value.strip():
            raise self.fail(line, f"empty {what}")
        if len(value) > MAX_NAME_LENGTH:
            raise self.fail(line, f"{what} is {len(value)} characters long (at most {MAX_NAME_LENGTH})")
        return value

    def _merge(self, store: dict, make, name: str, what: str, line: Optional[int], fields: dict):
        """Get or add a record by name; non-empty fields given later fill the ones still empty."""
        self.check_name(name, what, line)
        record = store.get(name)
        if record is None:
            record = store[name] = make(name=name)
        for key, value in fields.items():
            if value and not getattr(record, key):
                setattr(record, key, value)
        return record

    def entity(self, name: str, line: Optional[int] = None, **fields) -> EntityRecord:
        return self._merge(self.entities, EntityRecord, name, "entity name", line, fields)

    def relation(self, name: str, line: Optional[int] = None, **fields) -> RelationRecord:
        return self._merge(self.relations, RelationRecord, name, "relation name", line, fields)

    def triple(self, record: TripleRecord, line: Optional[int] = None) -> None:
        if record.status not in TRIPLE_STATUSES:
            raise self.fail(line, f"unknown status {record.status!r} (expected one of {', '.join(TRIPLE_STATUSES)})")
        if record.source not in TRIPLE_SOURCES:
            raise self.fail(line, f"unknown source {record.source!r} (expected one of {', '.join(TRIPLE_SOURCES)})")
        if record.confidence is not None and not 0.0 <= record.confidence <= 1.0:
            raise self.fail(line, f"confidence {record.confidence} is outside [0, 1]")
        if record.confidence is None and record.status in UNDECIDED:
            record.confidence = 0.0  # the queue orders and filters by the column itself: a suggestion has one
        self.entity(record.head, line)
        self.relation(record.relation, line)
        self.entity(record.tail, line)
        self.triples.append(record)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
