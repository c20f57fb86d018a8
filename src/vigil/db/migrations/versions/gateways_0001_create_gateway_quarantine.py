"""create gateway quarantine: fixes and logins the device doors refused, kept as they came

Revision ID: gateways_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.metadata

revision = "gateways_0001"
down_revision = "0001"
branch_labels = ("gateways",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_quarantine",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("received_at", vigil.db.metadata.UtcDateTime(), nullable=False),
        sa.Column("protocol", sa.String(length=40), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("fix_time", vigil.db.metadata.UtcDateTime(), nullable=True),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_quarantine")),
    )
    op.create_index(
        op.f("ix_gateway_quarantine_received_at"), "gateway_quarantine", ["received_at"]
    )
    op.create_index(op.f("ix_gateway_quarantine_device_id"), "gateway_quarantine", ["device_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_gateway_quarantine_device_id"), table_name="gateway_quarantine")
    op.drop_index(op.f("ix_gateway_quarantine_received_at"), table_name="gateway_quarantine")
    op.drop_table("gateway_quarantine")
