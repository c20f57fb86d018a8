"""Background service: engine events in, alerts out.

Subscribes to ``Topic.ENGINE_EVENTS``; each batch from the bus is handled in one transaction
(one savepoint per event, so one bad event cannot lose the others), then the changes are
published on ``Topic.ALERTS`` and the delivery loops are woken.
"""

from __future__ import annotations

import asyncio
from typing import Any

from vigil.alerts import raising
from vigil.alerts.model import AlertChange
from vigil.alerts.runtime import AlertsRuntime
from vigil.bus.model import Topic
from vigil.engine.events import EngineEvent
from vigil.logs import get_logger

log = get_logger(__name__)


def process(alerts: AlertsRuntime, batch: list[Any]) -> list[AlertChange]:
    changes: list[AlertChange] = []
    with alerts.uow() as uow:
        for event in batch:
            if not isinstance(event, EngineEvent):
                log.warning("alerts.unexpected_message", type=type(event).__name__)
                continue
            savepoint = uow.connection.begin_nested()
            try:
                changes.extend(raising.handle_event(uow, event, alerts.context))
                savepoint.commit()
            except Exception:
                savepoint.rollback()
                log.exception(
                    "alerts.event_failed", episode_id=event.episode_id, kind=event.kind.value
                )
        uow.commit()
    return changes


async def handle_batch(alerts: AlertsRuntime, batch: list[Any]) -> None:
    changes = await asyncio.to_thread(process, alerts, batch)
    await alerts.publish_changes(changes)


async def run(alerts: AlertsRuntime, stop: asyncio.Event) -> None:
    async def handler(batch: list[Any]) -> None:
        await handle_batch(alerts, batch)

    alerts.bus.subscribe(Topic.ENGINE_EVENTS, handler)
    log.info("alerts.consumer_started")
    await stop.wait()
