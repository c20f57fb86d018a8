"""alert notification preferences per user: sound, desktop notification and a count in the tab
title for new critical alerts on the alert queue page, each opted into by the user

Revision ID: security_0006
Revises: security_0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.metadata

revision = "security_0006"
down_revision = "security_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_alert_preferences",
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("sound", sa.Boolean(), nullable=False),
        sa.Column("desktop_notification", sa.Boolean(), nullable=False),
        sa.Column("tab_title_count", sa.Boolean(), nullable=False),
        sa.Column("updated_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("user_alert_preferences")
