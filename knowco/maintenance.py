"""Use cases of `python -m knowco backup / restore`: copies of the whole database file, an admin's job."""
from __future__ import annotations

from pathlib import Path

from storage import backup as files
from storage.database import Database

from knowco.access import Actor, require


def backup(database: Database, actor: Actor, out: Path) -> int:
    """Copy the database to `out`; returns the number of entities copied."""
    require(actor, "maintain")
    return files.backup(database, out)


def restore(database: Database, actor: Actor, source: Path, *, force: bool = False) -> int:
    """Replace the database with a backup; returns the number of entities restored."""
    require(actor, "maintain")
    return files.restore(database, source, force=force)
