"""tokens without expiry expire in ninety days: tokens made before expiry existed get one

Revision ID: security_0005
Revises: security_0004

Such a token would otherwise stay valid for ever. Ninety days (the lifetime of a new token)
leaves time to rotate it (`vigil security token rotate ID`) without cutting off the prison phone
system or a gateway on the day of the upgrade.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import vigil.db.metadata

revision = "security_0005"
down_revision = "security_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tokens = sa.table("api_tokens", sa.column("expires_at", vigil.db.metadata.UtcDateTime()))
    op.execute(
        tokens.update()
        .where(tokens.c.expires_at.is_(None))
        .values(expires_at=datetime.now(UTC) + timedelta(days=90))
    )


def downgrade() -> None:
    # The expiry given is kept: forgetting it would make the tokens valid for ever again.
    pass
