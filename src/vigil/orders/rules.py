"""The rules an order and its conditions must keep: each condition's fields by its kind,
curfew timetables (no overlapping windows, overnight rows run into the next day), an order's
dates. Every problem is reported at once, each naming its field."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from vigil.errors import ErrorCollector
from vigil.geo.zones import parse_buffer, parse_zone
from vigil.orders.model import (
    MAX_GRACE_S,
    MAX_LABEL,
    MAX_ORDER_LENGTH,
    MAX_PROXIMITY_M,
    MIN_PROXIMITY_M,
    AlcoholMode,
    ConditionType,
    OrderDraft,
    Pilot,
)
from vigil.orders.timetable_rules import parse_timetable

ZONE_KINDS = (ConditionType.CURFEW, ConditionType.EXCLUSION_ZONE, ConditionType.INCLUSION_ZONE)


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


def _label(raw: dict[str, Any], where: str, out: dict[str, Any], errors: ErrorCollector) -> None:
    label = raw.get("label")
    if label is None:
        return
    if not isinstance(label, str) or len(label) > MAX_LABEL:
        errors.add(f"{where}.label", f"must be text of at most {MAX_LABEL} characters")
    elif label.strip():
        out["label"] = label.strip()


def _zone(raw: dict[str, Any], where: str, out: dict[str, Any], errors: ErrorCollector) -> None:
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


def _curfew(raw: dict[str, Any], where: str, out: dict[str, Any], errors: ErrorCollector) -> None:
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


def _area(raw: dict[str, Any], where: str, out: dict[str, Any], errors: ErrorCollector) -> None:
    """An exclusion or inclusion zone's warning buffer and optional timetable."""
    buffer = parse_buffer(raw.get("buffer_m"), errors, field=f"{where}.buffer_m")
    if buffer is not None:
        out["buffer_m"] = buffer
    if raw.get("timetable") is not None:
        out["timetable"] = parse_timetable(raw["timetable"], f"{where}.timetable", errors)


def _protected_person(
    raw: dict[str, Any],
    kind: ConditionType,
    where: str,
    out: dict[str, Any],
    errors: ErrorCollector,
) -> None:
    protected = raw.get("protected_person_id")
    if protected is None and kind is not ConditionType.PROXIMITY:
        return
    if isinstance(protected, int) and not isinstance(protected, bool) and protected > 0:
        out["protected_person_id"] = protected
    else:
        errors.add(f"{where}.protected_person_id", "must name a protected person (an id)")


def _proximity(
    raw: dict[str, Any], where: str, out: dict[str, Any], errors: ErrorCollector
) -> None:
    distance = _number(
        raw.get("distance_m"), f"{where}.distance_m", errors,
        MIN_PROXIMITY_M, MAX_PROXIMITY_M, "metres",
    )  # fmt: skip
    if distance is not None:
        out["distance_m"] = distance
    if raw.get("exit_distance_m") is None:
        return
    exit_distance = _number(
        raw["exit_distance_m"], f"{where}.exit_distance_m", errors,
        MIN_PROXIMITY_M, MAX_PROXIMITY_M * 1.5, "metres",
    )  # fmt: skip
    if exit_distance is not None and distance is not None:
        if exit_distance < distance:
            errors.add(f"{where}.exit_distance_m", "must be at least distance_m")
        else:
            out["exit_distance_m"] = exit_distance


def _alcohol(raw: dict[str, Any], where: str, out: dict[str, Any], errors: ErrorCollector) -> None:
    try:
        mode: AlcoholMode | None = AlcoholMode(raw.get("mode", AlcoholMode.ABSTINENCE))
        out["mode"] = mode.value if mode else None
    except ValueError:
        errors.add(f"{where}.mode", f"must be one of {', '.join(AlcoholMode)}")
        mode = None
    threshold = raw.get("threshold_mg_per_100ml")
    if mode is AlcoholMode.LEVEL or threshold is not None:
        value = _number(threshold, f"{where}.threshold_mg_per_100ml", errors, 1, 400, "mg")
        if value is not None:
            out["threshold_mg_per_100ml"] = value


def _kind(raw: Any, where: str, errors: ErrorCollector) -> ConditionType | None:
    if not isinstance(raw, dict):
        errors.add(where, "must be an object with a type")
        return None
    try:
        return ConditionType(str(raw.get("type")))
    except ValueError:
        errors.add(f"{where}.type", f"must be one of {', '.join(ConditionType)}")
        return None


def condition_json(raw: Any, where: str, errors: ErrorCollector) -> dict[str, Any] | None:
    """Validate one condition; return its stored JSON (``type`` plus parameters, what
    ``Condition.params`` holds) or None."""
    kind = _kind(raw, where, errors)
    if kind is None:
        return None
    before = len(errors.errors)
    unknown = set(raw) - ALLOWED_KEYS[kind] - {"type", "id"}
    if unknown:
        errors.add(where, f"unknown field(s) for {kind}: {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {"type": kind.value}
    _label(raw, where, out, errors)
    if kind in ZONE_KINDS:
        _zone(raw, where, out, errors)
    if kind is ConditionType.CURFEW:
        _curfew(raw, where, out, errors)
    if kind in (ConditionType.EXCLUSION_ZONE, ConditionType.INCLUSION_ZONE):
        _area(raw, where, out, errors)
    if kind in (ConditionType.EXCLUSION_ZONE, ConditionType.PROXIMITY):
        _protected_person(raw, kind, where, out, errors)
    if kind is ConditionType.PROXIMITY:
        _proximity(raw, where, out, errors)
    if kind is ConditionType.ALCOHOL:
        _alcohol(raw, where, out, errors)
    return out if len(errors.errors) == before else None


def conditions_json(raw: Any, errors: ErrorCollector) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        errors.add("conditions", "an order needs at least one condition")
        return []
    parsed = [condition_json(item, f"conditions[{i}]", errors) for i, item in enumerate(raw)]
    return [item for item in parsed if item is not None]


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


def order_conditions_json(draft: OrderDraft, errors: ErrorCollector) -> list[dict[str, Any]]:
    """Validate an order's own fields and its conditions; return the conditions' stored JSON."""
    try:
        draft.pilot = Pilot(draft.pilot)
    except ValueError:
        errors.add("pilot", f"must be one of {', '.join(Pilot)}")
    check_dates(draft.starts_at, draft.ends_at, errors)
    return conditions_json(draft.conditions, errors)
