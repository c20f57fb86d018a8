"""The monthly partitions of ``fixes`` on PostgreSQL (migration tracking_0003): create months
ahead, list them with their bounds, detach and drop one. SQLite has one table: nothing to do.

A month is ``fixes_yYYYYmMM``, from its first instant (UTC) to the next month's. ``fixes_before``
holds the trail stored before the table was partitioned (MINVALUE to a month's start);
``fixes_default`` takes fix times no partition holds (a device with a wrong clock, a month not
created yet), so an append never fails for want of a partition. Each partition's copy of an index
is named ``<partition>_<index>``: PostgreSQL names the partition's index in a unique violation,
and the store recognises a resend by ``ux_fixes_time_device_frame`` in that message.

Creating or dropping a partition locks ``fixes`` (ACCESS EXCLUSIVE) for a moment; behind a long
query it would hold every append in the lock queue, so it waits at most ``LOCK_WAIT`` and fails
instead (the daily job tries again tomorrow; months are created ``MONTHS_AHEAD`` ahead).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select, table, text
from sqlalchemy.exc import IntegrityError

from vigil.logs import get_logger
from vigil.tracking.tables import from_micros, to_micros

log = get_logger(__name__)

MONTHS_AHEAD = 2
LOCK_WAIT = "10s"
_BOUNDS = re.compile(r"FOR VALUES FROM \((.+)\) TO \((.+)\)")
# PostgreSQL's check_violation: rows of the DEFAULT partition fall in the new month's range.
_ROWS_IN_DEFAULT = "23514"


@dataclass(frozen=True)
class Partition:
    name: str
    lower: datetime | None  # None: from MINVALUE (or the DEFAULT partition)
    upper: datetime | None  # None: the DEFAULT partition, which has no bounds
    default: bool

    def overlaps(self, start: datetime, end: datetime) -> bool:
        if self.upper is None:  # DEFAULT: holds what no range does
            return False
        return (self.lower is None or self.lower < end) and start < self.upper

    def below(self, cutoff: datetime) -> bool:
        """Every fix time it can hold is before ``cutoff``."""
        return self.upper is not None and self.upper <= cutoff

    def reaches_below(self, cutoff: datetime) -> bool:
        """Some fix time it can hold is before ``cutoff``."""
        return self.lower is None or self.lower < cutoff


_PARTITION_NAME = re.compile(r"fixes_(before|default|y\d{4}m\d{2})")


def is_partition_name(name: str | None) -> bool:
    """Is this one of the trail's partitions (which the table metadata does not declare)?"""
    return name is not None and _PARTITION_NAME.fullmatch(name) is not None


def month_start(at: datetime) -> datetime:
    return at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(month: datetime) -> datetime:
    return month_start(month_start(month) + timedelta(days=32))


def month_name(month: datetime) -> str:
    return f"fixes_y{month:%Y}m{month:%m}"


def is_partitioned(connection: Connection) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    found = text("SELECT relkind FROM pg_class WHERE oid = to_regclass('fixes')")
    return connection.execute(found).scalar_one_or_none() == "p"


def _bound(value: str) -> datetime | None:
    return None if value in {"MINVALUE", "MAXVALUE"} else from_micros(int(value.strip("'")))


def list_partitions(connection: Connection) -> list[Partition]:
    """Every partition of ``fixes``, the DEFAULT one last, the others in time order."""
    if not is_partitioned(connection):
        return []
    rows = connection.execute(
        text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass('fixes')"
        )
    ).all()
    found = []
    for name, bound in rows:
        matched = _BOUNDS.fullmatch(bound)
        if matched is None:  # "DEFAULT"
            found.append(Partition(name, None, None, True))
        else:
            found.append(Partition(name, _bound(matched[1]), _bound(matched[2]), False))
    return sorted(found, key=lambda p: (p.default, p.lower is not None, p.lower))


def _name_indexes(connection: Connection, partition: str) -> None:
    found = connection.execute(
        text(
            "SELECT c.relname, p.relname FROM pg_index x "
            "JOIN pg_class c ON c.oid = x.indexrelid "
            "JOIN pg_inherits i ON i.inhrelid = x.indexrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE x.indrelid = to_regclass(:partition)"
        ),
        {"partition": partition},
    )
    for child, parent in found.all():
        if child != f"{partition}_{parent}":
            connection.exec_driver_sql(f'ALTER INDEX "{child}" RENAME TO "{partition}_{parent}"')


def _create_month(connection: Connection, month: datetime) -> bool:
    """Create one month's partition; False (logged) when the DEFAULT partition already holds
    fixes of that month, which PostgreSQL would have to move: the month stays in DEFAULT."""
    name, end = month_name(month), next_month(month)
    try:
        with connection.begin_nested():
            connection.exec_driver_sql(
                f"CREATE TABLE {name} PARTITION OF fixes "
                f"FOR VALUES FROM ({to_micros(month)}) TO ({to_micros(end)})"
            )
            _name_indexes(connection, name)
    except IntegrityError as refused:
        if getattr(refused.orig, "sqlstate", None) != _ROWS_IN_DEFAULT:
            raise
        strays = connection.execute(
            text("SELECT count(*) FROM fixes_default WHERE fix_time >= :start AND fix_time < :end"),
            {"start": to_micros(month), "end": to_micros(end)},
        ).scalar_one()
        log.warning("tracking.partition_blocked", partition=name, start=month.isoformat(),
                    end=end.isoformat(), fixes_in_default=strays)  # fmt: skip
        return False
    log.info("tracking.partition_created", partition=name, start=month.isoformat())
    return True


def create_ahead(connection: Connection, now: datetime, months: int = MONTHS_AHEAD) -> list[str]:
    """Create the partitions of the month of ``now`` and of ``months`` months after it that no
    partition covers yet; returns the names created. Idempotent; nothing on SQLite."""
    if not is_partitioned(connection):
        return []
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
    existing = list_partitions(connection)
    created = []
    month = month_start(now)
    for _ in range(months + 1):
        following = next_month(month)
        covered = any(p.overlaps(month, following) for p in existing)
        if not covered and _create_month(connection, month):
            created.append(month_name(month))
        month = following
    return created


def count_fixes(connection: Connection, partition: Partition) -> int:
    query = select(func.count()).select_from(table(partition.name))
    return int(connection.execute(query).scalar_one())


def lock(connection: Connection, partition: Partition) -> None:
    """Lock a partition against writers until the transaction ends; reads go on."""
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
    connection.exec_driver_sql(f'LOCK TABLE "{partition.name}" IN EXCLUSIVE MODE')


def hold_back_appends(connection: Connection) -> None:
    """Lock ``fixes`` and every partition alone until the transaction ends, as detaching a
    partition does: take it before what must not change until the drops commit."""
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
    connection.exec_driver_sql("LOCK TABLE fixes IN ACCESS EXCLUSIVE MODE")


def drop(connection: Connection, partition: Partition) -> None:
    """Detach and drop a partition, its fixes with it (retention decides which, and audits)."""
    if partition.default:
        raise ValueError("the DEFAULT partition is never dropped")
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
    connection.exec_driver_sql(f'ALTER TABLE fixes DETACH PARTITION "{partition.name}"')
    connection.exec_driver_sql(f'DROP TABLE "{partition.name}"')
