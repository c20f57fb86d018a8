"""What the engine tells the rest of the system. The alerts part consumes these from the bus."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    EXCLUSION_ZONE = "exclusion_zone"
    POSSIBLE_TRANSIT = "possible_transit"
    APPROACH_WARNING = "approach_warning"
    CURFEW = "curfew"
    INCLUSION_ZONE = "inclusion_zone"
    PROXIMITY = "proximity"
    STRAP_REMOVED = "strap_removed"
    TAMPER = "tamper"
    SOS = "sos"
    BATTERY_LOW = "battery_low"
    NO_COMMUNICATION = "no_communication"
    NO_GPS = "no_gps"
    ALCOHOL = "alcohol"


class EventPhase(StrEnum):
    STARTED = "started"
    UPDATED = "updated"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class EngineEvent:
    """One change in one episode. ``episode_id`` is stable and idempotent: the same fixes and
    conditions always give the same id, so a replay or a restart never creates a second episode.

    ``person_id`` and ``condition_id`` are the registry's ids as strings; ``condition_id`` is None
    for device events not tied to a condition. ``fix_ids`` reference the stored fixes that prove it.
    """

    episode_id: str
    person_id: str
    condition_id: str | None
    kind: EventKind
    phase: EventPhase
    start: datetime
    end: datetime | None
    raised_at: datetime
    retrospective: bool = False
    device_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    fix_ids: tuple[int, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict)
