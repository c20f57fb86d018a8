"""A fix's form on the bus between processes; registered with the bus codec by bootstrap."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from vigil.tracking.model import Alarm, Fix

TAG = "fix"


def to_dict(fix: Fix) -> dict[str, Any]:
    return {
        "device_id": fix.device_id,
        "fix_time": fix.fix_time.isoformat(),
        "receive_time": fix.receive_time.isoformat(),
        "lat": fix.lat,
        "lon": fix.lon,
        "protocol": fix.protocol,
        "accuracy_m": fix.accuracy_m,
        "approximate": fix.approximate,
        "valid": fix.valid,
        "speed_mps": fix.speed_mps,
        "heading": fix.heading,
        "altitude_m": fix.altitude_m,
        "satellites": fix.satellites,
        "battery_pct": fix.battery_pct,
        "charging": fix.charging,
        "alarms": sorted(alarm.value for alarm in fix.alarms),
        "raw": fix.raw,
        "attributes": fix.attributes,
    }


def from_dict(data: dict[str, Any]) -> Fix:
    return Fix(
        device_id=data["device_id"],
        fix_time=datetime.fromisoformat(data["fix_time"]),
        receive_time=datetime.fromisoformat(data["receive_time"]),
        lat=data["lat"],
        lon=data["lon"],
        protocol=data["protocol"],
        accuracy_m=data["accuracy_m"],
        approximate=data["approximate"],
        valid=data["valid"],
        speed_mps=data["speed_mps"],
        heading=data["heading"],
        altitude_m=data["altitude_m"],
        satellites=data["satellites"],
        battery_pct=data["battery_pct"],
        charging=data["charging"],
        alarms=frozenset(Alarm(value) for value in data["alarms"]),
        raw=data["raw"],
        attributes=data["attributes"],
    )
