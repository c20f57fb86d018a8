"""create devices and device allocations

Revision ID: devices_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.metadata

revision = "devices_0001"
down_revision = "0001"
branch_labels = ("devices",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("model", sa.String(length=120), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("external_id", name=op.f("uq_devices_external_id")),
    )
    op.create_table(
        "device_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("holder_kind", sa.String(length=20), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("fitted_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=True),
        sa.Column("removal_reason", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_allocations_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_allocations")),
    )
    op.create_index(
        "ix_device_allocations_device_fitted", "device_allocations", ["device_id", "fitted_at"]
    )
    op.create_index(
        "ix_device_allocations_holder", "device_allocations", ["holder_kind", "holder_id"]
    )


def downgrade() -> None:
    op.drop_table("device_allocations")
    op.drop_table("devices")
