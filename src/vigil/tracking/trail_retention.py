"""How long fixes are kept: legal holds for evidence, and the retention job's deletions of
everything older than the schedule that no hold protects."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, column, delete, distinct, func, insert, select, table, update

from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.security import audit
from vigil.tracking import partitions
from vigil.tracking.tables import (
    fix_legal_holds,
    fix_retention,
    fixes,
)


def place_legal_hold(uow: UnitOfWork, fix_ids: Iterable[int], reference: str, actor: str) -> int:
    """Protect fixes from retention (an evidence pack or a case cites them). Idempotent."""
    reference = reference.strip()
    if not reference or len(reference) > 120:
        raise ValidationError("reference", "must be 1 to 120 characters")
    wanted = sorted(set(fix_ids))
    held = set(
        uow.connection.execute(
            select(fix_legal_holds.c.fix_id).where(
                fix_legal_holds.c.reference == reference, fix_legal_holds.c.fix_id.in_(wanted)
            )
        ).scalars()
    )
    new = [fid for fid in wanted if fid not in held]
    now = uow.clock.now()
    if new:
        # On PostgreSQL the held fixes are locked until this commits: retention, which locks a
        # partition before it counts the holds in it, then waits and sees this hold (no-op on
        # SQLite, which has one writer at a time).
        locking = select(fixes.c.id).where(fixes.c.id.in_(new))
        uow.connection.execute(locking.with_for_update(key_share=True))
        uow.connection.execute(
            insert(fix_legal_holds),
            [
                {"fix_id": fid, "reference": reference, "placed_at": now, "placed_by": actor}
                for fid in new
            ],
        )
    audit.record(
        uow.connection,
        at=now,
        actor=actor,
        action="fixes.legal_hold",
        subject_type="legal_hold",
        subject_id=reference,
        detail={"fixes": len(wanted), "new": len(new)},
    )
    return len(new)


def retention_cutoff(uow: UnitOfWork) -> datetime | None:
    """Fixes before this may have been deleted; None until retention first ran."""
    query = select(fix_retention.c.cutoff).where(fix_retention.c.id == 1)
    found: datetime | None = uow.connection.execute(query).scalar_one_or_none()
    return found


def apply_retention(uow: UnitOfWork, cutoff: datetime, actor: str) -> int:
    """Move the retention cut-off forward and delete the fixes it releases (not those on hold).

    Returns how many fixes were deleted. The cut-off never moves back (the database refuses).
    """
    if cutoff.tzinfo is None:
        raise ValidationError("cutoff", "must be timezone-aware UTC")
    if cutoff > uow.clock.now():
        raise ValidationError("cutoff", "cannot be in the future")
    connection = uow.connection
    now = uow.clock.now()
    current = connection.execute(select(fix_retention.c.cutoff).where(fix_retention.c.id == 1))
    existing = current.scalar_one_or_none()
    if existing is None:
        connection.execute(
            insert(fix_retention).values(id=1, cutoff=cutoff, set_at=now, set_by=actor)
        )
    elif cutoff < existing:
        raise ValidationError("cutoff", "is earlier than the current retention cut-off")
    else:
        connection.execute(
            update(fix_retention)
            .where(fix_retention.c.id == 1)
            .values(cutoff=cutoff, set_at=now, set_by=actor)
        )
    released = _release_partitions(uow, cutoff, actor)
    held = select(fix_legal_holds.c.fix_id)
    deleted = connection.execute(
        delete(fixes).where(and_(fixes.c.fix_time < cutoff, fixes.c.id.not_in(held)))
    ).rowcount
    audit.record(
        connection,
        at=now,
        actor=actor,
        action="fixes.retention",
        subject_type="fixes",
        detail={"cutoff": cutoff.isoformat(), "deleted": released + deleted},
    )
    return released + int(deleted)


def _release_partitions(uow: UnitOfWork, cutoff: datetime, actor: str) -> int:
    """PostgreSQL: each partition wholly below the cut-off is dropped if it holds no fix under
    legal hold; one that does is kept with only its held fixes. Returns how many fixes went."""
    connection, now = uow.connection, uow.clock.now()
    released = 0
    for partition in partitions.list_partitions(connection):
        if not partition.below(cutoff):
            continue
        # Locked before the holds are counted: a hold being placed on one of its fixes (which
        # locks that fix) commits first and is counted here, or waits until the partition is gone.
        partitions.lock(connection, partition)
        name = partition.name
        rows = table(name, column("id"))
        held = select(fix_legal_holds.c.fix_id)
        holds = connection.execute(
            select(func.count(distinct(fix_legal_holds.c.fix_id))).where(
                fix_legal_holds.c.fix_id.in_(select(rows.c.id))
            )
        ).scalar_one()
        bounds = {
            "partition": name,
            "from": None if partition.lower is None else partition.lower.isoformat(),
            "to": None if partition.upper is None else partition.upper.isoformat(),
        }
        if holds == 0:
            count = partitions.count_fixes(connection, partition)
            partitions.drop(connection, partition)
            action, detail = "fixes.partition_dropped", {**bounds, "fixes": count}
        else:
            count = connection.execute(delete(rows).where(rows.c.id.not_in(held))).rowcount
            if count == 0:
                continue  # cleared on an earlier run: nothing to record
            action, detail = "fixes.partition_held", {**bounds, "deleted": count, "held": holds}
        audit.record(connection, at=now, actor=actor, action=action,
                     subject_type="fixes_partition", subject_id=name, detail=detail)  # fmt: skip
        released += count
    return released
