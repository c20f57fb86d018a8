"""create trail store: fixes (append-only), retention cut-off, legal holds

Revision ID: tracking_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.metadata
import vigil.tracking.tables

revision = "tracking_0001"
down_revision = "0001"
branch_labels = ("tracking",)
depends_on = None


def upgrade() -> None:
    micros = vigil.tracking.tables.EpochMicros()
    op.create_table(
        "fixes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=True),
        sa.Column("fix_time", micros, nullable=False),
        sa.Column("receive_time", micros, nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("cell", sa.BigInteger(), nullable=True),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("approximate", sa.Boolean(), nullable=False),
        sa.Column("implausible", sa.Boolean(), nullable=False),
        sa.Column("invalid_position", sa.Boolean(), nullable=False),
        sa.Column("speed_mps", sa.Float(), nullable=True),
        sa.Column("heading", sa.Float(), nullable=True),
        sa.Column("altitude_m", sa.Float(), nullable=True),
        sa.Column("satellites", sa.Integer(), nullable=True),
        sa.Column("battery_pct", sa.Float(), nullable=True),
        sa.Column("charging", sa.Boolean(), nullable=True),
        sa.Column("alarms", sa.String(length=400), nullable=False),
        sa.Column("protocol", sa.String(length=32), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("attributes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fixes")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_fixes_person_time", "fixes", ["person_id", "fix_time"])
    op.create_index(
        "ix_fixes_cell_time",
        "fixes",
        ["cell", "fix_time", "lat", "lon", "accuracy_m", "person_id", "id"],
        sqlite_where=sa.text("cell IS NOT NULL"),
        postgresql_where=sa.text("cell IS NOT NULL"),
    )
    op.create_index(
        "ix_fixes_unallocated",
        "fixes",
        ["device_id", "fix_time"],
        sqlite_where=sa.text("person_id IS NULL"),
        postgresql_where=sa.text("person_id IS NULL"),
    )
    op.create_table(
        "fix_retention",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cutoff", micros, nullable=False),
        sa.Column("set_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fix_retention")),
    )
    op.create_table(
        "fix_legal_holds",
        sa.Column("fix_id", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("placed_at", vigil.db.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column("placed_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("fix_id", "reference", name=op.f("pk_fix_legal_holds")),
    )

    # Raw fixes are evidence: the database itself refuses to change them, and deletes only what
    # retention has released (older than the cut-off) and no legal hold protects. The retention
    # cut-off only moves forward. Owner rights can drop triggers; the audit log records retention.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER fixes_no_update BEFORE UPDATE ON fixes "
            "BEGIN SELECT RAISE(ABORT, 'fixes are evidence and are never altered'); END"
        )
        op.execute(
            "CREATE TRIGGER fixes_delete_by_retention_only BEFORE DELETE ON fixes "
            "WHEN OLD.fix_time >= COALESCE((SELECT cutoff FROM fix_retention WHERE id = 1), "
            "-9223372036854775807) "
            "OR EXISTS (SELECT 1 FROM fix_legal_holds WHERE fix_id = OLD.id) "
            "BEGIN SELECT RAISE(ABORT, "
            "'fixes are deleted only by retention, below its cut-off and not under legal hold'); END"
        )
        op.execute(
            "CREATE TRIGGER fix_retention_forward_only BEFORE UPDATE ON fix_retention "
            "WHEN NEW.cutoff < OLD.cutoff "
            "BEGIN SELECT RAISE(ABORT, 'the retention cut-off only moves forward'); END"
        )
    else:
        op.execute(
            "CREATE FUNCTION fixes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP = 'UPDATE' THEN RAISE EXCEPTION 'fixes are evidence and are never altered'; END IF; "
            "IF OLD.fix_time >= COALESCE((SELECT cutoff FROM fix_retention WHERE id = 1), "
            "-9223372036854775807) "
            "OR EXISTS (SELECT 1 FROM fix_legal_holds WHERE fix_id = OLD.id) THEN "
            "RAISE EXCEPTION "
            "'fixes are deleted only by retention, below its cut-off and not under legal hold'; END IF; "
            "RETURN OLD; END $$"
        )
        op.execute(
            "CREATE TRIGGER fixes_append_only BEFORE UPDATE OR DELETE ON fixes "
            "FOR EACH ROW EXECUTE FUNCTION fixes_append_only()"
        )
        op.execute(
            "CREATE FUNCTION fix_retention_forward_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN IF NEW.cutoff < OLD.cutoff THEN "
            "RAISE EXCEPTION 'the retention cut-off only moves forward'; END IF; "
            "RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER fix_retention_forward_only BEFORE UPDATE ON fix_retention "
            "FOR EACH ROW EXECUTE FUNCTION fix_retention_forward_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS fixes_no_update")
        op.execute("DROP TRIGGER IF EXISTS fixes_delete_by_retention_only")
        op.execute("DROP TRIGGER IF EXISTS fix_retention_forward_only")
    else:
        op.execute("DROP TRIGGER IF EXISTS fixes_append_only ON fixes")
        op.execute("DROP FUNCTION IF EXISTS fixes_append_only()")
        op.execute("DROP TRIGGER IF EXISTS fix_retention_forward_only ON fix_retention")
        op.execute("DROP FUNCTION IF EXISTS fix_retention_forward_only()")
    op.drop_table("fix_legal_holds")
    op.drop_table("fix_retention")
    op.drop_index("ix_fixes_unallocated", table_name="fixes")
    op.drop_index("ix_fixes_cell_time", table_name="fixes")
    op.drop_index("ix_fixes_person_time", table_name="fixes")
    op.drop_table("fixes")
