"""Retention on a partitioned trail (PostgreSQL): a month wholly below the cut-off goes whole,
with its partition, unless a fix in it is under legal hold; then it is kept with only its held
fixes. Fixes below the cut-off elsewhere (the month at the edge, DEFAULT) are deleted row by row,
as on SQLite. Each month dropped or cleared has its own audit entry.

Locks, in order, so that appends wait only for the moment of the drops:

1. each expiring month against writers (a fix appended to a month six years old, a replay of an
   old trail, waits), so that the fixes counted are the fixes dropped;
2. the row deletions, which appends do not wait for;
3. then ``fixes`` itself (detaching needs it alone) and the legal holds against new holds; the
   holds of each month to drop are counted again, so a hold placed since the first look keeps
   its month;
4. the audit log's chain, last (a trail query takes it after reading fixes). The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, TableClause, column, delete, distinct, func, select, table

from vigil.db.uow import UnitOfWork
from vigil.security import audit
from vigil.tracking import partitions
from vigil.tracking.partitions import Partition
from vigil.tracking.tables import fix_legal_holds, to_micros

_HELD = select(fix_legal_holds.c.fix_id)


def _table(partition: Partition) -> TableClause:
    return table(partition.name, column("id"), column("fix_time"))


def _holds(connection: Connection, partition: Partition) -> int:
    """How many of the partition's fixes are under legal hold."""
    ids = select(_table(partition).c.id)
    query = select(func.count(distinct(fix_legal_holds.c.fix_id)))
    return int(connection.execute(query.where(fix_legal_holds.c.fix_id.in_(ids))).scalar_one())


def _delete_unheld(connection: Connection, partition: Partition, cutoff: datetime) -> int:
    rows = _table(partition)
    below = rows.c.fix_time < to_micros(cutoff)
    return int(connection.execute(delete(rows).where(below, rows.c.id.not_in(_HELD))).rowcount)


@dataclass(frozen=True)
class _Entry:
    action: str
    partition: Partition
    counts: dict[str, int]


def _audit(uow: UnitOfWork, actor: str, entry: _Entry) -> None:
    partition = entry.partition
    lower, upper = partition.lower, partition.upper
    detail = {
        "partition": partition.name,
        "from": None if lower is None else lower.isoformat(),
        "to": None if upper is None else upper.isoformat(),
        **entry.counts,
    }
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=actor,
        action=entry.action,
        subject_type="fixes_partition",
        subject_id=partition.name,
        detail=detail,
    )


def _clear(
    connection: Connection, partition: Partition, cutoff: datetime, entries: list[_Entry]
) -> int:
    """Keep an expired month for its held fixes and delete the others (an entry if any went)."""
    deleted = _delete_unheld(connection, partition, cutoff)
    if deleted:
        counts = {"deleted": deleted, "held": _holds(connection, partition)}
        entries.append(_Entry("fixes.partition_held", partition, counts))
    return deleted


def release(uow: UnitOfWork, cutoff: datetime, actor: str) -> int:
    """Delete what the cut-off (already moved) releases; returns how many fixes went."""
    connection = uow.connection
    existing = partitions.list_partitions(connection)
    expired = [p for p in existing if p.below(cutoff)]
    for partition in expired:
        partitions.lock(connection, partition)
    droppable = [p for p in expired if _holds(connection, p) == 0]
    sizes = {p.name: partitions.count_fixes(connection, p) for p in droppable}
    entries: list[_Entry] = []
    deleted = 0
    for partition in existing:
        if partition in droppable or not partition.reaches_below(cutoff):
            continue
        if partition in expired:
            deleted += _clear(connection, partition, cutoff, entries)
        else:  # the month at the edge, DEFAULT
            deleted += _delete_unheld(connection, partition, cutoff)
    if droppable:
        partitions.hold_back_appends(connection)
        connection.exec_driver_sql("LOCK TABLE fix_legal_holds IN SHARE MODE")
    for partition in droppable:
        if _holds(connection, partition):  # held since the first look: the month stays
            deleted += _clear(connection, partition, cutoff, entries)
            continue
        partitions.drop(connection, partition)
        entries.append(
            _Entry("fixes.partition_dropped", partition, {"fixes": sizes[partition.name]})
        )
        deleted += sizes[partition.name]
    # Audited last: a trail query audits after reading fixes, so taking the audit log's lock
    # before every lock on the trail is held could deadlock with one.
    for entry in entries:
        _audit(uow, actor, entry)
    return deleted
