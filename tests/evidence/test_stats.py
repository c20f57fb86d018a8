"""Programme statistics: the arithmetic on plain facts, then end to end over the real registry,
orders and alerts (SQLite and PostgreSQL), the CSV's formula neutralisation and the charts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.evidence import registry
from vigil.alerts import alert_reads, lifecycle, raising
from vigil.bootstrap import Container
from vigil.engine.events import EngineEvent, EventKind, EventPhase
from vigil.errors import ValidationError
from vigil.evidence import stats
from vigil.orders import service as orders
from vigil.orders.model import Pilot, VersionKind
from vigil.security.model import PermissionDenied, Principal, Role

LONDON = ZoneInfo("Europe/London")
ADMIN = Principal(id=1, name="lead", role=Role.ADMIN)
OPERATOR = Principal(id=2, name="operator", role=Role.MONITORING_OPERATOR)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_wearer_days_count_overlaps_once_and_local_days_follow_the_clocks() -> None:
    # October 2026 in London has 31 local days but 745 hours (the clocks go back on the 25th).
    spans = [
        stats.Span("1", "da_licence", "WM", utc(2026, 9, 1), utc(2027, 1, 1)),
        stats.Span("1", "dapo", "WM", utc(2026, 10, 10), utc(2026, 10, 20)),  # overlapping
        stats.Span("2", "dapo", "EM", utc(2026, 10, 31, 12), utc(2026, 12, 1)),
        stats.Span("3", "dapo", "EM", utc(2026, 11, 2), utc(2026, 12, 1)),  # after the period
    ]
    episodes = [
        stats.Episode("e1", "curfew", utc(2026, 10, 3)),
        stats.Episode("e1", "curfew", utc(2026, 10, 3)),  # the engine and the alert: one episode
        stats.Episode("e2", "battery_low", utc(2026, 10, 4)),  # device events are not violations
        stats.Episode("e3", "exclusion_zone", utc(2026, 10, 31, 23, 30)),  # 23:30 GMT: in October
    ]
    alerts = [
        stats.AlertFact("curfew", utc(2026, 10, 3), utc(2026, 10, 3, 0, m), o)
        for m, o in [(2, "false_alert"), (4, "genuine_violation"), (6, None), (30, "false_alert")]
    ]
    result = stats.compute(
        date(2026, 10, 1),
        date(2026, 11, 1),
        LONDON,
        spans,
        episodes,
        alerts,
        [stats.Recall("dapo", utc(2026, 10, 20)), stats.Recall("dapo", utc(2026, 11, 5))],
    )
    assert result.wearers == {("EM", "dapo"): 1, ("WM", "da_licence"): 1, ("WM", "dapo"): 1}
    assert result.wearers_total == 2
    # Person 1: the whole of local October (744 + 1 hours); person 2: 12:00 to midnight GMT.
    assert result.wearer_days == pytest.approx(745 / 24 + 0.5, abs=1e-3)
    assert result.wearer_days_by_pilot["dapo"] == pytest.approx(10 + 0.5)
    assert result.violations["curfew"] == 1
    assert result.violations["exclusion_zone"] == 1
    assert "battery_low" not in result.violations
    assert result.per_100_days(1) == pytest.approx(100 / (745 / 24 + 0.5), abs=0.01)
    assert result.resolved == 3
    assert result.false_alert_rate == pytest.approx(2 / 3, abs=1e-4)
    assert (result.ack_median_min, result.ack_p90_min) == (4.0, 30.0)
    assert result.recalls == {"dapo": 1}


def raise_alert(
    container: Container, person: int, kind: EventKind, at: datetime, episode: str
) -> int:
    container.clock.set(at)  # type: ignore[attr-defined]
    event = EngineEvent(
        episode_id=episode,
        person_id=str(person),
        condition_id=None,
        kind=kind,
        phase=EventPhase.STARTED,
        start=at,
        end=None,
        raised_at=at,
        device_id="353000000000011",
        lat=registry.VICTIM[0],
        lon=registry.VICTIM[1],
        fix_ids=(),
        detail={},
    )
    with container.uow() as uow:
        raising.handle_event(uow, event, container.alerts.context)
        uow.commit()
        [alert] = alert_reads.list_alerts(
            uow, OPERATOR, alert_reads.AlertFilter(person_id=str(person))
        )[:1]
    return int(alert["id"])


def test_programme_lead_sees_the_pilot_from_the_registry_orders_and_alerts(
    container: Container,
) -> None:
    container.clock.set(utc(2026, 10, 30, 9))  # type: ignore[attr-defined]
    west = registry.add_team(container, "Birmingham North", "WM")
    east = registry.add_team(container, "Nottingham City", "EM")
    officer = registry.add_officer(container, west, "Dana", "dana@example.org")
    first = registry.add_wearer(container, west, officer, starts_at=utc(2026, 11, 1))
    second = registry.add_wearer(
        container, east, None, starts_at=utc(2026, 11, 10), pilot=Pilot.DAPO, last_name="Khan"
    )
    zone = raise_alert(container, first, EventKind.EXCLUSION_ZONE, utc(2026, 11, 5, 22), "ep-a")
    curfew = raise_alert(container, second, EventKind.CURFEW, utc(2026, 11, 12, 20), "ep-b")
    raise_alert(container, second, EventKind.BATTERY_LOW, utc(2026, 11, 13, 3), "ep-c")
    for alert_id, raised, wait, outcome in (
        (zone, utc(2026, 11, 5, 22), 4, "genuine_violation"),
        (curfew, utc(2026, 11, 12, 20), 10, "false_alert"),
    ):
        container.clock.set(raised + timedelta(minutes=wait))  # type: ignore[attr-defined]
        with container.uow() as uow:
            lifecycle.acknowledge(uow, OPERATOR, alert_id, "On it")
            lifecycle.resolve(uow, OPERATOR, alert_id, outcome, "Checked the trail")
            uow.commit()
    container.clock.set(utc(2026, 11, 20, 9))  # type: ignore[attr-defined]
    with container.uow() as uow:
        [order] = orders.list_orders(uow, ADMIN, first)
        orders.close_order(
            uow,
            ADMIN,
            order.id,
            kind=VersionKind.REVOCATION,
            effective_at=utc(2026, 11, 20, 9),
            reason="Licence recall after the exclusion zone breach",
        )
        uow.commit()
    container.clock.set(utc(2026, 12, 2, 9))  # type: ignore[attr-defined]

    with container.uow() as uow:
        result = stats.programme_statistics(
            uow, ADMIN, date(2026, 11, 1), date(2026, 12, 1), "Pilot evaluation, November"
        )
        uow.commit()
    assert result.wearers == {("EM", "dapo"): 1, ("WM", "da_licence"): 1}
    assert result.region_names["WM"]
    assert result.wearer_days == pytest.approx((19 + 9 / 24) + 21, abs=1e-3)
    assert result.violations["exclusion_zone"] == 1
    assert result.violations["curfew"] == 1
    assert result.alerts_created == 3
    assert result.outcomes == {"false_alert": 1, "genuine_violation": 1}
    assert result.false_alert_rate == 0.5
    assert result.acknowledged == 2
    assert (result.ack_median_min, result.ack_p90_min) == (4.0, 10.0)
    assert result.recalls == {"da_licence": 1}

    table = list(csv.reader(io.StringIO(stats.statistics_csv(result))))
    assert table[0] == ["measure", "group", "subgroup", "value"]
    assert ["recalls", "pilot", "da_licence", "1"] in table
    assert ["alerts", "false_alert_rate", "", "0.5"] in table
    svg = stats.charts(result)["wearers_region"]
    assert svg.startswith("<svg")
    assert "<script" not in svg

    with container.uow() as uow:
        with pytest.raises(PermissionDenied):
            stats.programme_statistics(uow, OPERATOR, date(2026, 11, 1), date(2026, 12, 1), "Look")
        with pytest.raises(ValidationError) as invalid:
            stats.programme_statistics(uow, ADMIN, date(2026, 12, 1), date(2026, 11, 1), "")
    assert {e.field for e in invalid.value.errors} == {"reason", "end"}


def test_statistics_csv_cells_never_run_as_spreadsheet_formulas() -> None:
    result = stats.Statistics(
        date(2026, 1, 1),
        date(2026, 2, 1),
        wearers={("=HYPERLINK(1)", "+pilot"): 2, ("@SUM", "-1"): 1},
    )
    text = stats.statistics_csv(result)
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert "'=HYPERLINK(1)" in cells
    assert "'+pilot" in cells
    assert "'@SUM" in cells
    assert "'-1" in cells
    assert not [c for c in cells if c and c[0] in "=+-@"]
    assert "&lt;b&gt;" in stats.bar_chart("<b>", [("<i>", 1.0)])
