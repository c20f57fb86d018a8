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
    def identity(self) -> str:
        """What makes two fixes one report, whenever it was received: device, fix time and the
        message as the device sent it (the bus drops resends by it)."""
        return f"{self.device_id}|{self.fix_time.isoformat()}|{self.raw}"

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lon is not None


@dataclass(frozen=True, slots=True)
class QualityFlags:
    """What the trail store and the engine conclude about one fix. Flagged fixes are kept as
    evidence; they only stop counting as proof of where someone was.

    ``invalid_position``: no position, out of range, or the (0, 0) "null island" some devices send
    before a lock. ``implausible``: further from the previous fix than a person could travel, even
    allowing for both fixes' accuracy. ``approximate``: a network or cell position.
    """

    invalid_position: bool = False
    implausible: bool = False
    approximate: bool = False

    @property
    def usable(self) -> bool:
        """May this fix place a person somewhere (near-point queries, closest approach)?"""
        return not (self.invalid_position or self.implausible)


@dataclass(frozen=True, slots=True)
class StoredFix:
    """A fix as the trail store holds it: its id (referenced by violations and evidence), the
    person it was allocated to at fix time (None for an unallocated device) and its quality flags.
    """

    id: int
    person_id: str | None
    device_id: str
    fix_time: datetime
    receive_time: datetime
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    valid: bool
    approximate: bool
    implausible: bool
    invalid_position: bool
    protocol: str
    battery_pct: float | None = None
    alarms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch of a trail with no fix for longer than the gap threshold."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class Trail:
    person_id: str
    start: datetime
    end: datetime
    fixes: tuple[StoredFix, ...]
    gaps: tuple[Gap, ...]


@dataclass(frozen=True, slots=True)
class Sighting:
    """One fix measured against a place: ``distance_m`` centre to centre (geodesic), and
    ``reach_m`` the distance minus the fix's accuracy (never below 0) — how close the person may
    have been given what the device itself says about its precision."""

    fix: StoredFix
    distance_m: float
    reach_m: float


@dataclass(frozen=True, slots=True)
class NearFix:
    """A fix near a place, as the near-point index holds it (all a map or a table needs; the full
    stored fix is one ``store.fixes_by_id`` away). Only usable fixes are ever near."""

    id: int
    fix_time: datetime
    lat: float
    lon: float
    accuracy_m: float | None
    distance_m: float
    reach_m: float


@dataclass(frozen=True, slots=True)
class Approach:
    """A person's closest approach to a place in a window (with its full stored fix), and every
    fix that shows them near, in time order."""

    person_id: str
    closest: Sighting
    sightings: tuple[NearFix, ...]


@dataclass(frozen=True, slots=True)
class AccountCheck:
    """Was the person within R metres of a place around a time? If not, how close and where."""

    person_id: str
    within: bool
    closest: Sighting | None
    sightings_within: tuple[Sighting, ...]
    before: StoredFix | None
    after: StoredFix | None
    gaps: tuple[Gap, ...]
    fixes_in_window: int
