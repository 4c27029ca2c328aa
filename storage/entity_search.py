"""The entity search index a migration made where the database can (0008): SQLite FTS5 with the trigram
tokenizer, or PostgreSQL pg_trgm GIN indexes. PostgreSQL uses its indexes for ILIKE by itself; on SQLite a
search goes through the FTS table with MATCH. Without an index (an old SQLite, no right to create the
extension), search scans, as before.
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy import text
from sqlalchemy.orm import Session

TABLE = "entity_search"
#: database objects the ORM's models do not describe (left out of the schema comparison)
OBJECTS = ("entity_search", "ix_entity_label_trgm", "ix_entity_name_trgm")
#: the trigram tokenizer matches words of three characters or more
MIN_WORD = 3


def is_search_object(name: Optional[str]) -> bool:
    return bool(name) and name.startswith(OBJECTS)


def has_fts(session: Session) -> bool:
    """Whether this is SQLite with the FTS5 trigram table."""
    if session.get_bind().dialect.name != "sqlite":
        return False
    return session.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
                           {"name": TABLE}).first() is not None


def match_expression(words: list[str]) -> Optional[str]:
    """An FTS5 query asking for every word as a substring of the name or label; None when a word is too short
    for trigrams (the caller scans instead)."""
    if not words or any(len(word) < MIN_WORD for word in words):
        return None
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in words)
