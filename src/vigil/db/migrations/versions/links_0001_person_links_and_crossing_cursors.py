"""person links and crossing cursors: one perpetrator known as one person across the services

Revision ID: links_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.metadata

revision = "links_0001"
down_revision = "0001"
branch_labels = ("links",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(20), nullable=False),
        sa.Column("target_key", sa.String(40), nullable=False),
        sa.Column("method", sa.String(30), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("made_by", sa.String(200), nullable=False),
        sa.Column("made_at", vigil.db.metadata.UtcDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", vigil.db.metadata.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_links")),
        sa.UniqueConstraint(
            "person_id", "target", "target_key", name="uq_person_links_person_target"
        ),
    )
    op.create_index("ix_person_links_target", "person_links", ["target", "target_key"])
    op.create_table(
        "crossing_cursors",
        sa.Column("source", sa.String(30), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_crossing_cursors")),
    )


def downgrade() -> None:
    op.drop_table("crossing_cursors")
    op.drop_index("ix_person_links_target", table_name="person_links")
    op.drop_table("person_links")
