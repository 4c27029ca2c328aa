"""The schema: migrations build exactly the ORM's tables, SQLite runs with its safety pragmas, reopening is safe."""
from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage.database import StorageError, alembic_config, open_database, resolve_url
from storage.entity_search import is_search_object
from storage.models import Base


def test_migrations_match_the_models(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_name": lambda name, type_, parent: not is_search_object(name)})
        assert compare_metadata(context, Base.metadata) == []


def test_database_is_at_the_newest_revision(db):
    head = ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head


def test_sqlite_has_foreign_keys_and_wal(sqlite_db):
    with sqlite_db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_reopening_an_existing_file_keeps_its_rows(tmp_path):
    path = tmp_path / "kg.sqlite"
    first = open_database(str(path))
    with first.transaction() as session:
        session.execute(text("INSERT INTO relation (name, label, description, created_by, created_at) "
                             "VALUES ('r', 'r', '', 'me', CURRENT_TIMESTAMP)"))
    first.dispose()
    second = open_database(str(path))
    with second.sessions() as session:
        assert session.execute(text("SELECT count(*) FROM relation")).scalar() == 1
    second.dispose()


def test_foreign_keys_are_enforced(sqlite_db):
    with pytest.raises(Exception):
        with sqlite_db.transaction() as session:
            session.execute(text("INSERT INTO triple (head_id, relation_id, tail_id, status, source, created_by, "
                                 "created_at) VALUES (1, 1, 1, 'accepted', 'imported', 'me', CURRENT_TIMESTAMP)"))


def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StorageError, match="cannot open or upgrade"):
        open_database(str(path))
    assert "these are my notes" in path.read_text()


def test_missing_folder_gives_a_clear_error(tmp_path):
    with pytest.raises(StorageError, match="folder for the database file does not exist"):
        open_database(str(tmp_path / "nowhere" / "kg.sqlite"))


def test_resolve_url_accepts_paths_and_urls(tmp_path, monkeypatch):
    from knowco.settings import settings

    assert resolve_url(str(tmp_path / "a.sqlite")) == f"sqlite:///{tmp_path / 'a.sqlite'}"
    assert resolve_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    monkeypatch.chdir(tmp_path)
    assert resolve_url(None) == f"sqlite:///{tmp_path / 'knowco.sqlite'}"
    monkeypatch.setenv("KNOWCO_DATABASE_URL", "sqlite:///x.sqlite")
    assert resolve_url(settings().database) == "sqlite:///x.sqlite"
    assert resolve_url(settings().with_flags(database="y.sqlite").database) == f"sqlite:///{tmp_path / 'y.sqlite'}"


def test_sqlite_file_is_a_real_sqlite_database(tmp_path):
    database = open_database(str(tmp_path / "kg.sqlite"))
    database.dispose()
    tables = {row[0] for row in sqlite3.connect(tmp_path / "kg.sqlite").execute(
        "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"entity", "relation", "triple", "example", "sentence", "document", "model_version", "audit_event",
            "alembic_version"} <= tables


def _sqlite_at(folder, revision: str):
    """An SQLite database migrated to `revision` only, and a call that upgrades it the way the app does."""
    from alembic import command
    from sqlalchemy import create_engine, event
    from sqlalchemy.orm import sessionmaker

    from storage.database import _sqlite_pragmas, upgrade, Database

    url = resolve_url(str(folder / "old.sqlite"))
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_pragmas)
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return engine, lambda: upgrade(Database(url, engine, sessionmaker(engine)))


def test_upgrading_a_database_with_data_keeps_every_row(tmp_path):
    """SQLite migrations copy tables (batch mode): with foreign keys on, dropping the old copy would cascade
    into the rows that point at it. An upgrade from revision 0004 must keep triples, labels and evidence."""
    engine, upgraded = _sqlite_at(tmp_path, "0004")
    rows = {
        "entity": "INSERT INTO entity (id, name, label, description, aliases, created_by, created_at) VALUES "
                  "(1, 'a', 'a', '', '[]', 'me', CURRENT_TIMESTAMP), (2, 'b', 'b', '', '[]', 'me', CURRENT_TIMESTAMP)",
        "relation": "INSERT INTO relation (id, name, label, description, created_by, created_at) VALUES "
                    "(1, 'r', 'r', '', 'me', CURRENT_TIMESTAMP)",
        "triple": "INSERT INTO triple (id, head_id, relation_id, tail_id, status, source, created_by, created_at) "
                  "VALUES (1, 1, 1, 2, 'accepted', 'imported', 'me', CURRENT_TIMESTAMP)",
        "document": "INSERT INTO document (id, name, created_by, created_at) VALUES (1, 'd', 'me', CURRENT_TIMESTAMP)",
        "sentence": "INSERT INTO sentence (id, document_id, position, text, tokens, text_sha256, created_at) VALUES "
                    "(1, 1, 0, 'a b', '[\"a\", \"b\"]', 'x', CURRENT_TIMESTAMP)",
        "evidence": "INSERT INTO evidence (triple_id, sentence_id, head_start, head_end, tail_start, tail_end, score) "
                    "VALUES (1, 1, 0, 1, 1, 2, 0.9)",
        "example": "INSERT INTO example (kind, relation_id, label, head_id, tail_id, created_by, created_at) VALUES "
                   "('triple', 1, 1, 1, 2, 'me', CURRENT_TIMESTAMP)",
    }
    with engine.begin() as connection:
        for statement in rows.values():
            connection.execute(text(statement))
    upgraded()
    with engine.connect() as connection:
        counts = {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() for table in rows}
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1  # back on after the upgrade
    assert counts == {"entity": 2, "relation": 1, "triple": 1, "document": 1, "sentence": 1, "evidence": 1,
                      "example": 1}
    engine.dispose()


def test_upgrading_keeps_the_newest_of_live_tokens_that_share_a_name(tmp_path):
    """Before revision 0015 two `token add` calls could both make a live token of one name; the upgrade that
    makes live names unique revokes the older ones instead of failing on them."""
    engine, upgraded = _sqlite_at(tmp_path, "0014")
    with engine.begin() as connection:
        for i, name in enumerate(["nightly", "nightly", "other"]):
            connection.execute(text(
                "INSERT INTO api_token (name, actor, role, token_hash, created_by, created_at) VALUES "
                f"('{name}', 'bot', 'admin', 'hash{i}', 'me', CURRENT_TIMESTAMP)"))
    upgraded()
    with engine.connect() as connection:
        live = connection.execute(text("SELECT id, name FROM api_token WHERE revoked_at IS NULL ORDER BY id")).all()
    assert [tuple(row) for row in live] == [(2, "nightly"), (3, "other")]
