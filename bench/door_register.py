"""The device register a benchmarked door checks fixes against.

The doors check each fix against an in-memory snapshot of the register (``KnownDevices``); that
lookup is what a benchmark must pay for, so the snapshot here is a real one holding every device
the load generators use, fitted since 2000. The quarantine behind it sits on a throwaway,
migrated SQLite database (no fix in these runs is refused, so it is never written)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from vigil.bootstrap import build_container
from vigil.bus.model import Bus
from vigil.db import migrate
from vigil.gateways.directory import KnownDevices
from vigil.gateways.intake import Intake
from vigil.gateways.metrics import GatewayMetrics
from vigil.gateways.quarantine import Quarantine
from vigil.settings import Environment, Settings

FITTED_SINCE = datetime(2000, 1, 1, tzinfo=UTC)


def door_intake(bus: Bus, device_ids: Iterable[str]) -> Intake:
    path = Path(tempfile.mkdtemp(prefix="vigil-bench-")) / "register.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    container = build_container(Settings(environment=Environment.DEVELOPMENT, database_url=url))
    known = KnownDevices({device: [(FITTED_SINCE, None, None)] for device in device_ids})
    return Intake(bus, GatewayMetrics(), known, Quarantine(container.uow))
