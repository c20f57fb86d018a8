"""When weekly overviews fall due: Monday 07:00 local time for the week that has just ended,
and which weeks a restarted service still owes (from the finished weeks it stored)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from vigil.db.uow import UnitOfWork
from vigil.evidence.tables import weekly_schedule_runs
from vigil.evidence.weekly import monday_of

DUE_TIME = time(7, 0)
CATCH_UP_WEEKS = 4


def due_at(week_start: date, tz: ZoneInfo) -> datetime:
    """When the overview of the week beginning ``week_start`` is due: the next Monday, 07:00
    local (wall-clock time, so the UTC instant moves with the clocks)."""
    return datetime.combine(week_start + timedelta(days=7), DUE_TIME, tz)


def latest_due_week(now: datetime, tz: ZoneInfo) -> date:
    """The most recent reported week (its Monday) whose deadline has passed at ``now``."""
    local = now.astimezone(tz)
    this_monday = monday_of(local.date())
    week = this_monday - timedelta(days=7)
    if now < due_at(week, tz):
        week -= timedelta(days=7)
    return week


def weeks_due(uow: UnitOfWork, now: datetime, tz: ZoneInfo) -> list[date]:
    """Weeks whose deadline has passed and that have no finished row, oldest first."""
    latest = latest_due_week(now, tz)
    done = set(uow.connection.execute(select(weekly_schedule_runs.c.week_start)).scalars())
    last = max((date.fromisoformat(w) for w in done), default=None)
    first = (
        latest
        if last is None
        else max(last + timedelta(days=7), latest - timedelta(weeks=CATCH_UP_WEEKS - 1))
    )
    weeks = []
    week = first
    while week <= latest:
        if week.isoformat() not in done:
            weeks.append(week)
        week += timedelta(days=7)
    return weeks
