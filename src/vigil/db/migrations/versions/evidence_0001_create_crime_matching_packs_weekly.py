"""create evidence tables: crime batches, crimes, match runs, matches, packs, weekly overviews

Revision ID: evidence_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.metadata

revision = "evidence_0001"
down_revision = "0001"
branch_labels = ("evidence",)
depends_on = None


def upgrade() -> None:
    utc = vigil.db.metadata.UtcDateTime(timezone=True)
    op.create_table(
        "crime_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("force", sa.String(60), nullable=True),
        sa.Column("source_batch_id", sa.String(40), nullable=True),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("uploaded_at", utc, nullable=False),
        sa.Column("uploaded_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_accepted", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crime_batches")),
    )
    op.create_table(
        "crimes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(60), nullable=False),
        sa.Column("crime_type", sa.String(20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("easting", sa.Float(), nullable=True),
        sa.Column("northing", sa.Float(), nullable=True),
        sa.Column("window_from", utc, nullable=False),
        sa.Column("window_to", utc, nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["crime_batches.id"], name=op.f("fk_crimes_batch_id_crime_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crimes")),
    )
    op.create_index(op.f("ix_crimes_batch_id"), "crimes", ["batch_id"])
    op.create_table(
        "crime_match_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("algorithm_version", sa.String(40), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("transformation", sa.String(200), nullable=False),
        sa.Column("run_at", utc, nullable=False),
        sa.Column("run_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["crime_batches.id"],
            name=op.f("fk_crime_match_runs_batch_id_crime_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crime_match_runs")),
    )
    op.create_index(op.f("ix_crime_match_runs_batch_id"), "crime_match_runs", ["batch_id"])
    op.create_table(
        "crime_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("crime_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("closest_distance_m", sa.Float(), nullable=False),
        sa.Column("closest_time", utc, nullable=False),
        sa.Column("closest_fix_id", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("label", sa.String(10), nullable=False),
        sa.Column("fixes", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reviewed_by", sa.String(200), nullable=True),
        sa.Column("reviewed_at", utc, nullable=True),
        sa.Column("review_note", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["crime_match_runs.id"],
            name=op.f("fk_crime_matches_run_id_crime_match_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["crime_id"], ["crimes.id"], name=op.f("fk_crime_matches_crime_id_crimes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crime_matches")),
    )
    op.create_index("ix_crime_matches_run_crime", "crime_matches", ["run_id", "crime_id"])
    op.create_table(
        "evidence_packs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("violation_id", sa.String(80), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signer", sa.String(120), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_packs")),
    )
    op.create_index(op.f("ix_evidence_packs_violation_id"), "evidence_packs", ["violation_id"])
    op.create_table(
        "weekly_overviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("week_start", sa.String(10), nullable=False),
        sa.Column("trigger", sa.String(12), nullable=False),
        sa.Column("generated_at", utc, nullable=False),
        sa.Column("generated_by", sa.String(200), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weekly_overviews")),
    )
    op.create_index(
        "ix_weekly_overviews_person_week", "weekly_overviews", ["person_id", "week_start"]
    )
    op.create_table(
        "weekly_schedule_runs",
        sa.Column("week_start", sa.String(10), nullable=False),
        sa.Column("started_at", utc, nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("week_start", name=op.f("pk_weekly_schedule_runs")),
        sa.UniqueConstraint("week_start", name="uq_weekly_schedule_runs_week"),
    )


def downgrade() -> None:
    op.drop_table("weekly_schedule_runs")
    op.drop_index("ix_weekly_overviews_person_week", table_name="weekly_overviews")
    op.drop_table("weekly_overviews")
    op.drop_index(op.f("ix_evidence_packs_violation_id"), table_name="evidence_packs")
    op.drop_table("evidence_packs")
    op.drop_index("ix_crime_matches_run_crime", table_name="crime_matches")
    op.drop_table("crime_matches")
    op.drop_index(op.f("ix_crime_match_runs_batch_id"), table_name="crime_match_runs")
    op.drop_table("crime_match_runs")
    op.drop_index(op.f("ix_crimes_batch_id"), table_name="crimes")
    op.drop_table("crimes")
    op.drop_table("crime_batches")
