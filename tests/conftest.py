"""Shared fixtures: the read-only data in ../shared/data and a fresh database per test on each backend.

PostgreSQL tests run when KNOWCO_TEST_POSTGRES_URL names a server (`.ci/start-postgres` prints one); on a
developer machine without it they skip, but under CI=true a missing server or data folder is a failure, so a
CI run can never pass by skipping them.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.database import Database, open_database

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get("KNOWCO_TEST_POSTGRES_URL")


def _missing(reason: str):
    if IN_CI:
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        _missing(f"{SHARED_DATA} is absent: the shared benchmark data is needed")
    return SHARED_DATA


@pytest.fixture
def umls_dir(shared_data: Path) -> Path:
    return shared_data / "umls"


@pytest.fixture
def semeval_dir(shared_data: Path) -> Path:
    return shared_data / "semeval"


def _postgres_database():
    if not POSTGRES_URL:
        _missing("KNOWCO_TEST_POSTGRES_URL is not set: no PostgreSQL server to test against")
    name = f"knowco_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    return admin, name, url


def make_database(backend: str, tmp_path: Path):
    """A fresh database on `backend` and a function that drops it."""
    if backend == "sqlite":
        database = open_database(str(tmp_path / f"kg-{uuid.uuid4().hex[:6]}.sqlite"))
        return database, database.dispose
    admin, name, url = _postgres_database()
    database = open_database(url)

    def drop() -> None:
        database.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return database, drop


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def db(backend: str, tmp_path: Path):
    """An empty, migrated database on each backend."""
    database, drop = make_database(backend, tmp_path)
    yield database
    drop()


@pytest.fixture
def make_db(backend: str, tmp_path: Path):
    """A factory for more empty databases on the same backend (round trips need two)."""
    drops = []

    def factory() -> Database:
        database, drop = make_database(backend, tmp_path)
        drops.append(drop)
        return database

    yield factory
    for drop in drops:
        drop()


@pytest.fixture
def sqlite_db(tmp_path: Path):
    database = open_database(str(tmp_path / "kg.sqlite"))
    yield database
    database.dispose()
