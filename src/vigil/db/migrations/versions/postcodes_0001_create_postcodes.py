"""create postcodes: the ONS Postcode Directory extract used to place zones

Revision ID: postcodes_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.metadata

revision = "postcodes_0001"
down_revision = "0001"
branch_labels = ("postcodes",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "postcodes",
        sa.Column("postcode", sa.String(length=8), nullable=False),
        sa.Column("display", sa.String(length=8), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("introduced_on", sa.Date(), nullable=True),
        sa.Column("terminated_on", sa.Date(), nullable=True),
        sa.Column("police_force", sa.String(length=12), nullable=True),
        sa.Column("loaded_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("postcode"),
    )


def downgrade() -> None:
    op.drop_table("postcodes")
