"""A person's page: their orders on a map, devices, violations and alerts, and with a window
and a stated reason their trail (each trail view audited by the trail store)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vigil.alerts import alert_reads
from vigil.alerts.alert_reads import AlertRecord
from vigil.db.uow import UnitOfWork
from vigil.devices import service as devices
from vigil.engine import service as engine
from vigil.engine.service import ViolationRecord
from vigil.errors import NotFound
from vigil.orders import service as orders
from vigil.orders.zones_map import zones_json
from vigil.people import service as people
from vigil.security import permissions
from vigil.security.model import Principal
from vigil.tracking import queries as trails
from vigil.tracking.trail_map import trail_json


def scope_check(uow: UnitOfWork, principal: Principal, person_id: str) -> bool:
    """The registry's caseload rule, for the trail store's queries."""
    try:
        people.get_person(uow, principal, int(person_id))
    except (NotFound, ValueError):
        return False
    return True


@dataclass
class PersonMap:
    person: people.PersonView
    orders: list[orders.OrderView]
    zones: list[dict[str, Any]]
    devices: list[devices.DeviceView]
    violations: list[ViolationRecord]
    alerts: list[AlertRecord]
    trail: dict[str, Any] | None


def _trail(
    uow: UnitOfWork,
    principal: Principal,
    person_id: int,
    window: tuple[datetime, datetime],
    reason: str | None,
    zones: list[dict[str, Any]],
) -> dict[str, Any]:
    got = trails.trail_arrays(
        uow, principal, person_id, window[0], window[1], reason, scope=scope_check
    )
    trail = trail_json(got, zones)
    trail["gaps"] = [[int(g.start.timestamp()), int(g.end.timestamp())] for g in got.gaps]
    return trail


def person_map(
    uow: UnitOfWork,
    principal: Principal,
    person_id: int,
    window: tuple[datetime, datetime] | None,
    reason: str | None,
) -> PersonMap:
    """The person's orders on a map; with a window and a reason, their trail (audited)."""
    principal.require(permissions.PERSONS_READ)
    person = people.get_person(uow, principal, person_id)
    order_list = orders.list_orders(uow, principal, person_id)
    zones = zones_json(order_list)
    trail = None
    if window is not None:
        trail = _trail(uow, principal, person_id, window, reason, zones)
    return PersonMap(
        person=person,
        orders=order_list,
        zones=zones,
        devices=devices.list_devices(uow, principal, person_id),
        violations=engine.violations_of(uow, str(person_id)),
        alerts=alert_reads.list_alerts(
            uow, principal, alert_reads.AlertFilter(person_id=str(person_id), limit=50)
        ),
        trail=trail,
    )
