"""`overviews.generate_weekly` on the real registry, orders, trail store and alerts (SQLite and
PostgreSQL): the conditions in force, the stored fixes and the week's alerts make the overview;
it is stored with its PDF's hash, audited, and limited to the officer's caseload."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.evidence import registry
from vigil.bootstrap import Container
from vigil.errors import NotFound, ValidationError
from vigil.evidence import overviews
from vigil.evidence.tables import weekly_overviews
from vigil.security.model import PermissionDenied, Principal, Role
from vigil.security.tables import audit_log
from vigil.tracking import store
from vigil.tracking.model import Fix

WEEK = date(2026, 11, 23)  # a Monday, GMT all week


def fix(at: datetime, where: tuple[float, float], battery: float = 80.0) -> Fix:
    return Fix(
        device_id="353000000000011",
        fix_time=at,
        receive_time=at + timedelta(seconds=2),
        lat=where[0],
        lon=where[1],
        protocol="teltonika",
        accuracy_m=8.0,
        battery_pct=battery,
        raw="00",
    )


def test_an_officer_gets_the_weekly_overview_of_their_own_wearer_from_stored_data(
    container: Container,
) -> None:
    team = registry.add_team(container)
    other_team = registry.add_team(container, "Coventry")
    officer_id = registry.add_officer(container, team, "Dana Whitfield", "dana@example.org")
    person = str(
        registry.add_wearer(
            container, team, officer_id, starts_at=datetime(2026, 11, 1, tzinfo=UTC)
        )
    )
    monday = datetime(2026, 11, 23, tzinfo=UTC)
    # Home every 10 minutes from Monday 18:00 to Tuesday 07:00 (Monday's curfew kept), then on
    # Tuesday at 21:00 (curfew time) inside the exclusion zone at the victim's home, battery low.
    home_run = [fix(monday + timedelta(hours=18, minutes=10 * k), registry.HOME) for k in range(79)]
    breach = [
        fix(monday + timedelta(days=1, hours=21, minutes=k), registry.VICTIM, battery=15.0)
        for k in range(0, 20, 5)
    ]
    with container.uow() as uow:
        store.append(uow, [*home_run, *breach], [person] * (len(home_run) + len(breach)))
        uow.commit()
    container.clock.set(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    officer = Principal(id=5, name="dana", role=Role.PROBATION_OFFICER, team_id=team)

    with container.uow() as uow:
        result = overviews.generate_weekly(
            uow,
            officer,
            container.settings,
            person_id=person,
            week_start=WEEK,
            reason="Weekly supervision meeting",
        )
        uow.commit()
    overview = result.overview
    assert overview is not None
    assert overview.fixes == len(home_run) + len(breach)
    curfew = [d.curfew for d in overview.days]
    assert curfew[:2] == ["kept", "broken"]
    assert set(curfew[2:]) == {"no data"}
    assert overview.days[0].home_s == pytest.approx(6 * 3600, abs=600)
    [zone] = overview.zones
    assert zone["closest_m"] < 0, "the wearer was inside the exclusion zone"
    assert zone["closest_time"].date() == date(2026, 11, 24)
    assert overview.device["battery_min_pct"] == pytest.approx(15.0)
    assert "Weekly movement overview" in result.html
    assert result.pdf.startswith(b"%PDF")
    assert result.sha256 == hashlib.sha256(result.pdf).hexdigest()

    with container.uow() as uow:
        stored = uow.connection.execute(select(weekly_overviews)).one()
        entry = uow.connection.execute(
            select(audit_log).where(audit_log.c.action == "weekly_overview.generate")
        ).one()
        summary, again = overviews.get_weekly(uow, officer, result.id, "Re-reading for the meeting")
        listed = overviews.list_weekly(uow, officer, person)
        uow.commit()
    assert (stored.person_id, stored.week_start, stored.trigger) == (
        person,
        "2026-11-23",
        "on_demand",
    )
    assert bytes(stored.pdf) == result.pdf
    assert stored.sha256 == result.sha256
    assert entry.actor == officer.actor
    assert "Weekly supervision meeting" in entry.detail
    assert again.pdf == result.pdf
    assert summary["sha256"] == result.sha256
    assert [item["id"] for item in listed] == [result.id]

    # Another team's officer, a wrong role, a missing reason and a non-Monday are all refused.
    stranger = Principal(id=6, name="imran", role=Role.PROBATION_OFFICER, team_id=other_team)
    analyst = Principal(id=7, name="priya", role=Role.ANALYST)
    with container.uow() as uow:
        with pytest.raises(NotFound):
            overviews.generate_weekly(
                uow,
                stranger,
                container.settings,
                person_id=person,
                week_start=WEEK,
                reason="Curious look",
            )
        with pytest.raises(NotFound):
            overviews.get_weekly(uow, stranger, result.id, "Curious look")
        with pytest.raises(PermissionDenied):
            overviews.generate_weekly(
                uow,
                analyst,
                container.settings,
                person_id=person,
                week_start=WEEK,
                reason="Analysis",
            )
        with pytest.raises(ValidationError) as invalid:
            overviews.generate_weekly(
                uow,
                officer,
                container.settings,
                person_id=person,
                week_start=WEEK + timedelta(days=1),
                reason="",
            )
    assert {e.field for e in invalid.value.errors} == {"reason", "week_start"}
    with container.uow() as uow:
        count = len(uow.connection.execute(select(weekly_overviews.c.id)).all())
    assert count == 1, "refused requests store nothing"


def test_an_overview_made_mid_week_shows_the_days_to_come_as_such_and_names_the_wearer(
    container: Container,
) -> None:
    import re

    from vigil.people import service as people

    team = registry.add_team(container)
    officer_id = registry.add_officer(container, team, "Dana Whitfield", "dana@example.org")
    person = str(
        registry.add_wearer(
            container, team, officer_id, starts_at=datetime(2026, 11, 1, tzinfo=UTC)
        )
    )
    monday = datetime(2026, 11, 23, tzinfo=UTC)
    # At home every 10 minutes from Monday 00:00 to Wednesday 11:00; the overview is made at
    # Wednesday noon, before the week is over.
    at_home = [fix(monday + timedelta(minutes=10 * k), registry.HOME) for k in range(6 * 59 + 1)]
    with container.uow() as uow:
        store.append(uow, at_home, [person] * len(at_home))
        uow.commit()
    now = monday + timedelta(days=2, hours=12)
    container.clock.set(now)  # type: ignore[attr-defined]
    officer = Principal(id=5, name="dana", role=Role.PROBATION_OFFICER, team_id=team)
    with container.uow() as uow:
        result = overviews.generate_weekly(
            uow,
            officer,
            container.settings,
            person_id=person,
            week_start=WEEK,
            reason="Mid-week supervision",
        )
        uow.commit()
        wearer = people.persons_by_ids(uow, [int(person)])[int(person)]
    overview = result.overview
    assert overview is not None
    assert [d.to_come for d in overview.days] == [False, False, False, True, True, True, True]
    # Monday's and Tuesday's curfews were kept; Wednesday's starts after noon.
    assert [d.curfew for d in overview.days] == ["kept", "kept"] + ["to come"] * 5
    gaps = overview.device["no_signal"]
    assert gaps, "the hour since the last fix is a stretch without signal"
    assert max(g["to"] for g in gaps) <= now
    assert max(g["seconds"] for g in gaps) <= 3600

    text = " ".join(re.sub(r"<[^>]+>", " ", result.html).split())
    assert f"{wearer.full_name} (CRN {wearer.crn})" in text
    assert f"person {person}" not in text.lower()
    assert "no data" not in text
    assert text.count("still to come when this overview was made") == 4
    assert "covers the week up to Wed 25 Nov 2026 12:00 GMT" in text
