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
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from vigil.bootstrap import Container
from vigil.db.uow import UnitOfWork
from vigil.evidence import overviews as service
from vigil.evidence.tables import weekly_overviews, weekly_schedule_runs
from vigil.evidence.weekly import monday_of, week_bounds
from vigil.logs import get_logger
from vigil.security import audit
from vigil.security.model import Principal, Role
from vigil.text import ascii_digits

DUE_TIME = time(7, 0)
CATCH_UP_WEEKS = 4
POLL_S = 300.0
TRIGGER = "scheduled"
SCHEDULER = Principal(id=0, name="weekly-scheduler", role=Role.ADMIN, is_machine=True)
REASON = "Scheduled Monday weekly overview for the responsible officer"

log = get_logger(__name__)


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
    for order_id, person_id, _conditions in orders.active_orders_at(uow, at):
        order = orders.get_order(uow, SCHEDULER, order_id)
        pid = str(person_id)
        if officer_of.get(pid) is None:
            officer_of[pid] = order.responsible_officer_id
    return sorted(officer_of.items(), key=lambda item: int(item[0]) if ascii_digits(item[0]) else 0)


def _recipient(uow: UnitOfWork, officer_id: int | None) -> tuple[str | None, str]:
    from vigil.people import service as people

    if officer_id is None:
        return None, "the order in force names no responsible officer"
    officer = people.get_officer(uow, officer_id)
    if officer is None:
        return None, f"responsible officer {officer_id} is not in the registry"
    if not (officer.email or "").strip():
        return None, f"responsible officer {officer_id} has no email address"
    return officer.email, officer.name


def _existing(uow: UnitOfWork, person_id: str, week: date) -> tuple[int, str] | None:
    row = uow.connection.execute(
        select(weekly_overviews.c.id, weekly_overviews.c.sha256).where(
            weekly_overviews.c.person_id == person_id,
            weekly_overviews.c.week_start == week.isoformat(),
            weekly_overviews.c.trigger == TRIGGER,
        )
    ).first()
    return None if row is None else (int(row.id), str(row.sha256))


def email_body(
    person_id: str, week: date, weekly_id: int, sha256: str, summary: str, officer: str
) -> dict[str, str]:
    """Plain text: a summary and where to read the overview. The overview itself stays inside
    Vigil (opening it is an audited read); the email carries no address or victim detail."""
    return {
        "text": (
            f"Dear {officer},\n\n"
            f"The weekly movement overview for person {person_id}, week beginning Monday "
            f"{week.strftime('%d %B %Y')}, is ready.\n\n{summary}\n\n"
            f"Read it (HTML or PDF) in Vigil: /evidence/weekly/{weekly_id}\n"
            f"PDF SHA-256: {sha256}\n"
        ),
        "weekly_id": str(weekly_id),
        "person_id": person_id,
        "week_start": week.isoformat(),
    }


def _summary(result: service.WeeklyResult) -> str:
    overview = result.overview
    if overview is None:
        return ""
    curfew = [d.curfew for d in overview.days if d.curfew]
    kept = sum(1 for c in curfew if c == "kept")
    broken = sum(1 for c in curfew if c == "broken")
    distance = sum(d.distance_m for d in overview.days) / 1000
    return (
        f"Fixes: {overview.fixes}. Curfews kept {kept}, broken {broken}, no data "
        f"{len(curfew) - kept - broken}. Distance travelled {distance:.1f} km. "
        f"Violations and alerts: {len(overview.alerts)}."
    )


def _idempotency_key(person_id: str, week: date) -> str:
    return f"evidence:weekly:{person_id}:{week.isoformat()}"


def _one_wearer(
    container: Container, week: date, person_id: str, officer_id: int | None
) -> Delivery:
    from vigil.alerts import outbox

    with container.uow() as uow:
        email, name_or_why = _recipient(uow, officer_id)
        existing = _existing(uow, person_id, week)
        if email is None:
            if existing is None:
                audit.record(
                    uow.connection,
                    at=uow.clock.now(),
                    actor=SCHEDULER.actor,
                    action="weekly_overview.skipped",
                    subject_type="person",
                    subject_id=person_id,
                    detail={"week_start": week.isoformat(), "why": name_or_why},
                )
                uow.commit()
            return Delivery(person_id, "skipped", name_or_why)
        if existing is not None:
            weekly_id, digest = existing
            summary = ""
            outcome = "resent"
        else:
            result = service.generate_weekly(
                uow,
                SCHEDULER,
                container.settings,
                person_id=person_id,
                week_start=week,
                reason=REASON,
                trigger=TRIGGER,
                commit=False,
            )
            weekly_id, digest, summary = result.id, result.sha256, _summary(result)
            outcome = "sent"
        outbox.enqueue(
            uow,
            channel="email",
            recipient=email,
            subject=f"Weekly overview: person {person_id}, week of {week.isoformat()}",
            body=email_body(person_id, week, weekly_id, digest, summary, name_or_why),
            idempotency_key=_idempotency_key(person_id, week),
        )
        uow.commit()
    return Delivery(person_id, outcome)


def run_week(container: Container, week: date) -> WeekReport:
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
        already = uow.connection.execute(
            select(func.count())
            .select_from(weekly_schedule_runs)
            .where(weekly_schedule_runs.c.week_start == week.isoformat())
        ).scalar_one()
        if not already:
            uow.connection.execute(
                insert(weekly_schedule_runs).values(
                    week_start=week.isoformat(),
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
                subject_id=week.isoformat(),
                detail={
                    "sent": report.count("sent"),
                    "resent": report.count("resent"),
                    "skipped": report.count("skipped"),
                },
            )
            uow.commit()
    report.finished = True
    return report


def run_due(container: Container) -> list[WeekReport]:
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


async def run(container: Container, stop: asyncio.Event) -> None:
    """Background service: check the stored deadlines every few minutes until stopped."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(run_due, container)
        except Exception:
            log.exception("weekly.round_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=POLL_S)
