"""force area boundaries for checking crimes: where each police force's area lies

Revision ID: people_0002
Revises: people_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.metadata

revision = "people_0002"
down_revision = "people_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "force_area_boundaries",
        sa.Column("force_area", sa.String(10), nullable=False),
        sa.Column("geojson", sa.Text(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("loaded_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["force_area"],
            ["force_areas.code"],
            name=op.f("fk_force_area_boundaries_force_area_force_areas"),
        ),
        sa.PrimaryKeyConstraint("force_area", name=op.f("pk_force_area_boundaries")),
    )


def downgrade() -> None:
    op.drop_table("force_area_boundaries")
