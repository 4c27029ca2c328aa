"""Exporting the KG: CSV (pandas) and RDF (rdflib), accepted triples by default."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sqlalchemy.orm import Session

from storage.database import StorageError
from storage.exporters.csv_export import labels_frame, labels_path, triples_frame, write_csv
from storage.exporters.rdf_export import build_graph, write_rdf
from storage.exporters.rows import statuses_for
from storage.rdf_vocab import DEFAULT_BASE

Writer = Callable[[Session, Path, tuple[str, ...], str], int]


@dataclass(frozen=True)
class ExportFormat:
    """One export format, everything the command line, the download button and the writer need of it: a new
    format is one row of `FORMATS`."""

    name: str
    #: what the Import / Export page calls it
    title: str
    suffix: str
    mime: str
    #: (session, path, statuses, base IRI) → rows or statements written
    write: Writer
    #: further file names that mean it
    other_suffixes: tuple[str, ...] = ()


def _rdf(fmt: str) -> Writer:
    return lambda session, out, statuses, base: write_rdf(session, out, fmt, statuses, base)


FORMATS = (
    ExportFormat("csv", "CSV", ".csv", "text/csv", lambda session, out, statuses, base: write_csv(session, out, statuses)),
    ExportFormat("turtle", "Turtle", ".ttl", "text/turtle", _rdf("turtle")),
    ExportFormat("nt", "N-Triples", ".nt", "application/n-triples", _rdf("nt")),
    ExportFormat("jsonld", "JSON-LD", ".jsonld", "application/ld+json", _rdf("jsonld"), (".json",)),
)
BY_NAME = {f.name: f for f in FORMATS}
EXPORT_FORMATS = tuple(BY_NAME)
SUFFIXES = {suffix: f.name for f in FORMATS for suffix in (f.suffix, *f.other_suffixes)}

__all__ = ["BY_NAME", "EXPORT_FORMATS", "FORMATS", "ExportFormat", "build_graph", "export_path", "format_for",
           "labels_csv", "labels_path", "triples_frame"]


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
        named = "/".join(f.suffix for f in FORMATS)
        raise StorageError(f"cannot tell the format from {out.name!r}: name it {named} or pass --format")
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
    return BY_NAME[fmt].write(session, out, statuses, base)
