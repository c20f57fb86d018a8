"""add who holds an alert (claimed_by, claimed_at) so operators do not work the same one twice

Revision ID: alerts_0002
Revises: alerts_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.metadata

revision = "alerts_0002"
down_revision = "alerts_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column("claimed_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_by")
