"""Retention: each kind of record is kept for the time the settings give it, then deleted by
this job, once a day, each deletion audited with what and how much.

Kinds and their rules live with their parts (``purge_before`` / ``apply_retention``); this job
only turns the schedule into cut-offs. Fixes are deleted only below the trail store's cut-off,
which only moves forward, and never when an evidence pack holds them (the database refuses
otherwise, see tracking_0001). A schedule made longer cannot bring back what was deleted: the
trail cut-off then stays where it is until the new schedule passes it. On PostgreSQL each run
also creates the trail's monthly partitions ahead (tracking.partitions), and retention drops a
month whole once the cut-off passes its end.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from vigil.alerts import alert_retention
from vigil.bus import dead_letters
from vigil.contact import case_retention
from vigil.db.uow import UnitOfWork
from vigil.evidence import holds
from vigil.gateways import quarantine
from vigil.harm import run_retention
from vigil.host import Host
from vigil.logs import get_logger
from vigil.settings import Settings
from vigil.tracking import partitions, trail_retention

log = get_logger(__name__)

ACTOR = "system:retention"
EVERY_S = 24 * 3600.0

Purge = Callable[[UnitOfWork, datetime, str], int]


def _trail(uow: UnitOfWork, before: datetime, actor: str) -> int:
    current = trail_retention.retention_cutoff(uow)
    if current is not None and before <= current:
        return 0  # already there (or the schedule was lengthened): nothing newer is released
    return trail_retention.apply_retention(uow, before, actor)


@dataclass(frozen=True)
class Kind:
    name: str
    keep: Callable[[Settings], timedelta]
    purge: Purge


def _alerts(uow: UnitOfWork, before: datetime, actor: str) -> int:
    # An alert whose violation a signed evidence pack cites is held with the pack.
    return alert_retention.purge_before(uow, before, actor, held=holds.cited_violations(uow))


KINDS: tuple[Kind, ...] = (
    Kind("trail", lambda s: timedelta(days=s.retention_trail_days), _trail),
    Kind(
        "quarantine",
        lambda s: timedelta(days=s.retention_quarantine_days),
        quarantine.purge_before,
    ),
    Kind(
        "dead_letters",
        lambda s: timedelta(days=s.retention_dead_letter_days),
        dead_letters.purge_before,
    ),
    Kind("alerts", lambda s: timedelta(days=s.retention_alert_days), _alerts),
    Kind(
        "contact_cases",
        lambda s: timedelta(days=s.retention_contact_case_days),
        case_retention.purge_before,
    ),
    Kind(
        "harm_runs",
        lambda s: timedelta(days=s.retention_harm_run_days),
        run_retention.purge_before,
    ),
)


def _partitions_ahead(container: Host, now: datetime) -> None:
    """The trail's monthly partitions are created ahead of the fixes that need them
    (PostgreSQL; nothing on SQLite). A failure is logged and tried again the next day."""
    try:
        with container.uow() as uow:
            partitions.create_ahead(uow.connection, now)
            uow.commit()
    except Exception:
        log.exception("retention.partitions_failed", at=now.isoformat())


def run_once(container: Host) -> dict[str, int]:
    """Create the trail's partitions ahead, then apply every kind's schedule now; returns how
    many records each deleted. One kind's failure is logged and does not stop the others."""
    now = container.clock.now()
    _partitions_ahead(container, now)
    deleted: dict[str, int] = {}
    for kind in KINDS:
        before = now - kind.keep(container.settings)
        try:
            with container.uow() as uow:
                deleted[kind.name] = kind.purge(uow, before, ACTOR)
                uow.commit()
        except Exception:
            log.exception("retention.failed", kind=kind.name, before=before.isoformat())
            continue
        log.info("retention.applied", kind=kind.name, before=before.isoformat(),
                 deleted=deleted[kind.name])  # fmt: skip
    return deleted


async def run(container: Host, stop: asyncio.Event) -> None:
    """Background service: apply the schedule at start-up, then once a day."""
    while not stop.is_set():
        await asyncio.to_thread(run_once, container)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=EVERY_S)
