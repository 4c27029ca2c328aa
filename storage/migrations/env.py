"""Alembic environment: runs on the connection `storage.database.upgrade` hands over, or on the URL."""
from alembic import context
from sqlalchemy import create_engine

from storage.entity_search import is_search_object
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        with create_engine(config.get_main_option("sqlalchemy.url")).begin() as own:
            _run(own)
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # the search index (0008) is made by hand, per database; the models do not describe it
        include_name=lambda name, type_, parent_names: not is_search_object(name),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
