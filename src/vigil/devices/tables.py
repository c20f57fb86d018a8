"""Device inventory and allocations. Holder ids are the people part's ids (no cross-part keys)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from vigil.db.metadata import UtcDateTime, metadata

devices = Table(
    "devices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("external_id", String(64), nullable=False, unique=True),
    Column("type", String(30), nullable=False),
    Column("model", String(120), nullable=True),
    Column("status", String(20), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # SHA-256 of the key Vigil issued for a phone's HTTP door (the key itself is shown once).
    Column("key_hash", String(64), nullable=True),
)

device_allocations = Table(
    "device_allocations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("device_id", Integer, ForeignKey("devices.id"), nullable=False),
    Column("holder_kind", String(20), nullable=False),
    Column("holder_id", Integer, nullable=False),
    Column("fitted_at", UtcDateTime, nullable=False),
    Column("removed_at", UtcDateTime, nullable=True),
    Column("removal_reason", String(200), nullable=True),
    Column("created_by", String(200), nullable=False),
    Index("ix_device_allocations_device_fitted", "device_id", "fitted_at"),
    Index("ix_device_allocations_holder", "holder_kind", "holder_id"),
)
