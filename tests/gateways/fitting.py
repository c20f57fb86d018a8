"""Devices registered and fitted through the real services, as the device doors require."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, date, datetime

from sqlalchemy import select

from vigil.bootstrap import Container
from vigil.bus.model import Bus
from vigil.devices.keys import issue_key
from vigil.devices.model import DeviceType, HolderKind
from vigil.devices.service import allocate, register_device
from vigil.gateways.directory import KnownDevices
from vigil.gateways.intake import Intake
from vigil.gateways.metrics import GatewayMetrics
from vigil.gateways.quarantine import Quarantine
from vigil.gateways.tables import gateway_quarantine
from vigil.people import reference_data
from vigil.people import service as people
from vigil.people.model import PersonDraft
from vigil.security.model import SYSTEM

# Before any fix a gateway test sends (the fixtures go back to 2016).
LONG_AGO = datetime(2001, 1, 1, tzinfo=UTC)
# Team names and case reference numbers must be unique in one register.
_SERIAL = itertools.count(1)


def fit_devices(
    container: Container, external_ids: Iterable[str], fitted_at: datetime = LONG_AGO
) -> dict[str, str]:
    """Register each device, fit it to a wearer of its own from ``fitted_at`` on and issue it a
    key for the HTTP doors; returns the keys by device."""
    external_ids = list(external_ids)
    keys: dict[str, str] = {}
    if not external_ids:
        return keys
    with container.uow() as uow:
        reference_data.ensure_reference_data(uow)
        team = reference_data.add_team(
            uow,
            name=f"Gateway tests {next(_SERIAL)}",
            region_code="WM",
            force_area="WMP",
            actor="test",
        )
        for external_id in external_ids:
            n = next(_SERIAL)
            person = people.create_person(
                uow,
                SYSTEM,
                PersonDraft(
                    first_name="Wearer",
                    last_name=f"Number {n}",
                    date_of_birth=date(1980, 1, 1),
                    managing_team_id=team,
                    force_area="WMP",
                    risk_level="medium",
                    crn=f"G{n:06d}",
                ),
            )
            device = register_device(
                uow, SYSTEM, external_id=external_id, device_type=DeviceType.GPS_TAG
            )
            allocate(
                uow,
                SYSTEM,
                device_id=device,
                holder_kind=HolderKind.PERSON,
                holder_id=person,
                fitted_at=fitted_at,
            )
            keys[external_id] = issue_key(uow, SYSTEM, device)
        uow.commit()
    return keys


def door_intake(
    bus: Bus, metrics: GatewayMetrics, register: Container, fitted: Iterable[str]
) -> tuple[Intake, dict[str, str]]:
    """An intake that lets in the devices ``fitted`` (registered and fitted long ago) only, and
    their keys for the HTTP doors."""
    keys = fit_devices(register, fitted)
    with register.uow() as uow:
        known = KnownDevices.load(uow)
    return Intake(bus, metrics, known, Quarantine(register.uow)), keys


def quarantined(register: Container) -> list[tuple[str, str, str]]:
    """(protocol, device, reason) of every kept refusal, oldest first."""
    with register.uow() as uow:
        rows = uow.connection.execute(
            select(
                gateway_quarantine.c.protocol,
                gateway_quarantine.c.device_id,
                gateway_quarantine.c.reason,
            ).order_by(gateway_quarantine.c.id)
        )
        return [(r.protocol, r.device_id, r.reason) for r in rows]
