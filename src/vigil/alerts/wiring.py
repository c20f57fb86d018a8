"""Per-container pieces of the alerts part, built on first use: the context the use cases need,
the live hub feeding browsers, and the wake-up that tells delivery loops new work is waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import false, update

from vigil.alerts.config import AlertSettings
from vigil.alerts.model import AlertChange
from vigil.alerts.routing import Directory
from vigil.alerts.service import AlertContext
from vigil.alerts.tables import alerts
from vigil.bootstrap import Container
from vigil.bus.model import Topic
from vigil.db.uow import UnitOfWork

SETTINGS_KEY = "alerts.settings"
DIRECTORY_KEY = "alerts.directory"
CONTEXT_KEY = "alerts.context"
WAKE_KEY = "alerts.wake"

T = TypeVar("T")


@contextmanager
def writing(container: Container) -> Iterator[UnitOfWork]:
    """A unit of work that will write. On SQLite it takes the write lock first: a deferred
    transaction that reads and then writes fails at once ("database is locked", no busy wait)
    when another process committed in between, which the worker, the consumer and the web
    server all do. PostgreSQL needs nothing special."""
    with container.uow() as uow:
        take_write_lock(uow)
        yield uow


def take_write_lock(uow: UnitOfWork) -> None:
    """On SQLite, start the current transaction as a writer (see ``writing``)."""
    if uow.dialect == "sqlite":
        # Any write statement takes SQLite's write lock, honouring busy_timeout; this one
        # changes nothing.
        uow.connection.execute(update(alerts).where(false()).values(id=alerts.c.id))


def _built_once(container: Container, key: str, kind: type[T], build: Callable[[], T]) -> T:
    """The container's piece under ``key``, built and kept on first use (or the one a test or
    the demo put there beforehand)."""
    found = container.extras.get(key)
    if isinstance(found, kind):
        return found
    built = build()
    container.extras[key] = built
    return built


def alert_settings(container: Container) -> AlertSettings:
    return _built_once(container, SETTINGS_KEY, AlertSettings, AlertSettings)


def context(container: Container) -> AlertContext:
    return _built_once(container, CONTEXT_KEY, AlertContext, lambda: _build_context(container))


def _build_context(container: Container) -> AlertContext:
    settings = alert_settings(container)
    directory = container.extras.get(DIRECTORY_KEY)
    if directory is None:
        from vigil.alerts.registry import RegistryDirectory

        directory = RegistryDirectory(container.cipher, settings)
    return AlertContext(
        directory=_as_directory(directory),
        settings=settings,
        public_base_url=container.settings.public_base_url,
    )


def _as_directory(value: object) -> Directory:
    # Tests put their own Directory in extras; anything else there is a wiring mistake.
    required = ("case", "force_area_at", "control_room", "protected_persons")
    if not all(hasattr(value, name) for name in required):
        raise TypeError(f"{DIRECTORY_KEY} does not implement vigil.alerts.routing.Directory")
    return value  # type: ignore[return-value]


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


def wakeup(container: Container) -> Wakeup:
    return _built_once(container, WAKE_KEY, Wakeup, Wakeup)


async def publish_changes(container: Container, changes: list[AlertChange]) -> None:
    """After commit: tell live pages, and wake the delivery loops for the new deliveries."""
    if not changes:
        return
    await container.bus.publish(Topic.ALERTS, [change.to_message() for change in changes])
    wakeup(container).notify()
