"""create violations and engine state

Revision ID: engine_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.metadata

revision = "engine_0001"
down_revision = "0001"
branch_labels = ("engine",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "violations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("condition_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("start", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("end", vigil.db.metadata.UtcDateTime(timezone=True), nullable=True),
        sa.Column("raised_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("retrospective", sa.Boolean(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("fix_ids", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("updated_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_violations")),
        sa.UniqueConstraint("episode_id", name=op.f("uq_violations_episode_id")),
    )
    op.create_index("ix_violations_person_start", "violations", ["person_id", "start"])
    op.create_table(
        "engine_state",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("due_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_engine_state")),
    )


def downgrade() -> None:
    op.drop_table("engine_state")
    op.drop_index("ix_violations_person_start", table_name="violations")
    op.drop_table("violations")
