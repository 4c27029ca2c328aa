"""entity search through an index: SQLite FTS5 with the trigram tokenizer (kept in step with `entity` by
triggers), PostgreSQL's pg_trgm GIN indexes (used by ILIKE as it is)

Where the database lacks the means (SQLite older than 3.34, no right to create the extension on PostgreSQL),
nothing is made and search stays a scan: `storage.entity_search` checks which it has.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""
from alembic import op
from sqlalchemy.exc import DBAPIError


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE entity_search USING fts5(name, label, content='entity', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER entity_search_insert AFTER INSERT ON entity BEGIN "
    "INSERT INTO entity_search(rowid, name, label) VALUES (new.id, new.name, new.label); END",
    "CREATE TRIGGER entity_search_delete AFTER DELETE ON entity BEGIN "
    "INSERT INTO entity_search(entity_search, rowid, name, label) VALUES ('delete', old.id, old.name, old.label); "
    "END",
    "CREATE TRIGGER entity_search_update AFTER UPDATE OF name, label ON entity BEGIN "
    "INSERT INTO entity_search(entity_search, rowid, name, label) VALUES ('delete', old.id, old.name, old.label); "
    "INSERT INTO entity_search(rowid, name, label) VALUES (new.id, new.name, new.label); END",
    "INSERT INTO entity_search(entity_search) VALUES ('rebuild')",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS entity_search_insert", "DROP TRIGGER IF EXISTS entity_search_delete",
               "DROP TRIGGER IF EXISTS entity_search_update", "DROP TABLE IF EXISTS entity_search"]
POSTGRES_UP = ["CREATE INDEX ix_entity_label_trgm ON entity USING gin (label gin_trgm_ops)",
               "CREATE INDEX ix_entity_name_trgm ON entity USING gin (name gin_trgm_ops)"]
POSTGRES_DOWN = ["DROP INDEX IF EXISTS ix_entity_label_trgm", "DROP INDEX IF EXISTS ix_entity_name_trgm"]


def _sqlite_has_trigram(bind) -> bool:
    try:
        bind.exec_driver_sql("CREATE VIRTUAL TABLE temp.trigram_probe USING fts5(x, tokenize='trigram')")
    except DBAPIError:
        return False
    bind.exec_driver_sql("DROP TABLE temp.trigram_probe")
    return True


def _postgres_has_trigram(bind) -> bool:
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and _sqlite_has_trigram(bind):
        for statement in SQLITE_UP:
            op.execute(statement)
    elif bind.dialect.name == "postgresql" and _postgres_has_trigram(bind):
        for statement in POSTGRES_UP:
            op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    for statement in SQLITE_DOWN if bind.dialect.name == "sqlite" else POSTGRES_DOWN:
        op.execute(statement)
