"""add linkage models and link evidence

Revision ID: harm_0002
Revises: harm_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.metadata

revision = "harm_0002"
down_revision = "harm_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "harm_linkage_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("created_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("trained", sa.Boolean(), nullable=False),
        sa.Column("identities", sa.Integer(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harm_linkage_models")),
    )
    op.create_index(
        "ix_harm_linkage_models_role_id", "harm_linkage_models", ["role", "id"], unique=False
    )
    with op.batch_alter_table("harm_identities") as batch:
        batch.add_column(sa.Column("link_evidence", sa.Text(), nullable=True))
    with op.batch_alter_table("harm_runs") as batch:
        batch.add_column(sa.Column("linkage_model_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("harm_runs") as batch:
        batch.drop_column("linkage_model_id")
    with op.batch_alter_table("harm_identities") as batch:
        batch.drop_column("link_evidence")
    op.drop_index("ix_harm_linkage_models_role_id", table_name="harm_linkage_models")
    op.drop_table("harm_linkage_models")
