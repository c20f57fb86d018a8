"""The curfew timetable as the order editor shows it: one row per day, copy one day to all, and
back to the order's timetable rows (days with equal times grouped)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vigil.orders.model import TimetableEntry

DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}


def rows_from_days(days: dict[str, tuple[str, str] | None]) -> list[TimetableEntry]:
    """Per-day (start, end) to the order's timetable rows, days with equal times grouped."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for day in DAY_NAMES:
        window = days.get(day)
        if window is not None:
            grouped.setdefault(window, []).append(day)
    return [
        TimetableEntry(days=group, start=start, end=end) for (start, end), group in grouped.items()
    ]


def days_from_rows(rows: Iterable[dict[str, Any]]) -> dict[str, tuple[str, str] | None]:
    out: dict[str, tuple[str, str] | None] = dict.fromkeys(DAY_NAMES)
    for row in rows:
        for day in row.get("days", []):
            if day in out:
                out[day] = (str(row["start"]), str(row["end"]))
    return out


def copy_day_to_all(
    days: dict[str, tuple[str, str] | None], source: str
) -> dict[str, tuple[str, str] | None]:
    if source not in DAY_NAMES:
        raise ValueError(f"copy_from: {source!r} is not a day")
    return dict.fromkeys(DAY_NAMES, days.get(source))
