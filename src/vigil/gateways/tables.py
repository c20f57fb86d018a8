"""The quarantine: what the device doors refused, kept as it came to find mis-registered tags."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from vigil.db.metadata import UtcDateTime, metadata

gateway_quarantine = Table(
    "gateway_quarantine",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("received_at", UtcDateTime, nullable=False, index=True),
    Column("protocol", String(40), nullable=False),
    Column("device_id", String(64), nullable=False, index=True),
    Column("reason", String(40), nullable=False),
    Column("fix_time", UtcDateTime, nullable=True),
    Column("raw", Text, nullable=False),
)
