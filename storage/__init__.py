"""The knowledge-graph store: SQLAlchemy models, migrations, imports, exports and queries. No torch here."""
from storage.database import Database, StorageError, open_database, resolve_url

__all__ = ["Database", "StorageError", "open_database", "resolve_url"]
