"""An engine event's form on the bus between processes; registered with the bus codec by
bootstrap."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from vigil.engine.events import EngineEvent, EventKind, EventPhase

TAG = "engine_event"


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def to_dict(event: EngineEvent) -> dict[str, Any]:
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


def from_dict(data: dict[str, Any]) -> EngineEvent:
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
