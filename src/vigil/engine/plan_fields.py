"""Reading the plain fields of a monitoring plan: instants, numbers, names, timetables and
authorised absences, each error named by its JSON path."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from vigil.engine.timetable import DAYS, Interval, Timetable, TimetableRow
from vigil.errors import ErrorCollector

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


def read_number(
    value: Any, field: str, errors: ErrorCollector, *, low: float, high: float
) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors.add(field, "must be a number")
        return None
    if not low <= float(value) <= high:
        errors.add(field, f"must be between {low:g} and {high:g}")
        return None
    return float(value)


def read_text(value: Any, field: str, errors: ErrorCollector) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        errors.add(field, "must be a non-empty string")
        return None
    return value.strip()


def _timetable_row(item: Any, where: str, errors: ErrorCollector) -> TimetableRow | None:
    if not isinstance(item, dict):
        errors.add(where, "must be an object with days, start and end")
        return None
    days = item.get("days")
    if not isinstance(days, list) or not days:
        errors.add(f"{where}.days", f"must be a non-empty list of {', '.join(DAYS)}")
        return None
    bad = [day for day in days if not isinstance(day, str) or day.lower()[:3] not in DAYS]
    if bad:
        errors.add(f"{where}.days", f"unknown day(s) {bad}; use {', '.join(DAYS)}")
        return None
    bounds = []
    for key in ("start", "end"):
        value = item.get(key)
        match = _HHMM.match(value) if isinstance(value, str) else None
        if match is None:
            errors.add(f"{where}.{key}", "must be local time HH:MM (00:00-23:59)")
            return None
        bounds.append(time(int(match.group(1)), int(match.group(2))))
    return TimetableRow(frozenset(DAYS.index(day.lower()[:3]) for day in days), *bounds)


def read_timetable(
    raw: Any, absences: list[Interval], zone: ZoneInfo, field: str, errors: ErrorCollector
) -> Timetable | None:
    if not isinstance(raw, list) or not raw:
        errors.add(field, "must be a non-empty list of {days, start, end} rows")
        return None
    rows = [_timetable_row(item, f"{field}[{index}]", errors) for index, item in enumerate(raw)]
    return Timetable([row for row in rows if row is not None], zone, absences)


def read_absences(raw: Any, field: str, errors: ErrorCollector) -> list[Interval]:
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
