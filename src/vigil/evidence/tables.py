"""Evidence tables: crime batches, matching runs and their reviewed matches, evidence packs, and
weekly overviews. Other parts are referenced by id only (person, violation, fix)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from vigil.db.metadata import UtcDateTime, metadata

crime_batches = Table(
    "crime_batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("force", String(60), nullable=True),
    Column("source_batch_id", String(40), nullable=True),
    Column("filename", String(200), nullable=False),
    Column("format", String(20), nullable=False),
    Column("uploaded_at", UtcDateTime(timezone=True), nullable=False),
    Column("uploaded_by", String(200), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("rows_total", Integer, nullable=False),
    Column("rows_accepted", Integer, nullable=False),
    # JSON list of {row, field, reason, ref}: every rejected row and why.
    Column("errors", Text, nullable=False),
)

crimes = Table(
    "crimes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", Integer, ForeignKey("crime_batches.id"), nullable=False, index=True),
    Column("row", Integer, nullable=False),
    Column("reference", String(60), nullable=False),
    Column("crime_type", String(20), nullable=False),
    Column("description", Text, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("easting", Float, nullable=True),
    Column("northing", Float, nullable=True),
    Column("window_from", UtcDateTime(timezone=True), nullable=False),
    Column("window_to", UtcDateTime(timezone=True), nullable=False),
)

crime_match_runs = Table(
    "crime_match_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", Integer, ForeignKey("crime_batches.id"), nullable=False, index=True),
    Column("algorithm_version", String(40), nullable=False),
    Column("parameters", Text, nullable=False),
    Column("transformation", String(200), nullable=False),
    Column("run_at", UtcDateTime(timezone=True), nullable=False),
    Column("run_by", String(200), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("matches", Integer, nullable=False),
)

crime_matches = Table(
    "crime_matches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("crime_match_runs.id"), nullable=False),
    Column("crime_id", Integer, ForeignKey("crimes.id"), nullable=False),
    Column("person_id", String(64), nullable=False),
    Column("closest_distance_m", Float, nullable=False),
    Column("closest_time", UtcDateTime(timezone=True), nullable=False),
    Column("closest_fix_id", Integer, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("label", String(10), nullable=False),
    # JSON list of the fixes within (FixWithin.as_dict).
    Column("fixes", Text, nullable=False),
    Column("status", String(12), nullable=False),
    Column("reviewed_by", String(200), nullable=True),
    Column("reviewed_at", UtcDateTime(timezone=True), nullable=True),
    Column("review_note", String(500), nullable=True),
    Index("ix_crime_matches_run_crime", "run_id", "crime_id"),
)

evidence_packs = Table(
    "evidence_packs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("violation_id", String(80), nullable=False, index=True),
    Column("person_id", String(64), nullable=False),
    Column("created_at", UtcDateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signer", String(120), nullable=False),
    # The signed pack exactly as handed out (canonical JSON); re-verifiable at any time.
    Column("document", Text, nullable=False),
)

weekly_overviews = Table(
    "weekly_overviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", String(64), nullable=False),
    Column("week_start", String(10), nullable=False),
    Column("trigger", String(12), nullable=False),
    Column("generated_at", UtcDateTime(timezone=True), nullable=False),
    Column("generated_by", String(200), nullable=False),
    Column("html", Text, nullable=False),
    Column("pdf", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Index("ix_weekly_overviews_person_week", "person_id", "week_start"),
)

# One row per Monday the scheduler has handled, so a restart never sends a week twice.
weekly_schedule_runs = Table(
    "weekly_schedule_runs",
    metadata,
    Column("week_start", String(10), primary_key=True),
    Column("started_at", UtcDateTime(timezone=True), nullable=False),
    Column("reports", Integer, nullable=False),
    UniqueConstraint("week_start", name="uq_weekly_schedule_runs_week"),
)
