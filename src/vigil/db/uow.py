"""Unit of work: one transaction per use case; the audit log and the change commit together."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from vigil.clock import Clock


class UnitOfWork:
    """Opens a connection and a transaction; commits only when told to, else rolls back.

    Services never commit: the entrypoint or handler that opened the unit of work does, once.
    A read-only unit of work (pages, reports) cannot commit at all.
    """

    def __init__(self, engine: Engine, clock: Clock, *, read_only: bool = False) -> None:
        self.engine = engine
        self.clock = clock
        self.read_only = read_only
        self._connection: Connection | None = None

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open; use it as a context manager")
        return self._connection

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __enter__(self) -> Self:
        self._connection = self.engine.connect()
        self._begin()
        return self

    def _begin(self) -> None:
        connection = self.connection
        connection.begin()
        if self.read_only:
            # A deferred SQLite transaction reads its snapshot without queueing behind writers;
            # PostgreSQL is told so, and refuses any write.
            connection.exec_driver_sql(
                "BEGIN" if self.dialect == "sqlite" else "SET TRANSACTION READ ONLY"
            )
        elif self.dialect == "sqlite":
            # Start as the writer: a deferred SQLite transaction that reads and then writes (the
            # audit chain reads its last hash first) fails at once if another connection wrote
            # in between; an immediate one waits its turn (busy_timeout) instead.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._connection is not None
        try:
            if self._connection.in_transaction():
                self._connection.rollback()
        finally:
            self._connection.close()
            self._connection = None

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.connection.commit()
        self._begin()
