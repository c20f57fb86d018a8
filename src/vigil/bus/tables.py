"""The dead-letter store: messages no handler could take, kept with their bytes and the error."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, String, Table, Text

from vigil.db.metadata import UtcDateTime, metadata

bus_dead_letters = Table(
    "bus_dead_letters",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("topic", String(40), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("error", Text, nullable=False),
    Column("failed_at", UtcDateTime, nullable=False, index=True),
    # An operator asks for a replay; the running process that owns the bus re-publishes it.
    Column("replay_requested_at", UtcDateTime, nullable=True),
    Column("replay_requested_by", String(120), nullable=True),
    Column("replayed_at", UtcDateTime, nullable=True),
)
