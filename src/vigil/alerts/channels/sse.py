"""The live web channel: alert changes streamed to operators' browsers as server-sent events.

Unlike the outbox channels, nothing is queued in the database for it: the alert table and its
history are the durable record. A browser that reconnects sends ``Last-Event-ID`` (the last
history id it saw) and is sent what it missed from ``alert_history`` before live changes.

Every change committed anywhere in the process is published on ``Topic.ALERTS``; the hub fans it
out to each connected browser whose user may see that alert (role and caseload scope).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from vigil.alerts.model import AlertChange, visible_to
from vigil.logs import get_logger
from vigil.security import permissions
from vigil.security.model import Principal

log = get_logger(__name__)
# A browser that falls this far behind is disconnected; it reconnects and catches up by id.
MAX_PENDING = 1000


@dataclass(eq=False)
class LiveSubscriber:
    principal: Principal
    queue: asyncio.Queue[AlertChange | None] = field(
        default_factory=lambda: asyncio.Queue(MAX_PENDING)
    )


class LiveHub:
    def __init__(self) -> None:
        self._subscribers: set[LiveSubscriber] = set()

    @property
    def connected(self) -> int:
        return len(self._subscribers)

    def connect(self, principal: Principal) -> LiveSubscriber:
        principal.require(permissions.ALERTS_WORK)
        subscriber = LiveSubscriber(principal)
        self._subscribers.add(subscriber)
        return subscriber

    def disconnect(self, subscriber: LiveSubscriber) -> None:
        self._subscribers.discard(subscriber)

    async def on_changes(self, batch: list[Any]) -> None:
        for message in batch:
            if isinstance(message, AlertChange):
                change = message
            elif isinstance(message, dict) and "alert_id" in message:
                change = AlertChange.from_message(message)
            else:
                continue
            for subscriber in list(self._subscribers):
                if not visible_to(
                    subscriber.principal,
                    severity=change.severity,
                    escalation_level=change.escalation_level,
                    managing_team_id=change.managing_team_id,
                    force_area=change.force_area,
                ):
                    continue
                try:
                    subscriber.queue.put_nowait(change)
                except asyncio.QueueFull:
                    log.warning("alerts.live_subscriber_dropped", reason="too far behind")
                    self.disconnect(subscriber)
                    # Make room for the end marker so the stream closes promptly.
                    subscriber.queue.get_nowait()
                    subscriber.queue.put_nowait(None)


def frame(change: AlertChange) -> str:
    """One SSE frame; the id lets a reconnecting browser resume after it."""
    data = json.dumps(change.as_json(), separators=(",", ":"))
    return f"id: {change.history_id}\nevent: alert\ndata: {data}\n\n"


KEEPALIVE = ": keep-alive\n\n"
