"""Alembic environment: the URL comes from ``vigil migrate``; metadata from every part's tables."""

from __future__ import annotations

from alembic import context

from vigil.bootstrap import load_all_tables
from vigil.db.engine import build_engine
from vigil.settings import Settings

config = context.config
target_metadata = load_all_tables()


def run_migrations_online() -> None:
    # Set by ``vigil migrate``; a developer running ``alembic`` directly gets the settings' URL.
    url = config.get_main_option("sqlalchemy.url") or Settings().database_url
    engine = build_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
