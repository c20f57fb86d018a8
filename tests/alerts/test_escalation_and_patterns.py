"""Escalation with a moving frozen clock, pattern alerts from repeated approach warnings, and the
protected person's opt-in and rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.alerts.conftest import OFFICER_EMAIL, Registry, event, handle
from vigil.alerts import alert_reads, escalation, lifecycle, service
from vigil.alerts.model import APPROACH_PATTERN_KIND, AlertSource, HistoryAction, Severity
from vigil.alerts.tables import alert_deliveries, alert_history, alerts
from vigil.bootstrap import Container
from vigil.clock import FrozenClock
from vigil.engine.events import EventKind
from vigil.errors import ValidationError


def keys(container: Container, alert_id: int) -> list[str]:
    with container.engine.connect() as conn:
        return list(
            conn.execute(
                select(alert_deliveries.c.idempotency_key)
                .where(alert_deliveries.c.alert_id == alert_id)
                .order_by(alert_deliveries.c.id)
            ).scalars()
        )


def test_unacknowledged_critical_alert_escalates_through_the_tiers_then_holds_overdue(
    container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    clock = weekday_morning
    [raised] = handle(container, event(registry.high_risk_person, at=clock.now()))
    clock.advance(timedelta(minutes=1, seconds=59))
    assert escalation.tick(container.alerts) == []

    clock.advance(timedelta(seconds=1))  # the two-minute deadline
    [first] = escalation.tick(container.alerts)
    assert (first.alert_id, first.escalation_level, first.escalated) == (raised.alert_id, 1, True)
    assert any(
        k.startswith(f"alert:{raised.alert_id}:escalation:1:duty_officer")
        for k in keys(container, raised.alert_id)
    )
    assert escalation.tick(container.alerts) == []  # the deadline moved on by two minutes

    clock.advance(timedelta(minutes=2))
    [second] = escalation.tick(container.alerts)
    assert second.escalation_level == 2
    assert any(
        k.startswith(f"alert:{raised.alert_id}:escalation:2:police_control_room")
        for k in keys(container, raised.alert_id)
    )
    # Every tier has been told: the alert holds at the top, overdue, and is not escalated again.
    for _ in range(5):
        clock.advance(timedelta(minutes=2))
        assert escalation.tick(container.alerts) == []
    with container.uow() as uow:
        row = alert_reads.get_alert(uow, registry.operator, raised.alert_id)
    assert (row["escalation_level"], row["overdue"]) == (2, True)

    with container.uow() as uow:
        lifecycle.acknowledge(uow, registry.operator, raised.alert_id, "on it")
        uow.commit()
    clock.advance(timedelta(hours=1))
    assert escalation.tick(container.alerts) == []
    with container.engine.connect() as conn:
        actions = list(
            conn.execute(
                select(alert_history.c.action).where(alert_history.c.alert_id == raised.alert_id)
            ).scalars()
        )
    assert actions == ["raised", "escalated", "escalated", "acknowledged"]


def test_deadlines_survive_a_restart_and_escalate_once_not_once_per_missed_interval(
    container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    [raised] = handle(
        container, event(registry.low_risk_person, EventKind.CURFEW, at=weekday_morning.now())
    )
    assert raised.severity is Severity.HIGH
    # Nothing ran for an hour (six ten-minute deadlines); a fresh context reads the stored one.
    weekday_morning.advance(timedelta(hours=1))
    container.alerts.configure(container.alerts.settings)
    [change] = escalation.tick(container.alerts)
    assert change.escalation_level == 1
    assert escalation.tick(container.alerts) == []
    with container.engine.connect() as conn:
        due = conn.execute(
            select(alerts.c.next_escalation_at).where(alerts.c.id == raised.alert_id)
        ).scalar_one()
    assert due == weekday_morning.now() + timedelta(minutes=10)


def test_manual_escalation_needs_a_note_and_tells_the_next_tier_now(
    container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    [raised] = handle(
        container, event(registry.low_risk_person, EventKind.NO_GPS, at=weekday_morning.now())
    )
    ctx = container.alerts.context
    with container.uow() as uow:
        with pytest.raises(ValidationError) as no_note:
            lifecycle.escalate(uow, registry.officer, raised.alert_id, "", ctx)
        assert no_note.value.field == "note"
        change = lifecycle.escalate(
            uow, registry.officer, raised.alert_id, "Wearer unreachable", ctx
        )
        uow.commit()
    assert change.escalated
    assert change.escalation_level == 1
    assert any(":escalation:1:duty_officer" in k for k in keys(container, raised.alert_id))


def test_repeated_approach_warnings_raise_one_pattern_alert_to_the_officer(
    container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    clock = weekday_morning
    person = registry.high_risk_person
    warnings = []
    for day in range(3):
        warnings.append(
            event(
                person,
                EventKind.APPROACH_WARNING,
                at=clock.now() + timedelta(days=2 * day),
                condition_id="7",
            )
        )
    assert handle(container, warnings[0], warnings[1]) == []
    # A replay of a warning already counted is not a third one.
    assert handle(container, warnings[1]) == []
    [pattern] = handle(container, warnings[2])
    assert pattern.kind == APPROACH_PATTERN_KIND
    assert pattern.severity is Severity.HIGH
    with container.engine.connect() as conn:
        row = conn.execute(select(alerts).where(alerts.c.id == pattern.alert_id)).one()
        recipients = {
            (row.channel, row.recipient)
            for row in conn.execute(
                select(alert_deliveries.c.channel, alert_deliveries.c.recipient).where(
                    alert_deliveries.c.alert_id == pattern.alert_id
                )
            )
        }
    assert row.source == AlertSource.PATTERN
    assert row.detail["warnings"] == 3
    assert ("email", OFFICER_EMAIL) in recipients
    # Raised to the officer: not the police, and the victim is not pinged.
    assert {channel for channel, _ in recipients} <= {"email", "sms"}
    # A fourth warning adds to the open pattern alert instead of raising another.
    fourth = event(
        person, EventKind.APPROACH_WARNING, at=clock.now() + timedelta(days=5), condition_id="7"
    )
    [update] = handle(container, fourth)
    assert (update.alert_id, update.action) == (pattern.alert_id, HistoryAction.UPDATED)


def test_approach_warnings_spread_beyond_the_window_are_not_a_pattern(
    container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    start = weekday_morning.now()
    spread = [
        event(
            registry.high_risk_person,
            EventKind.APPROACH_WARNING,
            at=start + timedelta(days=5 * n),
            condition_id="7",
        )
        for n in range(4)
    ]
    other_condition = event(
        registry.high_risk_person, EventKind.APPROACH_WARNING, at=start, condition_id="9"
    )
    assert handle(container, *spread, other_condition) == []


def test_protected_person_told_only_after_opting_in_and_at_most_once_per_interval(
    container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    with container.uow() as uow:
        service.set_protected_person_opt_in(uow, registry.officer, registry.protected_person, True)
        uow.commit()

    def told(alert_id: int) -> list[str]:
        with container.engine.connect() as conn:
            return list(
                conn.execute(
                    select(alert_deliveries.c.recipient).where(
                        alert_deliveries.c.alert_id == alert_id,
                        alert_deliveries.c.channel == "protected_person",
                    )
                ).scalars()
            )

    [first] = handle(container, event(registry.high_risk_person, at=weekday_morning.now()))
    # The outbox holds the registry id, never her phone number.
    assert told(first.alert_id) == [registry.protected_person]
    weekday_morning.advance(timedelta(minutes=10))
    [second] = handle(container, event(registry.high_risk_person, at=weekday_morning.now()))
    assert told(second.alert_id) == []  # rate limited
    weekday_morning.advance(timedelta(minutes=31))
    [third] = handle(container, event(registry.high_risk_person, at=weekday_morning.now()))
    assert told(third.alert_id) == [registry.protected_person]
