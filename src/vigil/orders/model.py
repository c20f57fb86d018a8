"""Orders and conditions: kinds, statuses and the rules an order must keep. No framework imports.

Conditions are stored in the shape the monitoring engine reads (see ``docs/replay.md``): a
``type`` plus GeoJSON ``geometry``, ``radius_m``, ``buffer_m``, ``timetable`` rows of
``{"days", "start", "end"}`` in local time, ``grace_s``; a proximity condition names the protected
person whose own device the zone moves with.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any

from vigil.errors import ErrorCollector
from vigil.geo.zones import parse_buffer, parse_zone


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


def parse_time(value: Any) -> time | None:
    if not isinstance(value, str) or not TIME_RE.match(value):
        return None
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def parse_timetable(raw: Any, field_name: str, errors: ErrorCollector) -> list[dict[str, Any]]:
    """Rows of days + start + end in local time. ``end`` before ``start`` runs overnight."""
    if not isinstance(raw, list) or not raw:
        errors.add(field_name, "needs at least one row of days, start and end")
        return []
    rows = []
    for index, row in enumerate(raw):
        where = f"{field_name}[{index}]"
        if not isinstance(row, dict):
            errors.add(where, "must be an object with days, start and end")
            continue
        unknown = set(row) - {"days", "start", "end"}
        if unknown:
            errors.add(where, f"unknown field(s) {', '.join(sorted(unknown))}")
        days = row.get("days")
        if not isinstance(days, list) or not days:
            errors.add(f"{where}.days", f"must list one or more of {', '.join(DAYS)}")
            days = []
        cleaned = [str(day).strip().lower()[:3] for day in days]
        bad = [str(day) for day, short in zip(days, cleaned, strict=True) if short not in DAYS]
        if bad:
            errors.add(f"{where}.days", f"unknown day(s) {', '.join(bad)}; use {', '.join(DAYS)}")
        elif len(set(cleaned)) != len(cleaned):
            errors.add(f"{where}.days", "names a day twice")
        start, end = parse_time(row.get("start")), parse_time(row.get("end"))
        if start is None:
            errors.add(f"{where}.start", "must be a 24-hour time HH:MM, e.g. 19:00")
        if end is None:
            errors.add(f"{where}.end", "must be a 24-hour time HH:MM, e.g. 07:00")
        if start is not None and start == end:
            errors.add(f"{where}.end", "must differ from start (a window cannot be empty)")
        rows.append(
            {
                "days": [day for day in DAYS if day in cleaned],
                "start": row.get("start"),
                "end": row.get("end"),
            }
        )
    _check_overlaps(rows, field_name, errors)
    return rows


def _windows(row: dict[str, Any]) -> list[tuple[int, int]]:
    """Minutes of the week covered by a row; an overnight row runs into the next day."""
    start, end = parse_time(row["start"]), parse_time(row["end"])
    if start is None or end is None:
        return []
    s = start.hour * 60 + start.minute
    e = end.hour * 60 + end.minute
    length = (e - s) % (24 * 60)
    out = []
    for day in row["days"]:
        begin = DAYS.index(day) * 24 * 60 + s
        out.append((begin, begin + length))
    return out


def _check_overlaps(rows: list[dict[str, Any]], field_name: str, errors: ErrorCollector) -> None:
    week = 7 * 24 * 60
    spans = []
    for index, row in enumerate(rows):
        spans += [(begin, end, index) for begin, end in _windows(row)]
    for i, (b1, e1, r1) in enumerate(spans):
        for b2, e2, r2 in spans[i + 1 :]:
            # Compare on the weekly circle: Sunday night runs into Monday morning.
            for shift in (-week, 0, week):
                if b1 < e2 + shift and b2 + shift < e1:
                    errors.add(
                        f"{field_name}[{max(r1, r2)}]",
                        f"overlaps row {min(r1, r2)}" if r1 != r2 else "overlaps itself",
                    )
                    return


def _number(
    raw: Any, where: str, errors: ErrorCollector, low: float, high: float, unit: str
) -> float | None:
    if isinstance(raw, bool):
        raw = None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        errors.add(where, f"must be a number of {unit}")
        return None
    if not math.isfinite(value) or not low <= value <= high:
        errors.add(where, f"must be between {low:g} and {high:g} {unit}")
        return None
    return value


ALLOWED_KEYS: dict[ConditionType, set[str]] = {
    ConditionType.CURFEW: {"geometry", "radius_m", "timetable", "grace_s", "address", "label"},
    ConditionType.EXCLUSION_ZONE: {
        "geometry",
        "radius_m",
        "buffer_m",
        "timetable",
        "label",
        "protected_person_id",
    },
    ConditionType.INCLUSION_ZONE: {"geometry", "radius_m", "buffer_m", "timetable", "label"},
    ConditionType.PROXIMITY: {"protected_person_id", "distance_m", "exit_distance_m", "label"},
    ConditionType.TRAIL: {"label"},
    ConditionType.ALCOHOL: {"mode", "threshold_mg_per_100ml", "label"},
}


def parse_condition(raw: Any, where: str, errors: ErrorCollector) -> dict[str, Any] | None:
    """Validate one condition; return its stored form (``type`` plus parameters) or None."""
    if not isinstance(raw, dict):
        errors.add(where, "must be an object with a type")
        return None
    try:
        kind = ConditionType(str(raw.get("type")))
    except ValueError:
        errors.add(f"{where}.type", f"must be one of {', '.join(ConditionType)}")
        return None
    before = len(errors.errors)
    unknown = set(raw) - ALLOWED_KEYS[kind] - {"type", "id"}
    if unknown:
        errors.add(where, f"unknown field(s) for {kind}: {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {"type": kind.value}
    label = raw.get("label")
    if label is not None:
        if not isinstance(label, str) or len(label) > MAX_LABEL:
            errors.add(f"{where}.label", f"must be text of at most {MAX_LABEL} characters")
        elif label.strip():
            out["label"] = label.strip()
    if kind in (ConditionType.CURFEW, ConditionType.EXCLUSION_ZONE, ConditionType.INCLUSION_ZONE):
        zone = parse_zone(
            raw.get("geometry"),
            raw.get("radius_m"),
            errors,
            field=f"{where}.geometry",
            radius_field=f"{where}.radius_m",
        )
        if zone is not None:
            out["geometry"] = zone.geometry
            if zone.radius_m is not None:
                out["radius_m"] = zone.radius_m
    if kind is ConditionType.CURFEW:
        if "geometry" in out and out["geometry"]["type"] != "Point":
            errors.add(f"{where}.geometry", "a curfew is a circle around the address (a Point)")
        out["timetable"] = parse_timetable(raw.get("timetable"), f"{where}.timetable", errors)
        grace = raw.get("grace_s", 300)
        value = _number(grace, f"{where}.grace_s", errors, 0, MAX_GRACE_S, "seconds")
        if value is not None:
            out["grace_s"] = int(value)
        address = raw.get("address")
        if address is not None:
            if not isinstance(address, str) or len(address) > 300:
                errors.add(f"{where}.address", "must be text of at most 300 characters")
            else:
                out["address"] = address.strip()
    if kind in (ConditionType.EXCLUSION_ZONE, ConditionType.INCLUSION_ZONE):
        buffer = parse_buffer(raw.get("buffer_m"), errors, field=f"{where}.buffer_m")
        if buffer is not None:
            out["buffer_m"] = buffer
        if raw.get("timetable") is not None:
            out["timetable"] = parse_timetable(raw["timetable"], f"{where}.timetable", errors)
    if kind in (ConditionType.EXCLUSION_ZONE, ConditionType.PROXIMITY):
        protected = raw.get("protected_person_id")
        if protected is not None or kind is ConditionType.PROXIMITY:
            if isinstance(protected, int) and not isinstance(protected, bool) and protected > 0:
                out["protected_person_id"] = protected
            else:
                errors.add(f"{where}.protected_person_id", "must name a protected person (an id)")
    if kind is ConditionType.PROXIMITY:
        distance = _number(
            raw.get("distance_m"),
            f"{where}.distance_m",
            errors,
            MIN_PROXIMITY_M,
            MAX_PROXIMITY_M,
            "metres",
        )
        if distance is not None:
            out["distance_m"] = distance
        if raw.get("exit_distance_m") is not None:
            exit_distance = _number(
                raw["exit_distance_m"],
                f"{where}.exit_distance_m",
                errors,
                MIN_PROXIMITY_M,
                MAX_PROXIMITY_M * 1.5,
                "metres",
            )
            if exit_distance is not None and distance is not None:
                if exit_distance < distance:
                    errors.add(f"{where}.exit_distance_m", "must be at least distance_m")
                else:
                    out["exit_distance_m"] = exit_distance
    if kind is ConditionType.ALCOHOL:
        try:
            mode = AlcoholMode(raw.get("mode", AlcoholMode.ABSTINENCE))
            out["mode"] = mode.value
        except ValueError:
            errors.add(f"{where}.mode", f"must be one of {', '.join(AlcoholMode)}")
            mode = None
        threshold = raw.get("threshold_mg_per_100ml")
        if mode is AlcoholMode.LEVEL or threshold is not None:
            value = _number(threshold, f"{where}.threshold_mg_per_100ml", errors, 1, 400, "mg")
            if value is not None:
                out["threshold_mg_per_100ml"] = value
    return out if len(errors.errors) == before else None


def parse_conditions(raw: Any, errors: ErrorCollector) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        errors.add("conditions", "an order needs at least one condition")
        return []
    parsed = [parse_condition(item, f"conditions[{i}]", errors) for i, item in enumerate(raw)]
    return [item for item in parsed if item is not None]


@dataclass
class OrderDraft:
    person_id: int
    pilot: Pilot | str
    starts_at: datetime
    ends_at: datetime
    responsible_officer_id: int | None
    conditions: list[Any] = field(default_factory=list)


def check_dates(starts_at: datetime, ends_at: datetime, errors: ErrorCollector) -> None:
    if starts_at.tzinfo is None:
        errors.add("starts_at", "must include a time zone")
    if ends_at.tzinfo is None:
        errors.add("ends_at", "must include a time zone")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        return
    if ends_at <= starts_at:
        errors.add("ends_at", "must be after starts_at")
    elif ends_at - starts_at > MAX_ORDER_LENGTH:
        errors.add("ends_at", "an order can run for at most five years")


def check_order(draft: OrderDraft, errors: ErrorCollector) -> list[dict[str, Any]]:
    """Validate an order's own fields and its conditions; return the conditions' stored form."""
    try:
        draft.pilot = Pilot(draft.pilot)
    except ValueError:
        errors.add("pilot", f"must be one of {', '.join(Pilot)}")
    check_dates(draft.starts_at, draft.ends_at, errors)
    return parse_conditions(draft.conditions, errors)


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
