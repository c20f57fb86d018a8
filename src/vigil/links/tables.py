"""Links tables. A link names the other service's record by its own key (a prison number, a
matrix person key), never by a foreign key into another part's tables."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text, UniqueConstraint

from vigil.db.metadata import UtcDateTime, metadata

person_links = Table(
    "person_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, nullable=False),
    Column("target", String(20), nullable=False),
    Column("target_key", String(40), nullable=False),
    Column("method", String(30), nullable=False),
    Column("status", String(20), nullable=False),
    Column("score", Float, nullable=False),
    Column("reason", Text, nullable=False),
    Column("made_by", String(200), nullable=False),
    Column("made_at", UtcDateTime(), nullable=False),
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", UtcDateTime(), nullable=True),
    UniqueConstraint("person_id", "target", "target_key", name="uq_person_links_person_target"),
    Index("ix_person_links_target", "target", "target_key"),
)

# How far the cross-service watch has read each source (contact attempts, matrix runs), so a
# restart neither repeats an alert nor skips one.
crossing_cursors = Table(
    "crossing_cursors",
    metadata,
    Column("source", String(30), primary_key=True),
    Column("last_id", Integer, nullable=False),
)
