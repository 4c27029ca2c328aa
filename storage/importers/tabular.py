"""`head,relation,tail` files: CSV (quoted fields allowed) or TSV (every character verbatim).

A header is optional. With one, columns are found by name, and the extra columns KnowCo's own CSV export
writes (labels, status, source, confidence, who/when) are read back, so an exported file re-imports as it was.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from storage.importers.records import ImportBatch, TripleRecord
from storage.importers.text import read_text

REQUIRED = ("head", "relation", "tail")
SYNONYMS = {"subject": "head", "predicate": "relation", "object": "tail"}
OPTIONAL = (
    "head_label", "relation_label", "tail_label", "status", "source", "confidence",
    "created_by", "created_at", "reviewed_by", "reviewed_at",
)


def _header_words(row: list[str]) -> list[str]:
    """The cells of `row` that are column names KnowCo reads (head, relation, tail, subject, …)."""
    known = set(REQUIRED) | set(SYNONYMS) | set(OPTIONAL)
    return [cell.strip() for cell in row if cell.strip().lower() in known]


def _header(row: list[str]) -> Optional[dict[str, int]]:
    names = [SYNONYMS.get(cell.strip().lower(), cell.strip().lower()) for cell in row]
    if not set(REQUIRED) <= set(names):
        return None
    return {name: index for index, name in enumerate(names) if name in REQUIRED + OPTIONAL}


def _timestamp(batch: ImportBatch, value: str, line: int, column: str) -> Optional[datetime]:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise batch.fail(line, f"{column} is not an ISO 8601 time: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _confidence(batch: ImportBatch, value: str, line: int) -> Optional[float]:
    if not value:
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise batch.fail(line, f"confidence is not a number: {value!r}") from exc


def _reader(text: str, delimiter: str):
    if delimiter == "\t":
        return csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)


def _add_row(batch: ImportBatch, row: list[str], columns: dict[str, int], line: int) -> None:
    """A row under a header: the triple with whatever provenance and labels the named columns carry."""
    cell = {name: row[index] for name, index in columns.items()}
    record = TripleRecord(
        head=cell["head"],
        relation=cell["relation"],
        tail=cell["tail"],
        status=cell.get("status") or "accepted",
        source=cell.get("source") or "imported",
        confidence=_confidence(batch, cell.get("confidence", ""), line),
        created_by=cell.get("created_by") or None,
        created_at=_timestamp(batch, cell.get("created_at", ""), line, "created_at"),
        reviewed_by=cell.get("reviewed_by") or None,
        reviewed_at=_timestamp(batch, cell.get("reviewed_at", ""), line, "reviewed_at"),
    )
    batch.triple(record, line)
    batch.entity(record.head, line, label=cell.get("head_label"))
    batch.entity(record.tail, line, label=cell.get("tail_label"))
    batch.relation(record.relation, line, label=cell.get("relation_label"))


def _rows(reader):
    """(line, row) for every non-blank row."""
    for row in reader:
        if row and not (len(row) == 1 and not row[0].strip()):
            yield reader.line_num, row


def parse_tabular(path: Path, delimiter: str, fmt: str) -> ImportBatch:
    batch = ImportBatch(path=str(path), format=fmt)
    reader = _reader(read_text(path), delimiter)
    columns: Optional[dict[str, int]] = None
    header: list[str] = []
    width, first = 3, True
    try:
        for line, row in _rows(reader):
            if first:
                first, columns, header = False, _header(row), row
                if columns is not None:
                    width = len(row)
                    continue
                if len(_header_words(row)) >= 2:
                    raise batch.fail(line, f"this looks like a header ({', '.join(row)}) but does not name the "
                                           "head, relation and tail columns: name them head, relation, tail (or "
                                           "subject, predicate, object), or remove the line")
            elif columns is not None and [c.strip().lower() for c in row] == [c.strip().lower() for c in header]:
                raise batch.fail(line, "this line repeats the header: remove it (it would import a fact whose "
                                       "relation is the column's name)")
            if len(row) != width:
                raise batch.fail(line, f"expected {width} fields (head, relation, tail), found {len(row)}")
            if columns is None:
                head, relation, tail = row
                batch.triple(TripleRecord(head=head, relation=relation, tail=tail), line)
            else:
                _add_row(batch, row, columns, line)
    except csv.Error as exc:
        raise batch.fail(reader.line_num, f"malformed {fmt.upper()}: {exc}") from exc
    if not batch.triples:
        raise batch.fail(None, "no triples found (expected lines of head, relation, tail)")
    return batch
