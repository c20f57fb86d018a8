"""What the engine watches: the orders in force at a moment, their conditions, and the
monitoring plan built from them (the SCENARIO.json shape ``vigil engine replay`` reads)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from vigil.db.uow import UnitOfWork
from vigil.devices import service as devices
from vigil.devices.model import HolderKind
from vigil.orders.model import (
    Condition,
    ConditionType,
    OrderStatus,
    Pilot,
    status_at,
)
from vigil.orders.service import _conditions_of, _in_force, _versions, log
from vigil.orders.tables import orders


def active_orders_at(uow: UnitOfWork, at: datetime) -> list[tuple[int, int, list[Condition]]]:
    """(order id, person id, conditions) of every order in force at ``at``."""
    out = []
    for row in uow.connection.execute(
        select(orders).where(orders.c.starts_at <= at).order_by(orders.c.id)
    ).all():
        in_force = _in_force(_versions(uow, row.id), at)
        if in_force is None:
            continue
        if status_at(at, in_force.starts_at, in_force.ends_at, in_force.kind) is not (
            OrderStatus.ACTIVE
        ):
            continue
        out.append((row.id, row.person_id, _conditions_of(uow, row.id, in_force.number)))
    return out


def count_active_pilot_persons(
    uow: UnitOfWork, at: datetime, pilots: frozenset[Pilot]
) -> list[int]:
    """Person ids with an order of one of ``pilots`` in force at ``at``."""
    wanted = {p.value for p in pilots}
    pilot_of = {r.id: r.pilot for r in uow.connection.execute(select(orders.c.id, orders.c.pilot))}
    return sorted(
        {
            person
            for order_id, person, _ in active_orders_at(uow, at)
            if pilot_of[order_id] in wanted
        }
    )


def monitoring_plan_json(
    uow: UnitOfWork, at: datetime, *, timezone: str = "Europe/London"
) -> dict[str, Any]:
    """Every monitored person's devices and conditions in force at ``at``.

    The shape is the SCENARIO.json of ``vigil replay`` (docs/replay.md): ids are strings, devices
    are external ids, a proximity condition names the protected person's device. A proximity
    condition whose protected person holds no device at ``at`` cannot be enforced and is left out
    (and logged), so the plan never names a device that does not exist. ``timezone`` is the
    service's local time zone (``settings.timezone``) in which timetables are read.
    """
    held = devices.devices_at(uow, at)
    by_person: dict[int, list[dict[str, Any]]] = {}
    for order_id, person_id, in_force in active_orders_at(uow, at):
        items = by_person.setdefault(person_id, [])
        for condition in in_force:
            item: dict[str, Any] = {
                "id": str(condition.id),
                "order": str(order_id),
                **condition.params,
            }
            if condition.type is ConditionType.PROXIMITY:
                protected = int(condition.params["protected_person_id"])
                victim_devices = held.get((HolderKind.PROTECTED_PERSON, protected), [])
                if not victim_devices:
                    log.warning(
                        "plan.proximity_without_device",
                        condition=condition.id,
                        order=order_id,
                    )
                    continue
                item["device"] = victim_devices[0]
            if "protected_person_id" in item:
                item["protected_person"] = str(item.pop("protected_person_id"))
            items.append(item)
    persons_out = [
        {
            "id": str(person_id),
            "devices": held.get((HolderKind.PERSON, person_id), []),
            "conditions": items,
        }
        for person_id, items in sorted(by_person.items())
    ]
    return {"timezone": timezone, "at": at.isoformat(), "persons": persons_out}
