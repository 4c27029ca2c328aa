"""Backups of the embedded database with SQLite's online backup API: a consistent copy even while the app
writes, and a restore that replaces the database only with a file that really is a KnowCo database.
PostgreSQL has its own tools (`pg_dump -Fc` / `pg_restore`), which know its server better than we could.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.engine import make_url

from storage.database import Database, StorageError
from storage.models import Entity

POSTGRES_HINT = ("this database is PostgreSQL: back it up with `pg_dump -Fc URL -f FILE` and restore with "
                 "`pg_restore -d URL FILE`")


def _sqlite_file(database: Database) -> Path:
    url = make_url(database.url)
    if url.get_backend_name() != "sqlite":
        raise StorageError(POSTGRES_HINT)
    if url.database in (None, "", ":memory:"):
        raise StorageError("an in-memory database has nothing to back up")
    return Path(url.database)


def backup(database: Database, out: Path) -> int:
    """Copy the whole database to `out` (a new SQLite file); returns the number of entities copied."""
    source = _sqlite_file(database)
    if out.exists():
        raise StorageError(f"{out} already exists; choose a new file name")
    if not out.parent.is_dir():
        raise StorageError(f"the folder for the backup does not exist: {out.parent}")
    partial = out.with_name(out.name + ".partial")
    try:
        with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
            src.backup(dst)
        partial.replace(out)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(f"backup failed: {exc}") from exc
    return _entities(out)


def _entities(path: Path) -> int:
    engine = create_engine(f"sqlite:///{path}")
    try:
        if not {"alembic_version", "entity", "triple"} <= set(inspect(engine).get_table_names()):
            raise StorageError(f"{path} is not a KnowCo database")
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(Entity)).scalar() or 0)
    except StorageError:
        raise
    except Exception as exc:
        raise StorageError(f"{path} is not a KnowCo database ({type(exc).__name__})") from exc
    finally:
        engine.dispose()


def restore(database: Database, source: Path, *, force: bool = False) -> int:
    """Replace the database's content with the backup `source`; refuses to overwrite a non-empty database
    unless `force`. Returns the number of entities restored."""
    target = _sqlite_file(database)
    if not source.is_file():
        raise StorageError(f"no backup file at {source}")
    restored = _entities(source)
    if not force and target.exists() and _entities(target):
        raise StorageError(f"{target} already holds a knowledge graph; add --force to replace it with {source}")
    database.dispose()
    try:
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
    except sqlite3.Error as exc:
        raise StorageError(f"restore failed, the database is unchanged: {exc}") from exc
    return restored
