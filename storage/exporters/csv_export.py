"""CSV export through pandas: one row per triple, with names, status, provenance and the sentences it was read
in; the curators' labels go to a second file beside it (`labels_path`)."""
from __future__ import annotations

from dataclasses import asdict, fields
from datetime import timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from storage.exporters.rows import ExportLabel, ExportTriple, export_evidence, export_labels, export_triples
from storage import spot_checks
from storage.exporters.files import atomic_output
from storage.spot_checks import SpotCheckRow

if TYPE_CHECKING:  # pandas is imported when a CSV is written: half a second off every command-line start
    import pandas as pd

#: the spot check's id is written as what it stated (`spot_check`), not as a bare number
COLUMNS = [f.name for f in fields(ExportTriple) if f.name != "spot_check_id"] + ["evidence", "spot_check"]
LABEL_COLUMNS = [f.name for f in fields(ExportLabel)]


def _iso(value):
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat()


def triples_frame(session: Session, statuses: tuple[str, ...]) -> "pd.DataFrame":
    import pandas as pd

    evidence = export_evidence(session, statuses)
    checks = spot_checks.for_export(session)
    rows = []
    for triple in export_triples(session, statuses):
        row = asdict(triple)
        row.pop("spot_check_id")
        row["created_at"] = _iso(triple.created_at)
        row["reviewed_at"] = _iso(triple.reviewed_at)
        # the sentences it was read in, one per line
        row["evidence"] = "\n".join(s.text for s, _ in evidence.get((triple.head, triple.relation, triple.tail), ()))
        check = checks.get(triple.spot_check_id)
        row["spot_check"] = spot_check_words(check) if check else None
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def spot_check_words(check: SpotCheckRow) -> str:
    """What the curator signed off when a spot check accepted the triple, e.g. "spot check 3: about 92 % of
    the rest hold (85–96 %), from 40 checked (37 held), signed off by ann at 2026-12-07T10:00:00+00:00"."""
    e = check.estimate or {}
    of = f" of {e['slice_size']} ({e['slice']})" if e.get("slice") else ""
    return (f"spot check {check.id}{of}: about {e.get('precision', 0):.0%} of the rest hold ({e.get('low', 0):.0%}–"
            f"{e.get('high', 0):.0%}), from {e.get('judged', 0)} checked ({e.get('held', 0)} held), signed off by "
            f"{check.signed_off_by} at {_iso(check.signed_off_at)}")


def labels_frame(session: Session) -> "pd.DataFrame":
    import pandas as pd

    rows = [{**asdict(label), "created_at": _iso(label.created_at)} for label in export_labels(session)]
    # a whole number, also where some rows have none (pandas would write 21.0)
    return pd.DataFrame(rows, columns=LABEL_COLUMNS).astype({"id": "Int64", "sentence_id": "Int64"})


def labels_path(out: Path) -> Path:
    """Where the labels go beside a CSV export: `kg.csv` → `kg.labels.csv`."""
    return out.with_name(f"{out.stem}.labels.csv")


def write_csv(session: Session, out: Path, statuses: tuple[str, ...]) -> int:
    """The triples to `out` and the labels beside it; returns the triples' row count."""
    frame = triples_frame(session, statuses)
    with atomic_output(out) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    labels = labels_frame(session)
    with atomic_output(labels_path(out)) as tmp:
        labels.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    return len(frame)
