"""The latest stored message of each of many devices, in one query: what a device last said
(a position or a heartbeat) and when, with its battery and signal, for the devices page.

Each device is looked up the way the store's indexes are built: a device worn by a person through
the (person, fix time) index, from when it was fitted; a device nobody wears (in stock, or a
protected person's phone) through the index of fixes kept without a person. A correlated
``LIMIT 1`` per device reads one index entry each, however long the trail store's history.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from vigil.tracking.tables import from_micros, to_micros

# Three bound values a device: well under SQLite's and PostgreSQL's limits on one statement.
DEVICES_PER_QUERY = 2000


@dataclass(frozen=True)
class WornDevice:
    """A device worn by a monitored person since ``fitted_at``."""

    device_id: str
    person_id: int
    fitted_at: datetime


@dataclass(frozen=True)
class LatestFix:
    device_id: str
    fix_time: datetime
    receive_time: datetime
    protocol: str
    battery_pct: float | None
    charging: bool | None
    satellites: int | None
    rssi: int | None


def _sql(worn: int, loose: int) -> str:
    ctes, parts = [], []
    if worn:
        rows = ", ".join(f"(:w{i}, :p{i}, :t{i})" for i in range(worn))
        ctes.append(f"worn(device_id, person_id, fitted) AS (VALUES {rows})")
        parts.append(
            "SELECT (SELECT f.id FROM fixes f WHERE f.person_id = worn.person_id"
            " AND f.device_id = worn.device_id AND f.fix_time >= worn.fitted"
            " ORDER BY f.fix_time DESC, f.id DESC LIMIT 1) FROM worn"
        )
    if loose:
        rows = ", ".join(f"(:u{i})" for i in range(loose))
        ctes.append(f"loose(device_id) AS (VALUES {rows})")
        parts.append(
            "SELECT (SELECT f.id FROM fixes f WHERE f.person_id IS NULL"
            " AND f.device_id = loose.device_id"
            " ORDER BY f.fix_time DESC, f.id DESC LIMIT 1) FROM loose"
        )
    # Only placeholders are joined in; every value is bound.
    columns = "device_id, fix_time, receive_time, protocol, battery_pct, charging, satellites"
    return (
        f"WITH {', '.join(ctes)} SELECT {columns}, attributes FROM fixes"  # noqa: S608
        f" WHERE id IN ({' UNION ALL '.join(parts)})"
    )


def _rssi(attributes: str) -> int | None:
    try:
        value = json.loads(attributes or "{}").get("rssi")
    except (ValueError, AttributeError):
        return None
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _latest(row: Any) -> LatestFix:
    return LatestFix(
        device_id=row.device_id,
        fix_time=from_micros(int(row.fix_time)),
        receive_time=from_micros(int(row.receive_time)),
        protocol=row.protocol,
        battery_pct=row.battery_pct,
        charging=None if row.charging is None else bool(row.charging),
        satellites=row.satellites,
        rssi=_rssi(row.attributes),
    )


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), DEVICES_PER_QUERY):
        yield items[start : start + DEVICES_PER_QUERY]


def latest_fixes(
    connection: Connection, worn: Sequence[WornDevice], unworn: Sequence[str]
) -> dict[str, LatestFix]:
    """The latest fix (by fix time) of each device, by external id; a silent device is absent."""
    found: dict[str, LatestFix] = {}
    lookups: list[WornDevice | str] = [*worn, *unworn]
    for chunk in _chunks(lookups):
        worn_part = [d for d in chunk if isinstance(d, WornDevice)]
        loose_part = [d for d in chunk if isinstance(d, str)]
        params: dict[str, Any] = {}
        for i, device in enumerate(worn_part):
            params |= {f"w{i}": device.device_id, f"p{i}": str(device.person_id)}
            params[f"t{i}"] = to_micros(device.fitted_at)
        params |= {f"u{i}": device_id for i, device_id in enumerate(loose_part)}
        rows = connection.execute(text(_sql(len(worn_part), len(loose_part))), params)
        found |= {row.device_id: _latest(row) for row in rows}
    return found
