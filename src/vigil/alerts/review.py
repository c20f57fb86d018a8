"""One alert under review: the alert, who it is about, the zones of their active orders, and
their trail from half an hour before it started to half an hour after it ended (audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from vigil.alerts import alert_reads
from vigil.alerts.alert_reads import AlertDetail
from vigil.db.uow import UnitOfWork
from vigil.orders import service as orders
from vigil.orders.zones_map import zones_json
from vigil.people import protected_details
from vigil.people import service as people
from vigil.people.person_map import scope_check
from vigil.security import permissions
from vigil.security.crypto import FieldCipher
from vigil.security.model import Principal
from vigil.tracking import queries as trails
from vigil.tracking.trail_map import trail_json

AROUND = timedelta(minutes=30)


@dataclass
class AlertPage:
    alert: AlertDetail
    person: people.PersonView
    zones: list[dict[str, Any]]
    condition: dict[str, Any] | None
    trail: dict[str, Any]
    protected: list[protected_details.ProtectedPersonRef]
    window: tuple[datetime, datetime]


def _window(alert: AlertDetail, now: datetime) -> tuple[datetime, datetime]:
    started = datetime.fromisoformat(alert["started_at"] or alert["created_at"])
    ended = datetime.fromisoformat(alert["ended_at"]) if alert["ended_at"] else now
    window = (started - AROUND, min(now, ended + AROUND))
    if window[1] <= window[0]:
        window = (window[0], window[0] + timedelta(minutes=1))
    return window


def alert_page(
    uow: UnitOfWork, principal: Principal, cipher: FieldCipher, alert_id: int, now: datetime
) -> AlertPage:
    principal.require(permissions.ALERTS_WORK)
    found = alert_reads.get_alert(uow, principal, alert_id)  # NotFound outside scope
    person = people.get_person(uow, principal, int(found["person_id"]))
    zones = zones_json(orders.list_orders(uow, principal, person.id))
    condition = next((z for z in zones if str(z["id"]) == str(found["condition_id"])), None)
    window = _window(found, now)
    # The trail before and after is a trail view like any other: stated reason, audited.
    got = trails.trail_arrays(
        uow, principal, person.id, window[0], window[1], f"Reviewing alert {alert_id}",
        scope=scope_check,
    )  # fmt: skip
    return AlertPage(
        alert=found,
        person=person,
        zones=zones,
        condition=condition,
        trail=trail_json(got, zones, thin=False),
        protected=protected_details.named_protected_persons(uow, principal, cipher, person.id),
        window=window,
    )
