"""The quarantine: what the device doors refused, kept as it came.

A tag that is not registered, or sends from before it was fitted, is refused; its frames are kept
here with the reason so the monitoring centre finds a mis-registered tag instead of losing its
positions. A device that floods the doors with refused frames could fill the database, so each
device keeps at most ``PER_DEVICE_PER_HOUR`` frames an hour; the rest are only counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select

from vigil.db.uow import UnitOfWork
from vigil.gateways.tables import gateway_quarantine as table
from vigil.security import audit, permissions
from vigil.security.model import Principal

PER_DEVICE_PER_HOUR = 100
MAX_RAW = 4096
# Device ids tracked for the hourly budget before the oldest hour's counts are dropped.
MAX_TRACKED = 10_000


@dataclass(frozen=True)
class Refused:
    received_at: datetime
    protocol: str
    device_id: str
    reason: str
    fix_time: datetime | None
    raw: str


@dataclass(frozen=True)
class QuarantinedDevice:
    """One device's refusals, as the monitoring centre reads them."""

    device_id: str
    protocol: str
    reason: str
    frames: int
    first_seen: datetime
    last_seen: datetime
    last_raw: str


class Quarantine:
    def __init__(self, unit_of_work: Callable[[], UnitOfWork]) -> None:
        self._unit_of_work = unit_of_work
        self._budget: dict[tuple[str, int], int] = {}

    def admit(self, refused: Sequence[Refused]) -> list[Refused]:
        """The refusals within their devices' hourly budget."""
        if len(self._budget) > MAX_TRACKED:
            self._budget.clear()
        kept: list[Refused] = []
        for item in refused:
            slot = (item.device_id, int(item.received_at.timestamp()) // 3600)
            used = self._budget.get(slot, 0)
            if used < PER_DEVICE_PER_HOUR:
                self._budget[slot] = used + 1
                kept.append(item)
        return kept

    async def keep(self, refused: Sequence[Refused]) -> None:
        """Store refusals durably (one transaction) before the device is answered."""
        if refused:
            await asyncio.to_thread(self._store, refused)

    def _store(self, refused: Sequence[Refused]) -> None:
        with self._unit_of_work() as uow:
            uow.connection.execute(
                insert(table),
                [
                    {
                        "received_at": item.received_at,
                        "protocol": item.protocol,
                        "device_id": item.device_id[:64],
                        "reason": item.reason,
                        "fix_time": item.fix_time,
                        "raw": item.raw[:MAX_RAW],
                    }
                    for item in refused
                ],
            )
            uow.commit()


def by_device(
    uow: UnitOfWork, principal: Principal, since: datetime, limit: int = 200
) -> list[QuarantinedDevice]:
    """Refused devices seen since ``since``, the most recent first."""
    principal.require(permissions.QUARANTINE_READ)
    groups = (
        select(
            table.c.device_id,
            table.c.protocol,
            table.c.reason,
            func.count().label("frames"),
            func.min(table.c.received_at).label("first_seen"),
            func.max(table.c.received_at).label("last_seen"),
            func.max(table.c.id).label("last_id"),
        )
        .where(table.c.received_at >= since)
        .group_by(table.c.device_id, table.c.protocol, table.c.reason)
        .order_by(func.max(table.c.received_at).desc())
        .limit(limit)
        .subquery()
    )
    rows = uow.connection.execute(
        select(groups, table.c.raw).join(table, table.c.id == groups.c.last_id)
    ).all()
    return [
        QuarantinedDevice(
            device_id=row.device_id,
            protocol=row.protocol,
            reason=row.reason,
            frames=int(row.frames),
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            last_raw=row.raw,
        )
        for row in sorted(rows, key=lambda r: r.last_seen, reverse=True)
    ]


def purge_before(uow: UnitOfWork, before: datetime, actor: str) -> int:
    """Retention: forget refusals received before ``before``; audited with the count."""
    return audit.delete_for_retention(
        uow, table, table.c.received_at < before, before=before, actor=actor
    )
