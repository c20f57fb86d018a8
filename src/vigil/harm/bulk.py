"""Bulk writes for large harm imports: chunked inserts and reads, index rebuilds, page cache."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl
from sqlalchemy import (
    Index,
    Table,
    func,
    select,
)

from vigil.db.uow import UnitOfWork

BULK_CHUNK = 50_000
# The importer's own connection gets a larger page cache while it loads (SQLite's default of about
# 2 MB makes every insert into a big unique index re-read pages); durability settings are untouched.
BULK_CACHE_KIB = 262_144
# Below this many new rows, or when the table already holds more rows than arrive, indexes are
# kept up row by row; above it, rebuilding a plain index once (a sort) is much cheaper.
REBUILD_MIN_ROWS = 20_000


def bulk_insert(uow: UnitOfWork, table: Table, frame: pl.DataFrame) -> None:
    """Insert a frame fast: COPY on PostgreSQL, driver executemany in chunks on SQLite."""
    if frame.height == 0:
        return
    columns = frame.columns
    if uow.dialect == "postgresql":
        raw: Any = uow.connection.connection.driver_connection
        names = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in frame.iter_rows():
                copy.write_row(row)
        return
    # SQLite: the same text forms SQLAlchemy's own DateTime and Date types store.
    converted = frame.with_columns(
        [
            pl.col(name).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
            for name, dtype in frame.schema.items()
            if isinstance(dtype, pl.Datetime)
        ]
        + [
            pl.col(name).dt.strftime("%Y-%m-%d")
            for name, dtype in frame.schema.items()
            if dtype == pl.Date
        ]
    )
    placeholders = ", ".join("?" for _ in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({placeholders})"  # noqa: S608 - names are ours
    # One prepared statement, fed a chunk of plain tuples at a time: the rows never all exist as
    # Python objects at once (a million rows of tuples would be about a gigabyte).
    cursor = uow.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for offset in range(0, converted.height, BULK_CHUNK):
            cursor.executemany(sql, converted.slice(offset, BULK_CHUNK).rows())
    finally:
        cursor.close()


def read_chunks(
    uow: UnitOfWork, sql: str, schema: dict[str, pl.DataType | type[pl.DataType]]
) -> pl.DataFrame:
    """A query's rows through the driver's cursor, a chunk of plain tuples at a time."""
    cursor = uow.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    parts = [pl.DataFrame(schema=schema)]
    try:
        cursor.execute(sql)
        while chunk := cursor.fetchmany(BULK_CHUNK):
            parts.append(pl.DataFrame(chunk, schema=schema, orient="row"))
    finally:
        cursor.close()
    return pl.concat(parts, rechunk=True)


@contextmanager
def bulk_load(uow: UnitOfWork) -> Iterator[None]:
    """A larger page cache for this connection while it loads (SQLite), restored afterwards."""
    if uow.dialect != "sqlite":
        yield
        return
    connection = uow.connection
    before = int(connection.exec_driver_sql("PRAGMA cache_size").scalar() or 0)
    connection.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={before}")


@contextmanager
def indexes_rebuilt(uow: UnitOfWork, table: Table, incoming: int) -> Iterator[None]:
    """On SQLite, drop a table's plain (non-unique) indexes around a big load and build them once.

    Inside the import's transaction: if anything fails, the rollback brings the indexes back.
    Unique indexes stay, so duplicates are still refused row by row.
    """
    dropped: list[Index] = []
    if uow.dialect == "sqlite" and incoming >= REBUILD_MIN_ROWS:
        existing = int(
            uow.connection.execute(select(func.count()).select_from(table)).scalar() or 0
        )
        if incoming >= existing:
            for index in sorted(table.indexes, key=lambda i: str(i.name)):
                if not index.unique:
                    uow.connection.exec_driver_sql(f'DROP INDEX "{index.name}"')
                    dropped.append(index)
    yield
    for index in dropped:
        index.create(uow.connection)
