"""The bundled demo KG: a small pharmacology graph a new user can explore before importing their own."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from storage.database import Database
from storage.importers import ImportReport, import_path
from storage.models import Entity

DEMO_DIR = Path(__file__).with_name("demo_kg")
DEMO_SENTENCES = DEMO_DIR / "sentences.jsonl"


def seed_demo(database: Database, user: str) -> list[ImportReport]:
    """Import the demo graph and its labelled sentences (idempotent: a second call adds nothing)."""
    return [import_path(database, DEMO_DIR, "kgdir", user=user), import_path(database, DEMO_SENTENCES, "jsonl", user=user)]


def seed_demo_if_empty(database: Database, user: str) -> bool:
    """Seed a brand-new database so the app never opens on an empty screen; leave a used one alone."""
    with database.sessions() as session:
        if session.scalar(select(func.count()).select_from(Entity)):
            return False
    seed_demo(database, user)
    return True
