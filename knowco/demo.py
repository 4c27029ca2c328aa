"""The bundled demo KG: a small pharmacology graph a new user can explore before importing their own."""
from __future__ import annotations

from pathlib import Path

from storage.database import Database
from storage.importers import ImportReport
from storage.labels import is_empty

from knowco.access import Actor
from knowco.transfer import import_file

DEMO_DIR = Path(__file__).with_name("demo_kg")
DEMO_SENTENCES = DEMO_DIR / "sentences.jsonl"


def seed_demo(database: Database, actor: Actor) -> list[ImportReport]:
    """Import the demo graph and its labelled sentences (idempotent: a second call adds nothing)."""
    return [import_file(database, actor, DEMO_DIR, "kgdir"), import_file(database, actor, DEMO_SENTENCES, "jsonl")]


def seed_demo_if_empty(database: Database, actor: Actor) -> bool:
    """Seed a brand-new database so the app never opens on an empty screen; leave a used one alone."""
    with database.sessions() as session:
        if not is_empty(session):
            return False
    seed_demo(database, actor)
    return True
