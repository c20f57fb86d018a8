"""The alerts part's long-lived pieces, built once by bootstrap and handed to its entrypoints and
background services: the context the use cases need, the outbound channels, the live hub feeding
browsers, and the wake-up that tells delivery loops new work is waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from vigil.alerts.channels import build_channels
from vigil.alerts.channels.base import Channel
from vigil.alerts.channels.sse import LiveHub
from vigil.alerts.config import AlertSettings
from vigil.alerts.model import AlertChange
from vigil.alerts.registry import RegistryDirectory
from vigil.alerts.routing import Directory
from vigil.alerts.service import AlertContext
from vigil.bus.model import Bus, Topic
from vigil.clock import Clock
from vigil.db.uow import UnitOfWork
from vigil.security.crypto import FieldCipher


class Wakeup:
    """Tells every delivery loop that new deliveries were enqueued, so none waits for its next
    poll. Each loop registers its own event and clears it when it starts a round."""

    def __init__(self) -> None:
        self._events: list[asyncio.Event] = []

    def register(self) -> asyncio.Event:
        event = asyncio.Event()
        self._events.append(event)
        return event

    def notify(self) -> None:
        for event in self._events:
            event.set()


@dataclass
class AlertsRuntime:
    uow: Callable[[], UnitOfWork]
    bus: Bus
    clock: Clock
    cipher: FieldCipher
    public_base_url: str
    settings: AlertSettings = field(default_factory=AlertSettings)
    directory: Directory | None = None
    """The registry lookups; None means the real registry (tests and benchmarks bring their own)."""
    channels: dict[str, Channel] | None = None
    """Outbound channels; None means those the settings configure."""
    wakeup: Wakeup = field(default_factory=Wakeup)
    hub: LiveHub = field(default_factory=LiveHub)

    def __post_init__(self) -> None:
        self.configure(self.settings, directory=self.directory, channels=self.channels)
        self._hub_attached = False

    def configure(
        self,
        settings: AlertSettings,
        *,
        directory: Directory | None = None,
        channels: dict[str, Channel] | None = None,
    ) -> None:
        """Settle settings, registry and channels; everything derived from them follows."""
        self.settings = settings
        self.directory = directory
        self.context = AlertContext(
            directory=directory or RegistryDirectory(self.cipher, settings),
            settings=settings,
            public_base_url=self.public_base_url,
        )
        self.channels = channels
        self.outbound: dict[str, Channel] = (
            channels if channels is not None else build_channels(settings)
        )

    def live_hub(self) -> LiveHub:
        """The hub, listening on Topic.ALERTS from the first page that streams. Only web
        processes stream, so only they subscribe; each must see every change, not a share."""
        if not self._hub_attached:
            self.bus.subscribe(Topic.ALERTS, self.hub.on_changes, fan_out=True)
            self._hub_attached = True
        return self.hub

    async def publish_changes(self, changes: list[AlertChange]) -> None:
        """After commit: tell live pages, and wake the delivery loops for the new deliveries."""
        if not changes:
            return
        await self.bus.publish(Topic.ALERTS, [change.message_json() for change in changes])
        self.wakeup.notify()
