"""Opening a knowledge-graph database: URL resolution, SQLite pragmas, migrations, transactions.

One `Database` object per process and URL. Its schema is brought to the newest Alembic revision when it is
opened, so a file made by an older version of KnowCo opens in this one.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_SQLITE_FILE = "knowco.sqlite"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class StorageError(Exception):
    """A problem a user can act on (bad URL, unreachable server, unreadable file); the message says what."""


def one_line(exc: BaseException) -> str:
    """The driver's own message on one line, without SQLAlchemy's background links and SQL echo."""
    message = str(getattr(exc, "orig", None) or exc)
    return " ".join(message.split())[:400]


BUSY = "the database is busy with another writer: try again in a moment; nothing was written"
#: driver messages (SQLite and PostgreSQL) of faults a curator can fix, and what to tell them
_FAULTS = (
    (("disk is full", "diskfull", "no space left", "could not extend file"),
     "the disk holding the database is full: free some space and try again; nothing was written"),
    (("readonly database", "read-only", "read only"),
     "the database is read-only here: check the file's permissions (or the server's role); nothing was written"),
    (("database is locked", "could not obtain lock", "deadlock detected"), BUSY),
)


def explain(exc: BaseException) -> str | None:
    """A sentence for a storage fault the user can act on; None for anything else (a bug to report)."""
    text = one_line(exc).lower() + " " + type(getattr(exc, "orig", exc)).__name__.lower()
    for needles, sentence in _FAULTS:
        if any(needle in text for needle in needles):
            return sentence
    return None


def resolve_url(db: str | None = None) -> str:
    """Turn a path or URL (None: the default file) into an SQLAlchemy URL."""
    value = db or DEFAULT_SQLITE_FILE
    if "://" in value:
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://") :]
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


#: how long a writer waits for the one before it (SQLite's own busy timeout, and the process's queue)
BUSY_TIMEOUT_S = 10


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    cursor.close()


#: statements that make SQLite take its one write lock
_WRITES = ("insert", "update", "delete", "replace", "create", "drop", "alter")


def _queue_writers(engine: Engine) -> None:
    """SQLite lets one writer in at a time, and a connection that finds the file locked sleeps in growing steps
    (up to 100 ms) before it looks again: under the API's load test a verdict spent most of its time so. The
    threads of one process now wait for each other here from their first write to their commit or rollback,
    and each is woken the moment the one before it ends; SQLite's own wait is left for other processes. Such a
    writer (a retrain worker's progress, a second API process) then competes with the one writer of this process,
    not with every thread: beside 8 threads writing without a pause, one write every 50 ms from another process
    waited p50 / p95 5 / 60 ms (24 / 736 ms when every thread slept in SQLite's steps)."""
    turn = threading.Lock()
    holder: list[object] = [None]  # the DBAPI connection whose transaction holds the turn

    @event.listens_for(engine, "before_cursor_execute")
    def _take_turn(connection, _cursor, statement, _parameters, _context, _many) -> None:
        raw = connection.connection.dbapi_connection
        if holder[0] is not raw and statement.lstrip()[:7].lower().startswith(_WRITES):
            if not turn.acquire(timeout=BUSY_TIMEOUT_S):
                raise StorageError(BUSY)
            holder[0] = raw

    def _end_turn(connection) -> None:
        # the pool hands its own proxy to do_commit / do_rollback, the events the DBAPI connection
        if holder[0] is getattr(connection, "dbapi_connection", connection):
            holder[0] = None
            turn.release()

    @event.listens_for(engine, "close")
    def _closed(dbapi_connection, _record) -> None:
        _end_turn(dbapi_connection)

    @event.listens_for(engine, "invalidate")
    def _invalidated(dbapi_connection, _record, _exception) -> None:
        _end_turn(dbapi_connection)

    def ending_the_turn(step: Callable[[object], None]) -> Callable[[object], None]:
        def ended(dbapi_connection) -> None:
            try:
                step(dbapi_connection)
            finally:
                _end_turn(dbapi_connection)
        return ended

    dialect = engine.dialect
    dialect.do_commit, dialect.do_rollback = ending_the_turn(dialect.do_commit), ending_the_turn(dialect.do_rollback)


def alembic_config(url: str) -> Config:
    """An Alembic configuration that needs no alembic.ini: the migrations ship inside the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@dataclass
class Database:
    """An opened, migrated database and a session factory bound to it."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed as a whole, or rolled back as a whole on any error. A full disk, a
        read-only file or a busy database becomes a `StorageError` that says so."""
        try:
            with self.sessions.begin() as session:
                yield session
        except DBAPIError as exc:
            sentence = explain(exc)
            if sentence is None:
                raise
            raise StorageError(sentence) from exc

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(db: str | None = None, *, migrate: bool = True) -> Database:
    """Open (and create or upgrade) the database named by a path or URL."""
    url = resolve_url(db)
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise StorageError(f"not a database path or URL: {db!r} ({exc})") from exc
    if (parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
            and not parsed.query.get("uri")):
        folder = Path(parsed.database).parent
        if not folder.is_dir():
            raise StorageError(f"the folder for the database file does not exist: {folder}")
    try:
        # a file's connection cannot drop as a server's can: pinging it before each use was 8 % of the API's time
        engine = create_engine(url, pool_pre_ping=parsed.get_backend_name() != "sqlite")
    except Exception as exc:
        raise StorageError(
            f"cannot use database URL {parsed.render_as_string(hide_password=True)}: {one_line(exc)}"
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        _queue_writers(engine)
    database = Database(url=url, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))
    if migrate:
        upgrade(database)
    return database


def upgrade(database: Database) -> None:
    """Bring the schema to the newest revision (creates every table on an empty database).

    On SQLite a migration that changes a table copies it and drops the old one; with foreign keys on, that
    drop would cascade into every row pointing at the table (a triple's evidence, a relation's triples). So
    foreign keys are off while migrating (the pragma only takes effect outside a transaction), checked with
    `PRAGMA foreign_key_check` before the upgrade commits, and on again afterwards."""
    config = alembic_config(database.url)
    try:
        with database.engine.connect() as connection:
            if database.is_sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            try:
                with connection.begin():
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
                    if database.is_sqlite:
                        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                        if broken:
                            raise StorageError(f"the upgrade would leave {len(broken)} rows pointing at nothing")
            finally:
                if database.is_sqlite:
                    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                    connection.commit()
    except Exception as exc:
        target = make_url(database.url).render_as_string(hide_password=True)
        raise StorageError(f"cannot open or upgrade the database {target}: {one_line(exc)}") from exc
