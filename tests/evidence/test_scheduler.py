"""The Monday weekly-overview scheduler: local-time deadlines across DST, stored progress so a
restart neither skips nor repeats a week, and email to the responsible officer via the outbox.

SQLite only: every scheduled overview renders a PDF, and the storage paths it uses (the registry,
the trail store, the outbox) are covered on both backends by their own tests and by the API tests.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.evidence import registry
from vigil.alerts.tables import alert_deliveries
from vigil.bootstrap import Container, build_container
from vigil.clock import FrozenClock
from vigil.evidence import overviews, scheduler, weekly_calendar
from vigil.evidence.tables import weekly_overviews, weekly_schedule_runs
from vigil.people import service as people
from vigil.security.tables import audit_log

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "vigil.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Spring forward on Sunday 29 March 2026: Monday 07:00 BST is 06:00 UTC.
        (utc(2026, 3, 30, 5, 59), date(2026, 3, 16)),
        (utc(2026, 3, 30, 6, 0), date(2026, 3, 23)),
        # Fall back on Sunday 25 October 2026: Monday 07:00 GMT is 07:00 UTC.
        (utc(2026, 10, 26, 6, 30), date(2026, 10, 12)),
        (utc(2026, 10, 26, 7, 0), date(2026, 10, 19)),
        # A winter Tuesday: last week is due, whatever the hour.
        (utc(2026, 12, 1, 0, 5), date(2026, 11, 23)),
    ],
)
def test_the_week_due_follows_monday_seven_oclock_local_time_across_dst(
    now: datetime, expected: date
) -> None:
    assert weekly_calendar.latest_due_week(now, LONDON) == expected
    assert weekly_calendar.due_at(expected, LONDON) <= now


def deliveries(container: Container) -> list[tuple[str, str]]:
    with container.uow() as uow:
        rows = uow.connection.execute(
            select(alert_deliveries.c.recipient, alert_deliveries.c.idempotency_key).order_by(
                alert_deliveries.c.id
            )
        )
        return [(r.recipient, r.idempotency_key) for r in rows]


def scheduled(container: Container) -> list[tuple[str, str]]:
    with container.uow() as uow:
        rows = uow.connection.execute(
            select(weekly_overviews.c.person_id, weekly_overviews.c.week_start)
            .where(weekly_overviews.c.trigger == "scheduled")
            .order_by(weekly_overviews.c.id)
        )
        return [(r.person_id, r.week_start) for r in rows]


def test_monday_overviews_go_to_each_officer_once_across_restarts_and_downtime(
    container: Container, clock: FrozenClock, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set(utc(2026, 3, 20, 12, 0))
    team = registry.add_team(container)
    dana = registry.add_officer(container, team, "Dana Whitfield", "dana@probation.example")
    no_mail = registry.add_officer(container, team, "Imran Haq", None)
    first = registry.add_wearer(container, team, dana, starts_at=utc(2026, 3, 18))
    second = registry.add_wearer(
        container, team, dana, starts_at=utc(2026, 3, 18), last_name="Khan"
    )
    unmailable = registry.add_wearer(
        container, team, no_mail, starts_at=utc(2026, 3, 18), last_name="Price"
    )
    # First start ever, a Sunday: the week that ended a week ago is the one due.
    clock.set(utc(2026, 3, 29, 12, 0))
    # The second wearer's overview fails once, as if the server died half-way through the week.
    real_generate = overviews.generate_weekly
    failures = iter([True])

    def flaky(*args: object, **kwargs: object) -> overviews.WeeklyResult:
        if kwargs.get("person_id") == str(second) and next(failures, False):
            raise RuntimeError("simulated crash")
        return real_generate(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(overviews, "generate_weekly", flaky)
    [report] = scheduler.run_due(container)
    assert report.week_start == date(2026, 3, 16)
    assert not report.finished
    assert [d.outcome for d in report.deliveries] == ["sent", "failed", "skipped"]
    # Resuming finishes the week without a second overview or email for the first wearer.
    [report] = scheduler.run_due(container)
    assert report.finished
    assert [d.outcome for d in report.deliveries] == ["resent", "sent", "skipped"]
    assert scheduled(container) == [(str(first), "2026-03-16"), (str(second), "2026-03-16")]

    # Sunday night and early Monday (06:59 BST = 05:59 UTC): nothing more is due.
    clock.set(utc(2026, 3, 30, 5, 59))
    assert scheduler.run_due(container) == []
    clock.set(utc(2026, 3, 30, 6, 0))
    [report] = scheduler.run_due(container)
    assert (report.week_start, report.finished) == (date(2026, 3, 23), True)
    assert scheduler.run_due(container) == []

    # A restart (a new container on the same database) repeats nothing.
    restarted = build_container(container.settings, clock=FrozenClock(utc(2026, 3, 30, 9, 0)))
    assert scheduler.run_due(restarted) == []
    # Down over the next Monday morning: the week is caught up when it comes back.
    restarted.clock.set(utc(2026, 4, 7, 15, 0))  # type: ignore[attr-defined]
    [report] = scheduler.run_due(restarted)
    assert report.week_start == date(2026, 3, 30)
    restarted.engine.dispose()

    assert scheduled(container) == [
        (str(p), week)
        for week in ("2026-03-16", "2026-03-23", "2026-03-30")
        for p in (first, second)
    ]
    sent = deliveries(container)
    assert sent == [
        ("dana@probation.example", f"evidence:weekly:{p}:{week}")
        for week in ("2026-03-16", "2026-03-23", "2026-03-30")
        for p in (first, second)
    ]
    with container.uow() as uow:
        weeks = uow.connection.execute(select(weekly_schedule_runs)).all()
        skips = uow.connection.execute(
            select(audit_log.c.subject_id, audit_log.c.detail).where(
                audit_log.c.action == "weekly_overview.skipped"
            )
        ).all()
    assert sorted((w.week_start, w.reports) for w in weeks) == [
        ("2026-03-16", 2),
        ("2026-03-23", 2),
        ("2026-03-30", 2),
    ]
    # The wearer whose officer has no address is skipped every week, and the log says why.
    assert {s.subject_id for s in skips} == {str(unmailable)}
    details = [json.loads(s.detail) for s in skips]
    assert {d["week_start"] for d in details} == {"2026-03-16", "2026-03-23", "2026-03-30"}
    assert all("no email address" in d["why"] for d in details)
    # The email names the wearer (the subject by CRN alone), never by Vigil's internal id.
    with container.uow() as uow:
        mail = uow.connection.execute(
            select(alert_deliveries.c.subject, alert_deliveries.c.body).order_by(
                alert_deliveries.c.id
            )
        ).first()
        wearer = people.persons_by_ids(uow, [first])[first]
    assert mail is not None
    assert mail.subject == f"Weekly overview: CRN {wearer.crn}, week of 2026-03-16"
    assert f"for {wearer.full_name} (CRN {wearer.crn}), week beginning" in mail.body["text"]
    assert f"person {first}" not in mail.body["text"]


def test_the_background_service_does_a_round_at_start_and_stops_when_told(
    container: Container, clock: FrozenClock
) -> None:
    import asyncio

    clock.set(utc(2026, 3, 30, 8, 0))

    async def serve_briefly() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(scheduler.run(container, stop))
        for _ in range(200):
            await asyncio.sleep(0.01)
            with container.uow() as uow:
                if uow.connection.execute(select(weekly_schedule_runs)).first():
                    break
        stop.set()
        await asyncio.wait_for(task, timeout=5)

    asyncio.run(serve_briefly())
    with container.uow() as uow:
        [week] = uow.connection.execute(select(weekly_schedule_runs)).all()
    # No wearers yet: the week is still recorded as done, with no reports.
    assert (week.week_start, week.reports) == ("2026-03-23", 0)
