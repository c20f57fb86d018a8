"""Curfew and zone timetables: rows of days + start + end in local time, an overnight row running
into the next day, and no two windows of one timetable overlapping on the weekly circle."""

from __future__ import annotations

from typing import Any

from vigil.errors import ErrorCollector
from vigil.orders.model import DAYS, TimetableEntry, parse_time


def _row(row: Any, where: str, errors: ErrorCollector) -> TimetableEntry | None:
    """One row of days + start + end, checked; None if it is not an object at all."""
    if not isinstance(row, dict):
        errors.add(where, "must be an object with days, start and end")
        return None
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
    # A missing time is already an error above; the row is not stored then.
    return TimetableEntry(
        days=[day for day in DAYS if day in cleaned],
        start=row.get("start", ""),
        end=row.get("end", ""),
    )


def parse_timetable(raw: Any, field_name: str, errors: ErrorCollector) -> list[TimetableEntry]:
    """Rows of days + start + end in local time. ``end`` before ``start`` runs overnight."""
    if not isinstance(raw, list) or not raw:
        errors.add(field_name, "needs at least one row of days, start and end")
        return []
    parsed = [_row(row, f"{field_name}[{index}]", errors) for index, row in enumerate(raw)]
    rows = [row for row in parsed if row is not None]
    _check_overlaps(rows, field_name, errors)
    return rows


def _windows(row: TimetableEntry) -> list[tuple[int, int]]:
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


def _check_overlaps(rows: list[TimetableEntry], field_name: str, errors: ErrorCollector) -> None:
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
