"""Exporting the KG: CSV (pandas) and RDF (rdflib), accepted triples by default."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from storage.database import StorageError
from storage.exporters.csv_export import labels_frame, labels_path, triples_frame, write_csv
from storage.exporters.rdf_export import RDF_FORMATS, build_graph, write_rdf
from storage.exporters.rows import statuses_for
from storage.rdf_vocab import DEFAULT_BASE

EXPORT_FORMATS = ("csv", *RDF_FORMATS)
SUFFIXES = {".csv": "csv", ".ttl": "turtle", ".nt": "nt", ".jsonld": "jsonld", ".json": "jsonld"}

__all__ = ["EXPORT_FORMATS", "build_graph", "export_path", "format_for", "labels_csv", "labels_path", "triples_frame"]


def labels_csv(session: Session) -> tuple[str, int]:
    """The curators' labels as CSV text (what `labels.csv` beside a CSV export holds) and their count."""
    frame = labels_frame(session)
    return frame.to_csv(index=False, lineterminator="\n"), len(frame)


def format_for(out: Path, fmt: str | None) -> str:
    """The format asked for, or the one the file name implies."""
    if fmt:
        if fmt not in EXPORT_FORMATS:
            raise StorageError(f"unknown export format {fmt!r} (expected one of {', '.join(EXPORT_FORMATS)})")
        return fmt
    guessed = SUFFIXES.get(out.suffix.lower())
    if guessed is None:
        raise StorageError(f"cannot tell the format from {out.name!r}: name it .csv/.ttl/.nt/.jsonld or pass --format")
    return guessed


def export_path(
    session: Session,
    out: str | Path,
    fmt: str | None = None,
    *,
    include_suggested: bool = False,
    include_rejected: bool = False,
    base: str = DEFAULT_BASE,
) -> int:
    """Write the graph to `out`; returns the number of rows (CSV) or RDF statements written."""
    out = Path(out)
    fmt = format_for(out, fmt)
    if not out.parent.is_dir():
        raise StorageError(f"the folder for the export does not exist: {out.parent}")
    statuses = statuses_for(include_suggested, include_rejected)
    if fmt == "csv":
        return write_csv(session, out, statuses)
    return write_rdf(session, out, fmt, statuses, base)
