"""Timetables: rows of local wall-clock time per weekday, turned into UTC intervals.

Rows are local time (Europe/London by default), so "19:00-07:00" means 19:00 on the evening's
local clock whichever side of a DST change it falls; an ``end`` at or before ``start`` runs into
the next day (overnight). Times inside the spring-forward gap are read with the pre-change offset
(zoneinfo's ``fold=0``), i.e. they land an hour later on the new clock.
Authorised absences are one-off UTC intervals cut out of the enforced windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class TimetableRow:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time

    @property
    def overnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True, slots=True)
class Interval:
    start: float  # epoch seconds, UTC
    end: float


class Timetable:
    """When a condition is enforced: the union of its rows' windows minus authorised absences."""

    def __init__(
        self,
        rows: Sequence[TimetableRow],
        zone: ZoneInfo,
        absences: Sequence[Interval] = (),
    ) -> None:
        self.rows = tuple(rows)
        self.zone = zone
        self.absences = tuple(sorted(absences, key=lambda item: item.start))

    def _local(self, day: date, at: time) -> float:
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC).timestamp()

    def windows(self, begin: float, end: float) -> list[Interval]:
        """Enforced intervals overlapping [begin, end), merged, absences removed."""
        first = datetime.fromtimestamp(begin, UTC).astimezone(self.zone).date() - timedelta(days=1)
        last = datetime.fromtimestamp(end, UTC).astimezone(self.zone).date() + timedelta(days=1)
        raw: list[Interval] = []
        day = first
        while day <= last:
            for row in self.rows:
                if day.weekday() not in row.days:
                    continue
                start = self._local(day, row.start)
                finish_day = day + timedelta(days=1) if row.overnight else day
                finish = self._local(finish_day, row.end)
                if finish > begin and start < end:
                    raw.append(Interval(start, finish))
            day += timedelta(days=1)
        raw.sort(key=lambda item: item.start)
        merged: list[Interval] = []
        for item in raw:
            if merged and item.start <= merged[-1].end:
                if item.end > merged[-1].end:
                    merged[-1] = Interval(merged[-1].start, item.end)
            else:
                merged.append(item)
        return self._cut_absences(merged)

    def _cut_absences(self, windows: list[Interval]) -> list[Interval]:
        result: list[Interval] = []
        for window in windows:
            pieces = [window]
            for absence in self.absences:
                next_pieces: list[Interval] = []
                for piece in pieces:
                    if absence.end <= piece.start or absence.start >= piece.end:
                        next_pieces.append(piece)
                        continue
                    if absence.start > piece.start:
                        next_pieces.append(Interval(piece.start, absence.start))
                    if absence.end < piece.end:
                        next_pieces.append(Interval(absence.end, piece.end))
                pieces = next_pieces
            result.extend(pieces)
        return result

    def window_at(self, at: float) -> Interval | None:
        for window in self.windows(at - 1, at + 1):
            if window.start <= at < window.end:
                return window
        return None

    def next_window(self, after: float) -> Interval | None:
        """The first window starting at or after ``after`` (searching up to three weeks ahead)."""
        horizon = after
        for _ in range(3):
            for window in self.windows(horizon, horizon + 7 * 86_400):
                if window.start >= after:
                    return window
            horizon += 7 * 86_400
        return None


class AlwaysOn(Timetable):
    """A condition without a timetable is enforced at all times (minus authorised absences)."""

    def __init__(self, absences: Sequence[Interval] = ()) -> None:
        super().__init__((), ZoneInfo("UTC"), absences)

    def windows(self, begin: float, end: float) -> list[Interval]:
        return self._cut_absences([Interval(-1e18, 1e18)])
