"""Engine tables: violations (never deleted) and the engine's stored state (timers, machines)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text

from vigil.db.metadata import UtcDateTime, metadata

violations = Table(
    "violations",
    metadata,
    Column("id", Integer, primary_key=True),
    # Stable, idempotent identity: a replay or a restart finds the same row, never a second one.
    Column("episode_id", String(32), nullable=False, unique=True),
    Column("person_id", String(64), nullable=False),
    Column("condition_id", String(64), nullable=True),
    Column("kind", String(40), nullable=False),
    Column("start", UtcDateTime(timezone=True), nullable=False),
    Column("end", UtcDateTime(timezone=True), nullable=True),
    Column("raised_at", UtcDateTime(timezone=True), nullable=False),
    Column("retrospective", Boolean, nullable=False, default=False),
    Column("device_id", String(64), nullable=True),
    # Ids of the stored fixes (trail store) that prove it, as a JSON list.
    Column("fix_ids", Text, nullable=False, default="[]"),
    Column("detail", Text, nullable=False, default="{}"),
    Column("updated_at", UtcDateTime(timezone=True), nullable=False),
    Index("ix_violations_person_start", "person_id", "start"),
)

engine_state = Table(
    "engine_state",
    metadata,
    # "person:<id>" or "device:<id>": one row per watched person and device.
    Column("key", String(100), primary_key=True),
    Column("state", Text, nullable=False),
    # The earliest timer in that state (curfew window, no-communication deadline), for operators.
    Column("due_at", UtcDateTime(timezone=True), nullable=True),
    Column("updated_at", UtcDateTime(timezone=True), nullable=False),
)
