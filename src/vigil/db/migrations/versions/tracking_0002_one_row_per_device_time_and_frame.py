"""one row per report: a frame key on fixes and a unique index on (device, fix time, frame key)

Resends, redeliveries and replays find the stored fix instead of adding a row (tracking.fix_keys).

Fixes already stored keep a null frame key: the trail is append-only evidence (its triggers
refuse every UPDATE), so nothing is rewritten or deleted, and a unique index never counts nulls
as equal, so duplicates stored before this revision stay as they are and do not stop it. A
partial index holds those rows (and only them), so the store can tell when a batch reaches back
to their time, and then computes an old row's key from its columns: a resend of an old fix is not
stored again. Adding a nullable column rewrites no row on either database.

Revision ID: tracking_0002
Revises: tracking_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "tracking_0002"
down_revision = "tracking_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not batch_alter_table: on SQLite that copies the table, and the copy would lose the
    # append-only triggers. ADD COLUMN of a nullable column is a plain ALTER on both.
    op.add_column("fixes", sa.Column("frame_key", sa.BigInteger(), nullable=True))
    op.create_index(
        "ux_fixes_time_device_frame",
        "fixes",
        ["fix_time", "device_id", "frame_key"],
        unique=True,
    )
    # The rows stored until now, which the unique index cannot match (a null key is equal to
    # nothing): a resend reaching back to their time is looked up among them.
    op.create_index(
        "ix_fixes_before_keys",
        "fixes",
        ["fix_time"],
        sqlite_where=sa.text("frame_key IS NULL"),
        postgresql_where=sa.text("frame_key IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_fixes_before_keys", table_name="fixes")
    op.drop_index("ux_fixes_time_device_frame", table_name="fixes")
    # SQLite 3.35+ drops a column in place; the triggers do not name it.
    op.drop_column("fixes", "frame_key")
