"""Storage faults a curator can meet: a full disk and a read-only database give one clear sentence, and the
database is left exactly as it was."""
from __future__ import annotations

from sqlalchemy import event, func, select, text

import pytest

from knowco.services import Actor, import_file, seed_demo
from knowco.cli import main as cli
from storage.database import StorageError, open_database
from storage.models import Triple


def _triples(database) -> int:
    with database.sessions() as session:
        return session.scalar(select(func.count()).select_from(Triple))


def _big_tsv(path, n=20000):
    path.write_text("".join(f"entity {i}\trelated_to\tentity {i + 1}\n" for i in range(n)), encoding="utf-8")
    return path


def test_a_full_disk_is_reported_and_nothing_is_written(tmp_path):
    database = open_database(str(tmp_path / "kg.sqlite"))
    seed_demo(database, Actor("seeder", "admin"))
    before = _triples(database)
    database.engine.dispose()
    # SQLite's page budget stands in for a full disk: every connection may not grow the file any more
    event.listen(database.engine, "connect",
                 lambda connection, _: connection.execute("PRAGMA max_page_count = "
                                                          + str(connection.execute("PRAGMA page_count").fetchone()[0])))
    with pytest.raises(StorageError, match="disk holding the database is full"):
        import_file(database, Actor("ann", "admin"), _big_tsv(tmp_path / "big.tsv"))
    assert _triples(database) == before
    with database.sessions() as session:
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    database.dispose()


def test_a_read_only_database_is_reported_in_one_line(tmp_path, capsys):
    path = tmp_path / "kg.sqlite"
    database = open_database(str(path))
    seed_demo(database, Actor("seeder", "admin"))
    database.dispose()
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    assert cli(["--db", read_only, "import", str(_big_tsv(tmp_path / "small.tsv", 10))]) == 2
    assert "read-only" in capsys.readouterr().err
    assert _triples(open_database(str(path))) == 326
