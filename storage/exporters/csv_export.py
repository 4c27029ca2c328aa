"""CSV export through pandas: one row per triple, with names, status and provenance."""
from __future__ import annotations

from dataclasses import asdict, fields
from datetime import timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from storage.exporters.rows import ExportTriple, export_triples
from storage.exporters.files import atomic_output

if TYPE_CHECKING:  # pandas is imported when a CSV is written: half a second off every command-line start
    import pandas as pd

COLUMNS = [f.name for f in fields(ExportTriple)]


def _iso(value):
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat()


def triples_frame(session: Session, statuses: tuple[str, ...]) -> "pd.DataFrame":
    import pandas as pd

    rows = []
    for triple in export_triples(session, statuses):
        row = asdict(triple)
        row["created_at"] = _iso(triple.created_at)
        row["reviewed_at"] = _iso(triple.reviewed_at)
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def write_csv(session: Session, out: Path, statuses: tuple[str, ...]) -> int:
    frame = triples_frame(session, statuses)
    with atomic_output(out) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    return len(frame)
