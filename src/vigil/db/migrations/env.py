"""Alembic environment: the URL comes from ``vigil migrate``; metadata from every part's tables."""

from __future__ import annotations

from alembic import context

from vigil.bootstrap import load_all_tables
from vigil.db.engine import build_engine
from vigil.settings import Settings
from vigil.tracking.partitions import is_partition_name

config = context.config
target_metadata = load_all_tables()


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # The trail's monthly partitions (PostgreSQL, tracking_0003) are made at run time by
    # tracking.partitions, not declared in the metadata: autogenerate must not drop them.
    return not (type_ == "table" and reflected and is_partition_name(name))


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
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
