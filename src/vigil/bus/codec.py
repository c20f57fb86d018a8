"""Wire format for bus messages that leave the process (NATS): tagged JSON."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from vigil.engine.events import EngineEvent, EventKind, EventPhase
from vigil.tracking.model import Alarm, Fix


class CodecError(ValueError):
    pass


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _fix_to_dict(fix: Fix) -> dict[str, Any]:
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


def _fix_from_dict(data: dict[str, Any]) -> Fix:
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


def _event_to_dict(event: EngineEvent) -> dict[str, Any]:
    return {
        "episode_id": event.episode_id,
        "person_id": event.person_id,
        "condition_id": event.condition_id,
        "kind": event.kind.value,
        "phase": event.phase.value,
        "start": event.start.isoformat(),
        "end": None if event.end is None else event.end.isoformat(),
        "raised_at": event.raised_at.isoformat(),
        "retrospective": event.retrospective,
        "device_id": event.device_id,
        "lat": event.lat,
        "lon": event.lon,
        "fix_ids": list(event.fix_ids),
        "detail": event.detail,
    }


def _event_from_dict(data: dict[str, Any]) -> EngineEvent:
    return EngineEvent(
        episode_id=data["episode_id"],
        person_id=data["person_id"],
        condition_id=data["condition_id"],
        kind=EventKind(data["kind"]),
        phase=EventPhase(data["phase"]),
        start=datetime.fromisoformat(data["start"]),
        end=_time(data["end"]),
        raised_at=datetime.fromisoformat(data["raised_at"]),
        retrospective=data["retrospective"],
        device_id=data["device_id"],
        lat=data["lat"],
        lon=data["lon"],
        fix_ids=tuple(data["fix_ids"]),
        detail=data["detail"],
    )


def encode(message: Any) -> bytes:
    if isinstance(message, Fix):
        tagged = {"type": "fix", "data": _fix_to_dict(message)}
    elif isinstance(message, EngineEvent):
        tagged = {"type": "engine_event", "data": _event_to_dict(message)}
    elif isinstance(message, dict):
        tagged = {"type": "json", "data": message}
    else:
        raise CodecError(f"message: cannot send {type(message).__name__} over the bus")
    return json.dumps(tagged, separators=(",", ":"), default=str).encode()


def payload_of(message: Any) -> bytes:
    """A message's bytes for the dead-letter store: its wire form, or its repr if it has none."""
    try:
        return encode(message)
    except (CodecError, TypeError, ValueError):
        return repr(message).encode("utf-8", "backslashreplace")


def decode(payload: bytes) -> Any:
    try:
        tagged = json.loads(payload)
        kind, data = tagged["type"], tagged["data"]
        if kind == "fix":
            return _fix_from_dict(data)
        if kind == "engine_event":
            return _event_from_dict(data)
        if kind == "json":
            return data
    except (ValueError, KeyError, TypeError) as exc:
        raise CodecError(f"payload: not a bus message ({exc})") from exc
    raise CodecError(f"type: unknown message type {kind!r}")
