"""How long fixes are kept: legal holds for evidence, and the retention job's deletions of
everything older than the schedule that no hold protects."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, delete, insert, select, update

from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.security import audit
from vigil.tracking import partition_retention, partitions
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
    On a partitioned trail (PostgreSQL) a month wholly below the cut-off goes with its partition
    unless it holds a fix under legal hold (tracking.partition_retention).
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
    if partitions.is_partitioned(connection):
        deleted = partition_retention.release(uow, cutoff, actor)
    else:
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
        detail={"cutoff": cutoff.isoformat(), "deleted": deleted},
    )
    return int(deleted)
