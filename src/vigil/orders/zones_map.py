"""An order's zones as the maps draw them: the active orders' curfew addresses, exclusion and
inclusion zones, each with its label, shape, radius and warning buffer."""

from __future__ import annotations

from typing import Any

from vigil.orders.model import Condition, ConditionType, OrderStatus
from vigil.orders.service import OrderView

ZONE_TYPES = (ConditionType.EXCLUSION_ZONE, ConditionType.INCLUSION_ZONE, ConditionType.CURFEW)
_DEFAULT_LABELS = {
    ConditionType.CURFEW: "Curfew address",
    ConditionType.EXCLUSION_ZONE: "Exclusion zone",
}


def zone_json(condition: Condition) -> dict[str, Any]:
    p = condition.params
    return {
        "id": condition.id,
        "type": condition.type.value,
        "label": p.get("label")
        or _DEFAULT_LABELS.get(condition.type, condition.type.value.replace("_", " ")),
        "geometry": p["geometry"],
        "radius_m": p.get("radius_m"),
        "buffer_m": p.get("buffer_m", 0),
    }


def zones_json(order_list: list[OrderView]) -> list[dict[str, Any]]:
    out = []
    for order in order_list:
        if order.status is not OrderStatus.ACTIVE:
            continue
        out += [zone_json(c) for c in order.conditions if c.type in ZONE_TYPES]
    return out
