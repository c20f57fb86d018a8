"""Orders and conditions: kinds, statuses and the one ``Condition`` type. No framework imports.

Conditions are stored in the shape the monitoring engine reads (see ``docs/replay.md``): a
``type`` plus GeoJSON ``geometry``, ``radius_m``, ``buffer_m``, ``timetable`` rows of
``{"days", "start", "end"}`` in local time, ``grace_s``; a proximity condition names the protected
person whose own device the zone moves with. The engine reads this shape (``engine.plan``); the
rules each condition must keep are in ``orders.rules``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypedDict


class Pilot(StrEnum):
    """The programme an order is monitored under."""

    DA_LICENCE = "da_licence"  # domestic-abuse perpetrator released on licence
    DA_HDC = "da_hdc"  # domestic-abuse perpetrator on home detention curfew
    DAPO = "dapo"  # Domestic Abuse Protection Order
    ACQUISITIVE_CRIME = "acquisitive_crime"


DA_PILOTS = frozenset({Pilot.DA_LICENCE, Pilot.DA_HDC, Pilot.DAPO})
PILOT_LABELS = {
    Pilot.DA_LICENCE: "Domestic abuse – licence",
    Pilot.DA_HDC: "Domestic abuse – home detention curfew",
    Pilot.DAPO: "Domestic Abuse Protection Order",
    Pilot.ACQUISITIVE_CRIME: "Acquisitive crime",
}


class VersionKind(StrEnum):
    REQUEST = "request"
    VARIATION = "variation"
    REVOCATION = "revocation"
    END_OF_MONITORING = "end_of_monitoring"


# Versions that close an order: they carry no conditions.
CLOSING_KINDS = frozenset({VersionKind.REVOCATION, VersionKind.END_OF_MONITORING})


class OrderStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    ENDED = "ended"
    REVOKED = "revoked"


class ConditionType(StrEnum):
    CURFEW = "curfew"
    EXCLUSION_ZONE = "exclusion_zone"
    INCLUSION_ZONE = "inclusion_zone"
    PROXIMITY = "proximity"
    TRAIL = "trail"
    ALCOHOL = "alcohol"


class AlcoholMode(StrEnum):
    ABSTINENCE = "abstinence"
    LEVEL = "level"


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MAX_ORDER_LENGTH = timedelta(days=5 * 366)
MAX_GRACE_S = 3600
MIN_PROXIMITY_M = 50.0
MAX_PROXIMITY_M = 10_000.0
MAX_LABEL = 120


class TimetableEntry(TypedDict):
    """One row of a curfew's or a zone's timetable, as stored in the condition's parameters:
    the days it applies and its local start and end (``HH:MM``; an end before the start runs
    overnight)."""

    days: list[str]
    start: str
    end: str


def parse_time(value: Any) -> time | None:
    if not isinstance(value, str) or not TIME_RE.match(value):
        return None
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class Condition:
    """One condition of an order, as stored: its kind and parameters (the shape the engine's
    plan reads, see the module docstring), and the versions it was added in and removed in."""

    id: int
    type: ConditionType
    params: dict[str, Any]
    added_in_version: int
    removed_in_version: int | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, **self.params}


@dataclass
class OrderDraft:
    person_id: int
    pilot: Pilot | str
    starts_at: datetime
    ends_at: datetime
    responsible_officer_id: int | None
    conditions: list[Any] = field(default_factory=list)


def status_at(
    at: datetime,
    starts_at: datetime,
    ends_at: datetime,
    effective_kind: VersionKind | None,
) -> OrderStatus:
    """An order's status at a moment, from its dates and the version in force then."""
    if effective_kind is VersionKind.REVOCATION:
        return OrderStatus.REVOKED
    if effective_kind is VersionKind.END_OF_MONITORING or at >= ends_at:
        return OrderStatus.ENDED
    if effective_kind is None or at < starts_at:
        return OrderStatus.PENDING
    return OrderStatus.ACTIVE


def same_condition(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two stored conditions are the same requirement (so a variation keeps its identity)."""
    return a == b
