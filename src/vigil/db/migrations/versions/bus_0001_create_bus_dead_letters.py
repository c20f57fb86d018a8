"""create bus dead letters: messages no handler could take, with their bytes and the error

Revision ID: bus_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.metadata

revision = "bus_0001"
down_revision = "0001"
branch_labels = ("bus",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bus_dead_letters",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("failed_at", vigil.db.metadata.UtcDateTime(), nullable=False),
        sa.Column("replay_requested_at", vigil.db.metadata.UtcDateTime(), nullable=True),
        sa.Column("replay_requested_by", sa.String(length=120), nullable=True),
        sa.Column("replayed_at", vigil.db.metadata.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bus_dead_letters")),
    )
    op.create_index(
        op.f("ix_bus_dead_letters_failed_at"), "bus_dead_letters", ["failed_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_bus_dead_letters_failed_at"), table_name="bus_dead_letters")
    op.drop_table("bus_dead_letters")
