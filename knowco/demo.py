"""The bundled demo KG: a small pharmacology graph a new user can explore before importing their own."""
from __future__ import annotations

from pathlib import Path

from storage.database import Database
from storage.importers import ImportReport
from storage.labels import is_empty

from knowco.access import Actor
from knowco.errors import CuratorError
from knowco.transfer import import_file

DEMO_DIR = Path(__file__).with_name("demo_kg")
DEMO_SENTENCES = DEMO_DIR / "sentences.jsonl"


class DemoWouldMix(CuratorError):
    """The database already holds a KG: the demo's relations would merge into the curator's own."""


def seed_demo(database: Database, actor: Actor, *, mix: bool = True) -> list[ImportReport]:
    """Import the demo graph and its labelled sentences (idempotent: a second call adds nothing). With
    `mix=False`, only into an empty database: its `treats` and `affects` would otherwise join the curator's
    relations of the same name unannounced."""
    if not mix:
        with database.sessions() as session:
            if not is_empty(session):
                raise DemoWouldMix("this database already holds a knowledge graph: the demo's relations (treats, "
                                   "affects, …) would merge with yours; load it into a new database (--db), or "
                                   "pass --mix to add it anyway")
    return [import_file(database, actor, DEMO_DIR, "kgdir"), import_file(database, actor, DEMO_SENTENCES, "jsonl")]


def seed_demo_if_empty(database: Database, actor: Actor) -> bool:
    """`run_app.py --demo`: the demo in a brand-new database; a used one is left alone."""
    with database.sessions() as session:
        if not is_empty(session):
            return False
    seed_demo(database, actor)
    return True
