"""CSV/TSV triples: header or not, hostile names verbatim, and all-or-nothing on a bad line."""
from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import func, select

from knowco.services import Actor, export_file, import_file
from storage.importers import ImportFailed
from storage.models import AuditEvent, Entity, Triple

HOSTILE_NAMES = [
    "Müller–Lyer illusion",
    "北京",
    "مرحبا",
    'a "quoted", comma name',
    "<img src=x onerror=alert(1)>",
    "semi;colon 'single' \\backslash",
    "emoji 🧬 name",
    "tab\tinside",
    "line\nbreak",
    "  padded  ",
]


def _count(db, model) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_csv_with_header_and_without(db, tmp_path):
    (tmp_path / "a.csv").write_text("head,relation,tail\naspirin,treats,pain\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("ibuprofen,treats,pain\n", encoding="utf-8")
    import_file(db, Actor("u", "admin"), tmp_path / "a.csv")
    import_file(db, Actor("u", "admin"), tmp_path / "b.csv")
    assert _count(db, Triple) == 2 and _count(db, Entity) == 3


def test_tsv_with_bom_and_crlf(db, tmp_path):
    (tmp_path / "t.tsv").write_bytes("\ufeffaspirin\ttreats\tpain\r\nibuprofen\ttreats\tpain\r\n".encode("utf-8"))
    import_file(db, Actor("u", "admin"), tmp_path / "t.tsv")
    with db.sessions() as session:
        assert set(session.scalars(select(Entity.name))) == {"aspirin", "ibuprofen", "pain"}


@pytest.mark.parametrize("fmt", ["csv", "turtle"])
def test_hostile_names_survive_a_round_trip(db, make_db, tmp_path, fmt):
    rows = [(name, "rel, \"odd\"", HOSTILE_NAMES[(i + 1) % len(HOSTILE_NAMES)]) for i, name in enumerate(HOSTILE_NAMES)]
    pd.DataFrame(rows, columns=["head", "relation", "tail"]).to_csv(tmp_path / "in.csv", index=False)
    import_file(db, Actor("u", "admin"), tmp_path / "in.csv")
    out = tmp_path / ("out.csv" if fmt == "csv" else "out.ttl")
    export_file(db, Actor("exporter", "admin"), out, fmt)
    second = make_db()
    import_file(second, Actor("u", "admin"), out)
    export_file(second, Actor("exporter", "admin"), tmp_path / "final.csv", "csv")
    final = pd.read_csv(tmp_path / "final.csv", dtype=str, keep_default_na=False)
    assert set(zip(final["head"], final["relation"], final["tail"])) == set(rows)
    with second.sessions() as session:
        assert set(session.scalars(select(Entity.name))) == set(HOSTILE_NAMES)


@pytest.mark.parametrize(
    "content, line, reason",
    [
        ("a,r,b\nc,r\n", 2, "expected 3 fields"),
        ("a,r,b\nc,r,d,e\n", 2, "expected 3 fields"),
        ("a,r,b\n,r,d\n", 2, "empty entity name"),
        ("head,relation,tail,status\na,r,b,accepted\nc,r,d,maybe\n", 3, "unknown status"),
        ("head,relation,tail,confidence\na,r,b,0.5\nc,r,d,high\n", 3, "confidence is not a number"),
        ('a,r,b\n"unterminated,r,d\n', 2, "malformed CSV"),
        ("head,head,tail\naspirin,treats,pain\n", 1, "looks like a header (head, head, tail)"),
        ("subject,object,note\na,b,c\n", 1, "does not name the head, relation and tail"),
        ("head,relation,tail\nhead,relation,tail\na,r,b\n", 2, "repeats the header"),
    ],
)
def test_a_bad_line_changes_nothing_and_is_named(db, tmp_path, content, line, reason):
    import_file(db, Actor("u", "admin"), _write(tmp_path / "good.csv", "x,r,y\n"))
    bad = _write(tmp_path / "bad.csv", content)
    with pytest.raises(ImportFailed) as failure:
        import_file(db, Actor("u", "admin"), bad)
    assert failure.value.line == line
    assert reason in failure.value.reason
    assert str(failure.value).startswith(f"{bad}:{line}: ")
    assert "\n" not in str(failure.value)
    assert _count(db, Triple) == 1 and _count(db, Entity) == 2 and _count(db, AuditEvent) == 1


def test_invalid_utf8_names_the_line(db, tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_bytes(b"a\tr\tb\nc\tr\t\xff\xfe\n")
    with pytest.raises(ImportFailed, match=r"bad.tsv:2: not valid UTF-8"):
        import_file(db, Actor("u", "admin"), bad)
    assert _count(db, Triple) == 0


def test_export_columns_and_statuses(db, tmp_path):
    content = ("head,relation,tail,status,source,confidence\n"
               "a,r,b,accepted,imported,\nc,r,d,suggested,model,0.75\ne,r,f,rejected,model,0.2\n")
    import_file(db, Actor("carol", "admin"), _write(tmp_path / "in.csv", content))
    export_file(db, Actor("exporter", "admin"), tmp_path / "acc.csv")
    export_file(db, Actor("exporter", "admin"), tmp_path / "all.csv", include_suggested=True, include_rejected=True)
    accepted = pd.read_csv(tmp_path / "acc.csv", dtype=str, keep_default_na=False)
    everything = pd.read_csv(tmp_path / "all.csv", dtype=str, keep_default_na=False)
    assert list(accepted.columns) == [
        "head", "relation", "tail", "head_label", "relation_label", "tail_label", "status", "source", "confidence",
        "model_version", "created_by", "created_at", "reviewed_by", "reviewed_at", "reason", "comment", "pattern",
        "evidence", "spot_check",
    ]
    assert list(accepted["head"]) == ["a"]
    assert dict(zip(everything["head"], everything["status"])) == {"a": "accepted", "c": "suggested", "e": "rejected"}
    assert everything.set_index("head").loc["c", "confidence"] == "0.75"
    assert set(everything["created_by"]) == {"carol"}


def test_repeated_rows_in_one_file_import_once(db, tmp_path):
    report = import_file(db, Actor("u", "admin"), _write(tmp_path / "d.tsv", "a\tr\tb\na\tr\tb\n"))
    assert report.created["triples"] == 1
    assert report.skipped == {"repeated triples in the file": 1}


def _write(path, content: str):
    path.write_text(content, encoding="utf-8")
    return path


def test_an_imported_suggestion_without_a_confidence_can_be_reviewed(db, tmp_path):
    """The queue orders by the confidence column (an index serves it): a suggestion imported without one gets 0,
    so the queue, its count and accepting everything from 0 up all reach it."""
    from knowco.services import bulk_accept, queue, queue_size

    (tmp_path / "s.csv").write_text("head,relation,tail,status,confidence\n"
                                    "a,r,b,suggested,\nc,r,d,suggested,0.4\n", encoding="utf-8")
    import_file(db, Actor("u", "admin"), tmp_path / "s.csv")
    assert [(s.head, s.confidence) for s in queue(db, limit=10)] == [("c", 0.4), ("a", 0.0)]
    assert queue_size(db) == 2
    assert bulk_accept(db, Actor("u", "admin"), min_confidence=0.0) == 2
