"""partition fixes by month on PostgreSQL (SQLite unchanged: one table, retention deletes rows)

``fixes`` becomes a table partitioned by range of ``fix_time`` (microseconds since 1970), so that
retention drops a month whole instead of deleting its rows one by one, and appends touch only
the newest month's indexes (tracking.partitions creates months ahead; the retention job drops
them).

The trail already stored is not rewritten: the old table is renamed ``fixes_before`` and attached
as the partition from MINVALUE to the start of the month after the upgrade runs. That upper
bound, rather than the current month's start, keeps this month's rows where they are (a month is
tens of millions of rows nationally) and leaves every later month free for its own partition;
the current month's appends go on landing in ``fixes_before`` until it ends. Rows dated at or
after the bound (a device with a wrong clock) are moved into the new partitions with their ids:
the only rows copied. Attaching reads the old table twice, once to build the primary key a
partitioned table needs, ``(id, fix_time)``, and once to check the bound; its other indexes are
kept and become the partition's. Upgrade a large trail while the engines are stopped.

Ids keep coming from the same sequence, now owned by the partitioned table, so they stay unique
across partitions (evidence and legal holds cite them). Every index is a partitioned one (local
per partition); each partition's copy is named ``<partition>_<index>``, so PostgreSQL's unique
violation still names ``ux_fixes_time_device_frame`` (tracking.fix_keys.is_resend). A DEFAULT
partition takes fix times no month holds yet, so an append never fails for want of a partition.
The append-only trigger is a row trigger of the partitioned table, cloned onto every partition.

Revision ID: tracking_0003
Revises: tracking_0002
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import op
from sqlalchemy import text

revision = "tracking_0003"
down_revision = "tracking_0002"
branch_labels = None
depends_on = None

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The indexes of tracking_0001/0002 besides the primary key (pk_fixes), as they define them.
INDEXES = {
    "ix_fixes_person_time": "INDEX {name} ON {table} (person_id, fix_time)",
    "ix_fixes_cell_time": "INDEX {name} ON {table} "
    "(cell, fix_time, lat, lon, accuracy_m, person_id, id) WHERE cell IS NOT NULL",
    "ix_fixes_unallocated": "INDEX {name} ON {table} (device_id, fix_time) WHERE person_id IS NULL",
    "ux_fixes_time_device_frame": "UNIQUE INDEX {name} ON {table} (fix_time, device_id, frame_key)",
    "ix_fixes_before_keys": "INDEX {name} ON {table} (fix_time) WHERE frame_key IS NULL",
}
MONTHS_AHEAD = 2
TRIGGER = (
    "CREATE TRIGGER fixes_append_only BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION fixes_append_only()"
)


def _micros(value: datetime) -> int:
    return (value - EPOCH) // timedelta(microseconds=1)


def _next_month(month: datetime) -> datetime:
    start = month.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (start + timedelta(days=32)).replace(day=1)


def _name_indexes(partition: str) -> None:
    """Each of a partition's indexes is named after its partitioned parent index."""
    found = op.get_bind().execute(
        text(
            "SELECT c.relname, p.relname FROM pg_index x "
            "JOIN pg_class c ON c.oid = x.indexrelid "
            "JOIN pg_inherits i ON i.inhrelid = x.indexrelid "
            "JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE x.indrelid = to_regclass(:partition)"
        ),
        {"partition": partition},
    )
    for child, parent in found.all():
        if child != f"{partition}_{parent}":
            op.execute(f"ALTER INDEX {child} RENAME TO {partition}_{parent}")


def _partition(name: str, bounds: str) -> None:
    op.execute(f"CREATE TABLE {name} PARTITION OF fixes {bounds}")
    _name_indexes(name)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    first = _next_month(datetime.now(UTC))
    op.execute("ALTER TABLE fixes RENAME TO fixes_before")
    op.execute("DROP TRIGGER fixes_append_only ON fixes_before")
    op.execute("ALTER TABLE fixes_before DROP CONSTRAINT pk_fixes")
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} RENAME TO fixes_before_{index}")
    op.execute(
        "CREATE TABLE fixes (LIKE fixes_before INCLUDING DEFAULTS) PARTITION BY RANGE (fix_time)"
    )
    op.execute("ALTER SEQUENCE fixes_id_seq OWNED BY fixes.id")
    op.execute("ALTER TABLE fixes ADD CONSTRAINT pk_fixes PRIMARY KEY (id, fix_time)")
    for index, definition in INDEXES.items():
        op.execute("CREATE " + definition.format(name=index, table="fixes"))
    op.execute(TRIGGER.format(table="fixes"))
    _partition("fixes_default", "DEFAULT")
    month = first
    for _ in range(MONTHS_AHEAD + 1):
        following = _next_month(month)
        _partition(
            f"fixes_y{month:%Y}m{month:%m}",
            f"FOR VALUES FROM ({_micros(month)}) TO ({_micros(following)})",
        )
        month = following
    # Rows beyond the bound (wrong clocks) move to the partitions that hold their times.
    beyond = {"bound": _micros(first)}
    bind.execute(
        text("INSERT INTO fixes SELECT * FROM fixes_before WHERE fix_time >= :bound"), beyond
    )
    bind.execute(text("DELETE FROM fixes_before WHERE fix_time >= :bound"), beyond)
    op.execute(
        "ALTER TABLE fixes_before ADD CONSTRAINT fixes_before_pk_fixes PRIMARY KEY (id, fix_time)"
    )
    op.execute(
        "ALTER TABLE fixes ATTACH PARTITION fixes_before "
        f"FOR VALUES FROM (MINVALUE) TO ({_micros(first)})"
    )


def downgrade() -> None:
    """Back to one table: ``fixes_before`` (or a new table, if retention dropped it) takes the
    rows of every other partition, then the names, key and trigger of tracking_0002."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    kept = bind.execute(text("SELECT to_regclass('fixes_before') IS NOT NULL")).scalar_one()
    if kept:
        op.execute("ALTER TABLE fixes DETACH PARTITION fixes_before")
        op.execute("ALTER TABLE fixes_before DROP CONSTRAINT fixes_before_pk_fixes")
    else:
        op.execute("CREATE TABLE fixes_before (LIKE fixes INCLUDING DEFAULTS)")
    op.execute("INSERT INTO fixes_before SELECT * FROM fixes")
    op.execute("ALTER SEQUENCE fixes_id_seq OWNED BY fixes_before.id")
    op.execute("DROP TABLE fixes")
    op.execute("ALTER TABLE fixes_before RENAME TO fixes")
    for index, definition in INDEXES.items():
        if kept:
            op.execute(f"ALTER INDEX fixes_before_{index} RENAME TO {index}")
        else:
            op.execute("CREATE " + definition.format(name=index, table="fixes"))
    op.execute("ALTER TABLE fixes ADD CONSTRAINT pk_fixes PRIMARY KEY (id)")
    op.execute(TRIGGER.format(table="fixes"))
