"""The normalised fix every gateway produces and every later part consumes. No framework imports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Alarm(StrEnum):
    """Device alarms, one vocabulary for every protocol."""

    STRAP_REMOVED = "strap_removed"
    TAMPER = "tamper"
    SOS = "sos"
    LOW_BATTERY = "low_battery"
    POWER_CUT = "power_cut"
    POWER_RESTORED = "power_restored"
    SHOCK = "shock"
    OVERSPEED = "overspeed"
    GPS_ANTENNA_CUT = "gps_antenna_cut"
    FALL_DOWN = "fall_down"
    GEOFENCE_ENTER = "geofence_enter"
    GEOFENCE_EXIT = "geofence_exit"
    GENERAL = "general"
    ACCELERATION = "acceleration"
    BRAKING = "braking"
    CORNERING = "cornering"
    ACCIDENT = "accident"
    JAMMING = "jamming"
    POWER_OFF = "power_off"


@dataclass(frozen=True, slots=True)
class Fix:
    """One position report (or a position-less device status when ``lat``/``lon`` are None).

    Times are timezone-aware UTC. ``accuracy_m`` is the reported accuracy, or one derived from HDOP;
    ``approximate`` marks network/cell positions. ``raw`` keeps the message as received, for
    evidence (hex for binary protocols).
    """

    device_id: str
    fix_time: datetime
    receive_time: datetime
    lat: float | None
    lon: float | None
    protocol: str
    accuracy_m: float | None = None
    approximate: bool = False
    valid: bool = True
    speed_mps: float | None = None
    heading: float | None = None
    altitude_m: float | None = None
    satellites: int | None = None
    battery_pct: float | None = None
    charging: bool | None = None
    alarms: frozenset[Alarm] = frozenset()
    raw: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lon is not None
