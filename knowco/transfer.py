"""Files in and out of the app: an upload is parsed completely for a preview before anything is written, and an
export is built as bytes for a download button.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePath

from storage.corpus import add_document
from storage.database import Database
from storage.exporters import FORMATS as EXPORT_FORMAT_TABLE, export_path, labels_csv
from storage.importers import ImportBatch, ImportFailed, ImportReport, parse_path, write_batch
from storage.importers.text import read_text
from storage.rdf_vocab import DEFAULT_BASE

from knowco.access import Actor, require

#: the download button's choices, by the names the page shows
EXPORT_CHOICES = {f.title: f for f in EXPORT_FORMAT_TABLE}
UPLOAD_TYPES = ["tsv", "txt", "csv", "ttl", "nt", "jsonld", "rdf", "owl", "xml", "jsonl", "json"]
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


@dataclass
class UploadPreview:
    format: str
    entities: int
    relations: int
    triples: int
    sentence_examples: int
    skipped: dict[str, int]
    sample: list[tuple[str, str, str]]


def _safe_name(name: str) -> str:
    """The file's own name without any folder part a browser might send."""
    base = PurePath(name.replace("\\", "/")).name.strip() or "upload"
    return base[:200]


def _staged(name: str, data: bytes, folder: str) -> Path:
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportFailed(name, None, f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB; use "
                           "`python -m knowco import` for files this big")
    path = Path(folder) / _safe_name(name)
    path.write_bytes(data)
    return path


def _parse_upload(name: str, data: bytes, fmt: str) -> ImportBatch:
    """The upload parsed under its own name: the batch and any error name the uploaded file, never the
    temporary folder it was staged in."""
    with tempfile.TemporaryDirectory() as folder:
        try:
            batch = parse_path(_staged(name, data, folder), fmt)
        except ImportFailed as exc:
            raise ImportFailed(_safe_name(name), exc.line, exc.reason) from None
    batch.path = _safe_name(name)
    return batch


def preview_upload(name: str, data: bytes, fmt: str = "auto") -> UploadPreview:
    """Parse the whole upload (no database involved): its counts, or `ImportFailed` naming the bad line."""
    batch = _parse_upload(name, data, fmt)
    return UploadPreview(batch.format, len(batch.entities), len(batch.relations), len(batch.triples),
                         len(batch.sentence_examples), dict(batch.skipped),
                         [(t.head, t.relation, t.tail) for t in batch.triples[:10]])


def import_file(database: Database, actor: Actor, path: str | Path, fmt: str = "auto") -> ImportReport:
    """Import a file or directory: parsed completely first, then written in one transaction (all or nothing)."""
    require(actor, "import")
    batch = parse_path(Path(path), fmt)
    with database.transaction() as session:
        return write_batch(session, batch, actor.name)


def import_upload(database: Database, actor: Actor, name: str, data: bytes, fmt: str) -> ImportReport:
    """An upload from the app, recorded in the history under the file's own name."""
    require(actor, "import")
    batch = _parse_upload(name, data, fmt)
    with database.transaction() as session:
        return write_batch(session, batch, actor.name)


def import_document(database: Database, actor: Actor, name: str, data: bytes) -> tuple[int, int]:
    """A plain-text document (one sentence or paragraph per line): (sentences added, already present)."""
    require(actor, "import")
    with tempfile.TemporaryDirectory() as folder:
        text = read_text(_staged(name, data, folder))
    with database.transaction() as session:
        return add_document(session, _safe_name(name), text, actor.name)


def export_file(database: Database, actor: Actor, out: str | Path, fmt: str | None = None, *,
                include_suggested: bool = False, include_rejected: bool = False, base: str = DEFAULT_BASE) -> int:
    """Write the graph to `out` (CSV or RDF); returns the rows or statements written."""
    require(actor, "export")
    with database.sessions() as session:
        return export_path(session, out, fmt, include_suggested=include_suggested,
                           include_rejected=include_rejected, base=base)


def export_bytes(database: Database, actor: Actor, choice: str, *, include_suggested: bool = False,
                 include_rejected: bool = False) -> tuple[bytes, str, str, int]:
    """(file content, file name, MIME type, rows or statements) for the download button."""
    chosen = EXPORT_CHOICES[choice]
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"knowco-export{chosen.suffix}"
        count = export_file(database, actor, out, chosen.name, include_suggested=include_suggested,
                            include_rejected=include_rejected)
        return out.read_bytes(), out.name, chosen.mime, count


def export_labels_bytes(database: Database, actor: Actor) -> tuple[bytes, str, int]:
    """(CSV content, file name, labels) of every curator label, for the download beside a CSV export."""
    require(actor, "export")
    with database.sessions() as session:
        text, count = labels_csv(session)
    return text.encode("utf-8"), "knowco-export.labels.csv", count
