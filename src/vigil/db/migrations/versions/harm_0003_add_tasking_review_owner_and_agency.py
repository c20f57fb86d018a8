"""add who owns a tasking review's actions (owner) and for which agency, so MATAC actions are
followed up by a named person; reviews recorded before carry neither

Revision ID: harm_0003
Revises: harm_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "harm_0003"
down_revision = "harm_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("harm_reviews") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("agency", sa.String(length=30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("harm_reviews") as batch:
        batch.drop_column("agency")
        batch.drop_column("owner")
