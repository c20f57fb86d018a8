"""single sign-on subject for users: the identity provider's account a user signs in with

Revision ID: security_0004
Revises: security_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "security_0004"
down_revision = "security_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("sso_subject", sa.String(400), nullable=True))
        batch.create_unique_constraint("uq_users_sso_subject", ["sso_subject"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_sso_subject", type_="unique")
        batch.drop_column("sso_subject")
