"""Reading a monitoring plan (the SCENARIO.json shape) into the engine's model, checking fields.

The same shape comes from ``vigil replay``'s SCENARIO.json and, live, from the registry's
monitoring plan. Errors name the field by its JSON path, e.g. ``persons[0].conditions[2].radius_m``.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vigil.engine.model import (
    AlcoholCondition,
    EngineSettings,
    PersonPlan,
    Plan,
    ProximityCondition,
    ZoneCondition,
    ZoneKind,
)
from vigil.engine.timetable import DAYS, Interval, Timetable, TimetableRow
from vigil.errors import ErrorCollector
from vigil.geo.kernels import ZoneShape
from vigil.geo.zones import parse_buffer, parse_zone

ZONE_TYPES = {
    "exclusion_zone": ZoneKind.EXCLUSION,
    "inclusion_zone": ZoneKind.INCLUSION,
    "curfew": ZoneKind.INCLUSION,
}
OTHER_TYPES = ("proximity", "alcohol", "trail")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_instant(value: Any, field: str, errors: ErrorCollector) -> datetime | None:
    """An ISO-8601 instant with ``Z`` or an offset, as timezone-aware UTC."""
    if not isinstance(value, str):
        errors.add(field, "must be an ISO-8601 time with Z or an offset")
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        errors.add(field, f"{value!r} is not an ISO-8601 time")
        return None
    if parsed.tzinfo is None:
        errors.add(field, f"{value!r} has no Z or offset; times must say which zone they are in")
        return None
    return parsed.astimezone(UTC)


def _number(
    value: Any, field: str, errors: ErrorCollector, *, low: float, high: float
) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors.add(field, "must be a number")
        return None
    if not low <= float(value) <= high:
        errors.add(field, f"must be between {low:g} and {high:g}")
        return None
    return float(value)


def _text(value: Any, field: str, errors: ErrorCollector) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        errors.add(field, "must be a non-empty string")
        return None
    return value.strip()


def _timetable(
    raw: Any, absences: list[Interval], zone: ZoneInfo, field: str, errors: ErrorCollector
) -> Timetable | None:
    if not isinstance(raw, list) or not raw:
        errors.add(field, "must be a non-empty list of {days, start, end} rows")
        return None
    rows = []
    for index, item in enumerate(raw):
        where = f"{field}[{index}]"
        if not isinstance(item, dict):
            errors.add(where, "must be an object with days, start and end")
            continue
        days = item.get("days")
        if not isinstance(days, list) or not days:
            errors.add(f"{where}.days", f"must be a non-empty list of {', '.join(DAYS)}")
            continue
        bad = [day for day in days if not isinstance(day, str) or day.lower()[:3] not in DAYS]
        if bad:
            errors.add(f"{where}.days", f"unknown day(s) {bad}; use {', '.join(DAYS)}")
            continue
        bounds = []
        for key in ("start", "end"):
            value = item.get(key)
            match = _HHMM.match(value) if isinstance(value, str) else None
            if match is None:
                errors.add(f"{where}.{key}", "must be local time HH:MM (00:00-23:59)")
                break
            bounds.append(time(int(match.group(1)), int(match.group(2))))
        if len(bounds) != 2:
            continue
        rows.append(TimetableRow(frozenset(DAYS.index(day.lower()[:3]) for day in days), *bounds))
    return Timetable(rows, zone, absences)


def _absences(raw: Any, field: str, errors: ErrorCollector) -> list[Interval]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.add(field, "must be a list of {start, end}")
        return []
    result = []
    for index, item in enumerate(raw):
        where = f"{field}[{index}]"
        if not isinstance(item, dict):
            errors.add(where, "must be an object with start and end")
            continue
        start = parse_instant(item.get("start"), f"{where}.start", errors)
        end = parse_instant(item.get("end"), f"{where}.end", errors)
        if start and end:
            if end <= start:
                errors.add(f"{where}.end", "must be after start")
            else:
                result.append(Interval(start.timestamp(), end.timestamp()))
    return result


def _condition(
    raw: Any,
    person: str,
    field: str,
    zone: ZoneInfo,
    settings: EngineSettings,
    errors: ErrorCollector,
) -> ZoneCondition | ProximityCondition | AlcoholCondition | None:
    if not isinstance(raw, dict):
        errors.add(field, "must be an object")
        return None
    ident = _text(raw.get("id"), f"{field}.id", errors)
    kind = raw.get("type")
    if kind not in ZONE_TYPES and kind not in OTHER_TYPES:
        allowed = ", ".join([*ZONE_TYPES, *OTHER_TYPES])
        errors.add(f"{field}.type", f"must be one of {allowed}, not {kind!r}")
        return None
    before = len(errors.errors)
    if kind in ZONE_TYPES:
        parsed = parse_zone(
            raw.get("geometry"),
            raw.get("radius_m"),
            errors,
            field=f"{field}.geometry",
            radius_field=f"{field}.radius_m",
        )
        buffer = parse_buffer(raw.get("buffer_m"), errors, field=f"{field}.buffer_m")
        absences = _absences(raw.get("authorised_absences"), f"{field}.authorised_absences", errors)
        timetable: Timetable | None = None
        if raw.get("timetable") is not None:
            timetable = _timetable(raw["timetable"], absences, zone, f"{field}.timetable", errors)
        elif kind == "curfew":
            errors.add(f"{field}.timetable", "a curfew needs a timetable")
        elif absences:
            from vigil.engine.timetable import AlwaysOn

            timetable = AlwaysOn(absences)
        grace = 0.0
        if raw.get("grace_s") is not None:
            grace = _number(raw["grace_s"], f"{field}.grace_s", errors, low=0, high=86_400) or 0.0
        if parsed is None or ident is None or len(errors.errors) > before:
            return None
        return ZoneCondition(
            id=ident,
            person=person,
            kind=ZONE_TYPES[kind],
            event_kind=kind,
            shape=ZoneShape(parsed.geometry, parsed.radius_m),
            buffer_m=buffer or 0.0,
            timetable=timetable,
            grace_s=grace,
        )
    if kind == "proximity":
        device = _text(raw.get("device"), f"{field}.device", errors)
        enter = _number(raw.get("distance_m"), f"{field}.distance_m", errors, low=10, high=50_000)
        exit_m = enter * settings.proximity_exit_ratio if enter else None
        if raw.get("exit_distance_m") is not None:
            exit_m = _number(
                raw["exit_distance_m"], f"{field}.exit_distance_m", errors, low=10, high=60_000
            )
            if exit_m is not None and enter is not None and exit_m < enter:
                errors.add(f"{field}.exit_distance_m", "must be at least distance_m")
        max_age = settings.proximity_max_age_s
        if raw.get("max_age_s") is not None:
            max_age = (
                _number(raw["max_age_s"], f"{field}.max_age_s", errors, low=1, high=86_400) or 0
            )
        if None in (ident, device, enter, exit_m) or len(errors.errors) > before:
            return None
        assert ident
        assert device
        assert enter
        assert exit_m
        return ProximityCondition(ident, person, device, enter, exit_m, max_age)
    if kind == "alcohol":
        threshold = _number(raw.get("threshold"), f"{field}.threshold", errors, low=0, high=1e6)
        sustained = _number(
            raw.get("sustained_s", 0), f"{field}.sustained_s", errors, low=0, high=86_400
        )
        if ident is None or threshold is None or sustained is None:
            return None
        return AlcoholCondition(ident, person, threshold, sustained)
    return None  # trail: recorded only, nothing to evaluate


def parse_plan(raw: Any) -> Plan:
    """Check and read a scenario; raises ValidationError listing every problem by field."""
    errors = ErrorCollector()
    if not isinstance(raw, dict):
        errors.add("scenario", "must be a JSON object with persons")
        errors.raise_if_any()
    zone_name = raw.get("timezone", "Europe/London")
    try:
        zone = ZoneInfo(str(zone_name))
    except (ZoneInfoNotFoundError, ValueError):
        errors.add("timezone", f"unknown time zone {zone_name!r}")
        zone = ZoneInfo("Europe/London")
    settings = EngineSettings()
    custom = raw.get("settings") or {}
    if not isinstance(custom, dict):
        errors.add("settings", "must be an object")
        custom = {}
    overrides: dict[str, float | int] = {}
    for key, value in custom.items():
        if key not in EngineSettings.names():
            errors.add(f"settings.{key}", "is not a setting of the engine")
            continue
        number = _number(value, f"settings.{key}", errors, low=0, high=1e9)
        if number is not None:
            default = getattr(settings, key)
            overrides[key] = int(number) if isinstance(default, int) else number
    if overrides:
        settings = EngineSettings(**{**settings.__dict__, **overrides})
    persons_raw = raw.get("persons")
    if not isinstance(persons_raw, list):
        errors.add("persons", "must be a list")
        errors.raise_if_any()
    persons: list[PersonPlan] = []
    seen_persons: set[str] = set()
    device_owner: dict[str, str] = {}
    for p_index, p_raw in enumerate(persons_raw):
        where = f"persons[{p_index}]"
        if not isinstance(p_raw, dict):
            errors.add(where, "must be an object with id, devices and conditions")
            continue
        pid = _text(p_raw.get("id"), f"{where}.id", errors)
        if pid is not None:
            if pid in seen_persons:
                errors.add(f"{where}.id", f"person {pid!r} appears twice")
            seen_persons.add(pid)
        devices_raw = p_raw.get("devices", [])
        devices: list[str] = []
        if not isinstance(devices_raw, list):
            errors.add(f"{where}.devices", "must be a list of device ids")
            devices_raw = []
        for d_index, d_raw in enumerate(devices_raw):
            device = _text(d_raw, f"{where}.devices[{d_index}]", errors)
            if device is None:
                continue
            if device in device_owner and device_owner[device] != pid:
                errors.add(
                    f"{where}.devices[{d_index}]", f"device {device!r} is already another person's"
                )
            device_owner[device] = pid or ""
            devices.append(device)
        conditions_raw = p_raw.get("conditions", [])
        if not isinstance(conditions_raw, list):
            errors.add(f"{where}.conditions", "must be a list")
            conditions_raw = []
        zones: list[ZoneCondition] = []
        proximity: list[ProximityCondition] = []
        alcohol: list[AlcoholCondition] = []
        seen_conditions: set[str] = set()
        for c_index, c_raw in enumerate(conditions_raw):
            c_where = f"{where}.conditions[{c_index}]"
            condition = _condition(c_raw, pid or "", c_where, zone, settings, errors)
            if condition is None:
                continue
            if condition.id in seen_conditions:
                errors.add(f"{c_where}.id", f"condition {condition.id!r} appears twice")
            seen_conditions.add(condition.id)
            if isinstance(condition, ZoneCondition):
                zones.append(condition)
            elif isinstance(condition, ProximityCondition):
                proximity.append(condition)
            else:
                alcohol.append(condition)
        if pid is not None:
            persons.append(
                PersonPlan(pid, tuple(devices), tuple(zones), tuple(proximity), tuple(alcohol))
            )
    for person in persons:
        for condition in person.proximity:
            if device_owner.get(condition.device) == person.id:
                errors.add(
                    f"persons[{person.id}].conditions[{condition.id}].device",
                    "is the wearer's own device; proximity needs the protected person's device",
                )
    errors.raise_if_any()
    return Plan(tuple(persons), str(zone_name), settings)
