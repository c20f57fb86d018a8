"""The escalation timer: unacknowledged alerts past their stored deadline go to the next tier.

Deadlines are columns of the alerts table (indexed), so the loop holds no state: after a
restart its first tick escalates whatever fell due while it was down.
"""

from __future__ import annotations

import asyncio
import contextlib

from vigil.alerts import lifecycle
from vigil.alerts.model import AlertChange
from vigil.alerts.runtime import AlertsRuntime
from vigil.logs import get_logger

log = get_logger(__name__)


def tick(alerts: AlertsRuntime) -> list[AlertChange]:
    """One pass: escalate everything due now, in one transaction."""
    with alerts.uow() as uow:
        changes = lifecycle.escalate_due(uow, alerts.context)
        uow.commit()
    for change in changes:
        log.info(
            "alerts.escalated",
            alert_id=change.alert_id,
            level=change.escalation_level,
            severity=change.severity.value,
        )
    return changes


async def run(alerts: AlertsRuntime, stop: asyncio.Event) -> None:
    interval = alerts.settings.escalation_poll_s
    while not stop.is_set():
        try:
            changes = await asyncio.to_thread(tick, alerts)
            await alerts.publish_changes(changes)
        except Exception:  # a database hiccup must not end the timer for good
            log.exception("alerts.escalation_tick_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
