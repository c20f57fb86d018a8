"""create harm matrix tables

Revision ID: harm_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.metadata

revision = "harm_0001"
down_revision = "0001"
branch_labels = ("harm",)
depends_on = None


def _utc() -> vigil.db.metadata.UtcDateTime:
    return vigil.db.metadata.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "harm_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("imported_at", _utc(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_added", sa.Integer(), nullable=False),
        sa.Column("rows_unchanged", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harm_imports")),
    )
    op.create_table(
        "harm_identities",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("exact_key", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=60), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("dob", sa.Date(), nullable=True),
        sa.Column("details_enc", sa.Text(), nullable=True),
        sa.Column("person_key", sa.String(length=40), nullable=False),
        sa.Column("link_reason", sa.String(length=30), nullable=False),
        sa.Column("link_score", sa.Float(), nullable=False),
        sa.Column("linked_to", sa.Integer(), nullable=True),
        sa.Column("registry_person_id", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harm_identities")),
        sa.UniqueConstraint("role", "exact_key", name="uq_harm_identities_role_exact_key"),
    )
    op.create_index("ix_harm_identities_role_person_key", "harm_identities", ["role", "person_key"])
    op.create_table(
        "harm_incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_ref", sa.String(length=80), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", _utc(), nullable=False),
        sa.Column("force", sa.String(length=60), nullable=False),
        sa.Column("offence", sa.String(length=200), nullable=False),
        sa.Column("offence_group", sa.String(length=100), nullable=False),
        sa.Column("domestic_abuse", sa.Boolean(), nullable=False),
        sa.Column("stalking", sa.Boolean(), nullable=False),
        sa.Column("sexual", sa.Boolean(), nullable=False),
        sa.Column("injury", sa.Boolean(), nullable=False),
        sa.Column("weapon", sa.Boolean(), nullable=False),
        sa.Column("suspect_identity_id", sa.Integer(), nullable=False),
        sa.Column("victim_identity_id", sa.Integer(), nullable=True),
        sa.Column("extra", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harm_incidents")),
        sa.UniqueConstraint("incident_ref", name=op.f("uq_harm_incidents_incident_ref")),
    )
    op.create_index(
        "ix_harm_incidents_suspect_identity_id", "harm_incidents", ["suspect_identity_id"]
    )
    op.create_table(
        "harm_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("identity_a", sa.Integer(), nullable=False),
        sa.Column("identity_b", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harm_decisions")),
    )
    op.create_table(
        "harm_index_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("days", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("loaded_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harm_index_entries")),
        sa.UniqueConstraint("kind", "key", name="uq_harm_index_entries_kind_key"),
    )
    op.create_table(
        "harm_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", _utc(), nullable=False),
        sa.Column("computed_at", _utc(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("harm_index_source", sa.String(length=200), nullable=False),
        sa.Column("persons_scored", sa.Integer(), nullable=False),
        sa.Column("incidents_used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harm_runs")),
    )
    op.create_table(
        "harm_run_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("force", sa.String(length=60), nullable=False),
        sa.Column("force_rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("band", sa.String(length=20), nullable=False),
        sa.Column("recency_days", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("gravity", sa.Float(), nullable=False),
        sa.Column("victims", sa.Integer(), nullable=False),
        sa.Column("serial", sa.Boolean(), nullable=False),
        sa.Column("escalating", sa.Boolean(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harm_run_entries")),
    )
    op.create_index("ix_harm_run_entries_run_rank", "harm_run_entries", ["run_id", "rank"])
    op.create_index("ix_harm_run_entries_run_person", "harm_run_entries", ["run_id", "person_id"])
    op.create_table(
        "harm_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("force", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("tactic", sa.String(length=20), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.Column("review_date", sa.Date(), nullable=False),
        sa.Column("next_review_date", sa.Date(), nullable=True),
        sa.Column("selected_run_id", sa.Integer(), nullable=True),
        sa.Column("selected_score", sa.Float(), nullable=True),
        sa.Column("selected_rank", sa.Integer(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("closed_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harm_reviews")),
    )
    op.create_index("ix_harm_reviews_person_id", "harm_reviews", ["person_id"])


def downgrade() -> None:
    op.drop_table("harm_reviews")
    op.drop_table("harm_run_entries")
    op.drop_table("harm_runs")
    op.drop_table("harm_index_entries")
    op.drop_table("harm_decisions")
    op.drop_table("harm_incidents")
    op.drop_table("harm_identities")
    op.drop_table("harm_imports")
