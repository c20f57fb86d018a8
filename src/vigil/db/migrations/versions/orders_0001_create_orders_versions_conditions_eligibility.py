"""create orders, order versions, conditions and eligibility decisions

Revision ID: orders_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.metadata

revision = "orders_0001"
down_revision = "0001"
branch_labels = ("orders",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("pilot", sa.String(length=30), nullable=False),
        sa.Column("responsible_officer_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    op.create_index(op.f("ix_orders_person_id"), "orders", ["person_id"])
    op.create_table(
        "order_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("effective_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("starts_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_versions_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_versions")),
        sa.UniqueConstraint("order_id", "number", name="uq_order_versions_order_number"),
    )
    op.create_table(
        "conditions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("added_in_version", sa.Integer(), nullable=False),
        sa.Column("removed_in_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_conditions_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conditions")),
    )
    op.create_index(op.f("ix_conditions_order_id"), "conditions", ["order_id"])
    op.create_table(
        "eligibility_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=10), nullable=True),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("proportionality_note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_decisions")),
    )
    op.create_index(
        op.f("ix_eligibility_decisions_person_id"), "eligibility_decisions", ["person_id"]
    )


def downgrade() -> None:
    op.drop_table("eligibility_decisions")
    op.drop_table("conditions")
    op.drop_table("order_versions")
    op.drop_table("orders")
