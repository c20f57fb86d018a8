"""Trail store tables. ``fixes`` is the high-volume table; see migration tracking_0001 for the
triggers that keep it append-only (deletion only below the retention cut-off, never under hold).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Dialect,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)

from vigil.db.metadata import UtcDateTime, metadata

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)


def to_micros(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
    return (value - EPOCH) // ONE_MICROSECOND


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


class EpochMicros(TypeDecorator[datetime]):
    """UTC instants as integer microseconds since 1970.

    Fix times are compared billions of times in range scans: an 8-byte integer keeps the two big
    indexes small and compares the same way on SQLite and PostgreSQL (SQLite would otherwise
    store 26-character strings).
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        return None if value is None else to_micros(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else from_micros(int(value))


# SQLite only makes an INTEGER PRIMARY KEY the rowid (and AUTOINCREMENT never reuses an id, which
# evidence that cites fix ids relies on); PostgreSQL gets a BIGSERIAL.
FixId = BigInteger().with_variant(Integer(), "sqlite")

fixes = Table(
    "fixes",
    metadata,
    Column("id", FixId, primary_key=True, autoincrement=True),
    Column("device_id", String(64), nullable=False),
    # The registry's person id at fix time, as text; None while the device is allocated to nobody.
    Column("person_id", String(64), nullable=True),
    Column("fix_time", EpochMicros, nullable=False),
    Column("receive_time", EpochMicros, nullable=False),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("accuracy_m", Float, nullable=True),
    # Spatial cell (tracking.grid) of usable positions only; None keeps a fix out of near queries.
    Column("cell", BigInteger, nullable=True),
    Column("valid", Boolean, nullable=False),
    Column("approximate", Boolean, nullable=False),
    Column("implausible", Boolean, nullable=False),
    Column("invalid_position", Boolean, nullable=False),
    Column("speed_mps", Float, nullable=True),
    Column("heading", Float, nullable=True),
    Column("altitude_m", Float, nullable=True),
    Column("satellites", Integer, nullable=True),
    Column("battery_pct", Float, nullable=True),
    Column("charging", Boolean, nullable=True),
    Column("alarms", String(400), nullable=False),
    Column("protocol", String(32), nullable=False),
    Column("raw", Text, nullable=False),
    Column("attributes", Text, nullable=False),
    # BLAKE2b of the raw message (or of the decoded fields), 8 bytes: with device and fix time,
    # what makes a fix one report (tracking.fix_keys). Null only on rows older than the key.
    Column("frame_key", BigInteger, nullable=True),
    Index("ix_fixes_person_time", "person_id", "fix_time"),
    # One row per report: a resend, a redelivery or a replay finds its row instead of adding one.
    Index("ux_fixes_time_device_frame", "fix_time", "device_id", "frame_key", unique=True),
    # Rows stored before the key (tracking_0002), which the unique index cannot match: the
    # store checks a batch against them only if it reaches back to them. Empty on a new store.
    Index(
        "ix_fixes_before_keys",
        "fix_time",
        sqlite_where=text("frame_key IS NULL"),
        postgresql_where=text("frame_key IS NULL"),
    ),
    # Covering: a near-point query reads only this index, never the table, until it knows which
    # fixes are near (id last for PostgreSQL's index-only scans; SQLite has the rowid anyway).
    Index(
        "ix_fixes_cell_time",
        "cell",
        "fix_time",
        "lat",
        "lon",
        "accuracy_m",
        "person_id",
        "id",
        sqlite_where=text("cell IS NOT NULL"),
        postgresql_where=text("cell IS NOT NULL"),
    ),
    # Only unallocated fixes, so the administrator's list is cheap and appends barely pay for it.
    Index(
        "ix_fixes_unallocated",
        "device_id",
        "fix_time",
        sqlite_where=text("person_id IS NULL"),
        postgresql_where=text("person_id IS NULL"),
    ),
    sqlite_autoincrement=True,
)

# One row: fixes older than ``cutoff`` may be deleted (by retention); nothing newer, ever.
fix_retention = Table(
    "fix_retention",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("cutoff", EpochMicros, nullable=False),
    Column("set_at", UtcDateTime, nullable=False),
    Column("set_by", String(200), nullable=False),
)

# Fixes cited by an evidence pack or a case: retention never deletes them.
fix_legal_holds = Table(
    "fix_legal_holds",
    metadata,
    Column("fix_id", BigInteger, nullable=False),
    Column("reference", String(120), nullable=False),
    Column("placed_at", UtcDateTime, nullable=False),
    Column("placed_by", String(200), nullable=False),
    PrimaryKeyConstraint("fix_id", "reference"),
)
