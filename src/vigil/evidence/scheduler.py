"""Weekly overviews every Monday morning, emailed to each wearer's responsible officer.

A background service of ``vigil serve``. The deadline is Monday 07:00 local time (the service's
time zone, Europe/London by default, so 06:00 UTC in summer and 07:00 UTC in winter); the week
reported is the one that has just ended (Monday 00:00 to Monday 00:00 local).

Restarts neither skip nor repeat a week:

* A week is finished only when its row is in ``weekly_schedule_runs``; the service looks at the
  stored rows, not at when it last ran, so a server that was down over Monday morning catches up
  when it starts (up to ``CATCH_UP_WEEKS`` missed weeks, oldest first).
* Each wearer's overview and the officer's email are written in one transaction; a wearer who
  already has a scheduled overview for the week is not generated again, and the email is
  re-enqueued with the same idempotency key (a no-op when it was already queued). A crash in the
  middle of a week therefore resumes where it stopped.

Who is emailed: the responsible officer of the wearer's order in force at the end of the week, at
the address the registry holds for that officer. A wearer with no responsible officer, or whose
officer has no email address, is skipped, and why is written to the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from vigil.db.uow import UnitOfWork
from vigil.evidence import overviews, weekly_email
from vigil.evidence.tables import weekly_overviews, weekly_schedule_runs
from vigil.evidence.wearer import wearer_of
from vigil.evidence.weekly import week_bounds
from vigil.evidence.weekly_calendar import weeks_due
from vigil.host import Host
from vigil.logs import get_logger
from vigil.orders import plan_for_engine
from vigil.security import audit
from vigil.security.model import Principal, Role
from vigil.text import ascii_digits

POLL_S = 300.0
TRIGGER = "scheduled"
SCHEDULER = Principal(id=0, name="weekly-scheduler", role=Role.ADMIN, is_machine=True)
REASON = "Scheduled Monday weekly overview for the responsible officer"

log = get_logger(__name__)


@dataclass(frozen=True)
class Delivery:
    person_id: str
    outcome: str  # "sent", "resent" (already generated, email re-enqueued), "skipped", "failed"
    detail: str = ""


@dataclass
class WeekReport:
    week_start: date
    deliveries: list[Delivery] = field(default_factory=list)
    finished: bool = False

    def count(self, outcome: str) -> int:
        return sum(1 for d in self.deliveries if d.outcome == outcome)


def _wearers(uow: UnitOfWork, at: datetime) -> list[tuple[str, int | None]]:
    """(person id, responsible officer id) of everyone with an order in force at ``at``."""
    from vigil.orders import service as orders

    officer_of: dict[str, int | None] = {}
    for order_id, person_id, _conditions in plan_for_engine.active_orders_at(uow, at):
        order = orders.get_order(uow, SCHEDULER, order_id)
        pid = str(person_id)
        if officer_of.get(pid) is None:
            officer_of[pid] = order.responsible_officer_id
    return sorted(officer_of.items(), key=lambda item: int(item[0]) if ascii_digits(item[0]) else 0)


def _existing(uow: UnitOfWork, person_id: str, week: date) -> tuple[int, str] | None:
    row = uow.connection.execute(
        select(weekly_overviews.c.id, weekly_overviews.c.sha256).where(
            weekly_overviews.c.person_id == person_id,
            weekly_overviews.c.week_start == week.isoformat(),
            weekly_overviews.c.trigger == TRIGGER,
        )
    ).first()
    return None if row is None else (int(row.id), str(row.sha256))


def _idempotency_key(person_id: str, week: date) -> str:
    return f"evidence:weekly:{person_id}:{week.isoformat()}"


def _one_wearer(container: Host, week: date, person_id: str, officer_id: int | None) -> Delivery:
    from vigil.alerts import outbox

    with container.uow() as uow:
        email, name_or_why = weekly_email.recipient(uow, officer_id)
        existing = _existing(uow, person_id, week)
        if email is None:
            if existing is None:
                _record_skipped(uow, person_id, week, name_or_why)
                uow.commit()
            return Delivery(person_id, "skipped", name_or_why)
        if existing is not None:
            (weekly_id, digest), summary, outcome = existing, "", "resent"
        else:
            weekly_id, digest, summary = _generate(uow, container, person_id, week)
            outcome = "sent"
        wearer = wearer_of(uow, person_id)
        outbox.enqueue(
            uow,
            channel="email",
            recipient=email,
            subject=weekly_email.subject(wearer, week),
            body=weekly_email.email_body(wearer, week, weekly_id, digest, summary, name_or_why),
            idempotency_key=_idempotency_key(person_id, week),
        )
        uow.commit()
    return Delivery(person_id, outcome)


def _record_skipped(uow: UnitOfWork, person_id: str, week: date, why: str) -> None:
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=SCHEDULER.actor,
        action="weekly_overview.skipped",
        subject_type="person",
        subject_id=person_id,
        detail={"week_start": week.isoformat(), "why": why},
    )


def _generate(uow: UnitOfWork, container: Host, person_id: str, week: date) -> tuple[int, str, str]:
    """The week's overview, stored; its id, digest and the email's summary of it."""
    result = overviews.generate_weekly(
        uow,
        SCHEDULER,
        container.settings,
        person_id=person_id,
        week_start=week,
        reason=REASON,
        trigger=TRIGGER,
    )
    return result.id, result.sha256, weekly_email.summary(result)


def run_week(container: Host, week: date) -> WeekReport:
    """Generate and email every active wearer's overview of one week, then mark it finished.
    A wearer that fails is logged and the week stays unfinished, so the next tick retries it."""
    tz = ZoneInfo(container.settings.timezone)
    report = WeekReport(week)
    week_end = week_bounds(week, tz)[1] - timedelta(microseconds=1)
    with container.uow() as uow:
        wearers = _wearers(uow, week_end)
    for person_id, officer_id in wearers:
        try:
            report.deliveries.append(_one_wearer(container, week, person_id, officer_id))
        except Exception as exc:  # one wearer's failure must not stop everyone else's report
            log.exception("weekly.wearer_failed", person_id=person_id, week=week.isoformat())
            report.deliveries.append(Delivery(person_id, "failed", type(exc).__name__))
    if report.count("failed"):
        return report
    with container.uow() as uow:
        _mark_finished(uow, report)
        uow.commit()
    report.finished = True
    return report


def _mark_finished(uow: UnitOfWork, report: WeekReport) -> None:
    """Store the week as done (once), so no restart repeats it."""
    week = report.week_start.isoformat()
    already = uow.connection.execute(
        select(func.count())
        .select_from(weekly_schedule_runs)
        .where(weekly_schedule_runs.c.week_start == week)
    ).scalar_one()
    if already:
        return
    uow.connection.execute(
        insert(weekly_schedule_runs).values(
            week_start=week,
            started_at=uow.clock.now(),
            reports=report.count("sent") + report.count("resent"),
        )
    )
    audit.record(
        uow.connection,
        at=uow.clock.now(),
        actor=SCHEDULER.actor,
        action="weekly_overview.schedule_finished",
        subject_type="week",
        subject_id=week,
        detail={
            "sent": report.count("sent"),
            "resent": report.count("resent"),
            "skipped": report.count("skipped"),
        },
    )


def run_due(container: Host) -> list[WeekReport]:
    """Do every week that is due and not finished; returns what was done."""
    tz = ZoneInfo(container.settings.timezone)
    with container.uow() as uow:
        weeks = weeks_due(uow, container.clock.now(), tz)
    reports = []
    for week in weeks:
        report = run_week(container, week)
        log.info(
            "weekly.scheduled",
            week=week.isoformat(),
            sent=report.count("sent"),
            skipped=report.count("skipped"),
            failed=report.count("failed"),
        )
        reports.append(report)
        if not report.finished:
            break  # keep weeks in order: retry this one before moving on
    return reports


async def run(container: Host, stop: asyncio.Event) -> None:
    """Background service: check the stored deadlines every few minutes until stopped."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(run_due, container)
        except Exception:
            log.exception("weekly.round_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=POLL_S)
