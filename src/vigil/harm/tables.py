"""Harm matrix tables: incidents, identities (victims encrypted), decisions, runs, reviews."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from vigil.db.metadata import UtcDateTime, metadata

harm_imports = Table(
    "harm_imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("filename", String(200), nullable=False),
    Column("imported_at", UtcDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("rows_total", Integer, nullable=False),
    Column("rows_added", Integer, nullable=False),
    Column("rows_unchanged", Integer, nullable=False),
    Column("rows_rejected", Integer, nullable=False),
)

# One row per distinct way a suspect or victim was written down (id + name + date of birth).
# Suspects' names are kept readable for the analyst; victims' are encrypted, matched in memory,
# and found again by a keyed blind index only.
harm_identities = Table(
    "harm_identities",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("role", String(10), nullable=False),
    Column("exact_key", String(64), nullable=False),
    Column("source_id", String(60), nullable=True),
    Column("display_name", String(200), nullable=True),
    Column("dob", Date, nullable=True),
    Column("details_enc", Text, nullable=True),
    Column("person_key", String(40), nullable=False),
    Column("link_reason", String(30), nullable=False),
    Column("link_score", Float, nullable=False),
    Column("linked_to", Integer, nullable=True),
    Column("registry_person_id", String(40), nullable=True),
    # A probabilistic link's evidence: probability and each comparison's level and match weight
    # (``linkage.LinkEvidence`` as JSON); null for links by id, exact name or an analyst.
    Column("link_evidence", Text, nullable=True),
    UniqueConstraint("role", "exact_key", name="uq_harm_identities_role_exact_key"),
    Index("ix_harm_identities_role_person_key", "role", "person_key"),
)

harm_incidents = Table(
    "harm_incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_ref", String(80), nullable=False, unique=True),
    Column("row_hash", String(64), nullable=False),
    Column("import_id", Integer, nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("force", String(60), nullable=False),
    Column("offence", String(200), nullable=False),
    Column("offence_group", String(100), nullable=False),
    Column("domestic_abuse", Boolean, nullable=False),
    Column("stalking", Boolean, nullable=False),
    Column("sexual", Boolean, nullable=False),
    Column("injury", Boolean, nullable=False),
    Column("weapon", Boolean, nullable=False),
    Column("suspect_identity_id", Integer, nullable=False),
    Column("victim_identity_id", Integer, nullable=True),
    Column("extra", Text, nullable=False),
    Index("ix_harm_incidents_suspect_identity_id", "suspect_identity_id"),
)

harm_decisions = Table(
    "harm_decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("role", String(10), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("identity_a", Integer, nullable=False),
    Column("identity_b", Integer, nullable=True),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
)

harm_index_entries = Table(
    "harm_index_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("key", String(200), nullable=False),
    Column("days", Float, nullable=False),
    Column("source", String(200), nullable=False),
    Column("loaded_at", UtcDateTime(), nullable=False),
    UniqueConstraint("kind", "key", name="uq_harm_index_entries_kind_key"),
)

harm_runs = Table(
    "harm_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("as_of", UtcDateTime(), nullable=False),
    Column("computed_at", UtcDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("config", Text, nullable=False),
    Column("harm_index_source", String(200), nullable=False),
    Column("persons_scored", Integer, nullable=False),
    Column("incidents_used", Integer, nullable=False),
    # The suspects' linkage model the run's persons were resolved with.
    Column("linkage_model_id", Integer, nullable=True),
)

# Every linkage model used to resolve one side (Splink settings and trained parameters as JSON),
# so a resolution can be reproduced and its links explained.
harm_linkage_models = Table(
    "harm_linkage_models",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("role", String(10), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("trigger", String(20), nullable=False),
    Column("trained", Boolean, nullable=False),
    Column("identities", Integer, nullable=False),
    Column("model", Text, nullable=False),
    Index("ix_harm_linkage_models_role_id", "role", "id"),
)

harm_run_entries = Table(
    "harm_run_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, nullable=False),
    Column("person_id", String(40), nullable=False),
    Column("rank", Integer, nullable=False),
    Column("force", String(60), nullable=False),
    Column("force_rank", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("band", String(20), nullable=False),
    Column("recency_days", Integer, nullable=False),
    Column("frequency", Integer, nullable=False),
    Column("gravity", Float, nullable=False),
    Column("victims", Integer, nullable=False),
    Column("serial", Boolean, nullable=False),
    Column("escalating", Boolean, nullable=False),
    Column("explanation", Text, nullable=False),
    Index("ix_harm_run_entries_run_rank", "run_id", "rank"),
    Index("ix_harm_run_entries_run_person", "run_id", "person_id"),
)

harm_reviews = Table(
    "harm_reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", String(40), nullable=False),
    Column("force", String(60), nullable=False),
    Column("status", String(10), nullable=False),
    Column("tactic", String(20), nullable=False),
    Column("actions", Text, nullable=False),
    # Who carries the actions out, and for which agency (None on reviews recorded before).
    Column("owner", String(120), nullable=True),
    Column("agency", String(30), nullable=True),
    Column("review_date", Date, nullable=False),
    Column("next_review_date", Date, nullable=True),
    Column("selected_run_id", Integer, nullable=True),
    Column("selected_score", Float, nullable=True),
    Column("selected_rank", Integer, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("closed_at", UtcDateTime(), nullable=True),
    Index("ix_harm_reviews_person_id", "person_id"),
)
