"""Alert lifecycle on a real database and the real registry: raising, grouping by episode,
transitions, their permissions and scope, severity, routing and suppression."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.alerts.conftest import (
    CENTRE_EMAIL,
    DUTY_EMAIL,
    OFFICER_EMAIL,
    Registry,
    event,
    handle,
)
from vigil.alerts import alert_reads, lifecycle, suppression_windows
from vigil.alerts.model import AlertStatus, HistoryAction, Outcome, Severity
from vigil.alerts.tables import alert_deliveries, alert_history, alerts
from vigil.bootstrap import Container
from vigil.clock import FrozenClock
from vigil.engine.events import EventKind, EventPhase
from vigil.errors import NotFound, ValidationError
from vigil.security import audit
from vigil.security.model import PermissionDenied


def deliveries(container: Container, alert_id: int) -> list[tuple[str, str]]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            select(alert_deliveries.c.channel, alert_deliveries.c.recipient).where(
                alert_deliveries.c.alert_id == alert_id
            )
        ).all()
    return sorted((row.channel, row.recipient) for row in rows)


def test_zone_violation_in_high_risk_case_is_critical_and_routed_to_all_tiers(
    container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    [change] = handle(container, event(registry.high_risk_person, at=weekday_morning.now()))
    assert change.severity is Severity.CRITICAL
    assert change.status is AlertStatus.NEW
    assert change.force_area == "WMP"
    sent = deliveries(container, change.alert_id)
    assert ("email", CENTRE_EMAIL) in sent
    assert ("email", OFFICER_EMAIL) in sent  # working hours: the responsible officer
    assert ("email", DUTY_EMAIL) not in sent
    assert ("webhook", "http://127.0.0.1:9/wmp-control-room") in sent  # critical: police
    # The victim has not opted in to notifications, so nobody texts her.
    assert not [d for d in sent if d[0] == "protected_person"]
    with container.engine.connect() as conn:
        row = conn.execute(select(alerts).where(alerts.c.id == change.alert_id)).one()
    assert row.next_escalation_at == weekday_morning.now() + timedelta(minutes=2)


def test_out_of_hours_the_duty_officer_is_told_instead_of_the_responsible_officer(
    container: Container, registry: Registry, clock: FrozenClock
) -> None:
    clock.set(clock.now().replace(hour=23))  # 23:00 London in November
    [change] = handle(container, event(registry.low_risk_person, EventKind.CURFEW, at=clock.now()))
    assert change.severity is Severity.HIGH
    sent = deliveries(container, change.alert_id)
    assert ("email", DUTY_EMAIL) in sent
    assert ("sms", "07400123457") in sent
    assert ("email", OFFICER_EMAIL) not in sent
    assert not [d for d in sent if d[0] == "webhook"]  # not critical: no police


def test_later_events_of_the_same_episode_update_the_one_open_alert(
    container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    first = event(registry.high_risk_person, at=weekday_morning.now(), episode_id="ep-1")
    weekday_morning.advance(timedelta(seconds=30))
    still_inside = event(
        registry.high_risk_person,
        at=weekday_morning.now(),
        episode_id="ep-1",
        phase=EventPhase.UPDATED,
        lat=52.49,
        lon=-1.89,
        detail={"dwell_s": 30},
    )
    weekday_morning.advance(timedelta(minutes=1))
    left = event(
        registry.high_risk_person,
        at=weekday_morning.now(),
        episode_id="ep-1",
        phase=EventPhase.ENDED,
        lat=52.50,
        lon=-1.90,
    )
    changes = handle(container, first, still_inside, left)
    assert [c.action for c in changes] == [
        HistoryAction.RAISED,
        HistoryAction.UPDATED,
        HistoryAction.EPISODE_ENDED,
    ]
    assert len({c.alert_id for c in changes}) == 1
    with container.engine.connect() as conn:
        rows = conn.execute(select(alerts)).all()
        deliveries_count = len(conn.execute(select(alert_deliveries)).all())
    assert len(rows) == 1
    assert rows[0].ended_at == weekday_morning.now()
    assert rows[0].lat == pytest.approx(52.50)  # the latest position wins
    assert rows[0].detail["dwell_s"] == 30
    # Updates tell nobody again: only the raise planned deliveries.
    assert deliveries_count == len(deliveries(container, rows[0].id))
    # A replay of the same start event is not a second alert.
    assert handle(container, first)[0].action is HistoryAction.UPDATED


def test_acknowledge_then_resolve_with_outcome_and_note(
    container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    [raised] = handle(container, event(registry.high_risk_person, at=weekday_morning.now()))
    with container.uow() as uow:
        ack = lifecycle.acknowledge(uow, registry.officer, raised.alert_id, "calling him now")
        uow.commit()
    assert ack.status is AlertStatus.ACKNOWLEDGED
    with container.uow() as uow, pytest.raises(ValidationError) as missing:
        lifecycle.resolve(uow, registry.officer, raised.alert_id, None, "")
    assert {e.field for e in missing.value.errors} == {"outcome", "note"}
    with container.uow() as uow, pytest.raises(ValidationError) as bad:
        lifecycle.resolve(uow, registry.officer, raised.alert_id, "nothing", "done")
    assert bad.value.field == "outcome"
    with container.uow() as uow:
        done = lifecycle.resolve(
            uow, registry.officer, raised.alert_id, "genuine_violation", "Police attended."
        )
        uow.commit()
    assert done.status is AlertStatus.RESOLVED
    with container.uow() as uow:
        detail = alert_reads.get_alert(uow, registry.operator, raised.alert_id)
        report = audit.verify(uow.connection)
    assert detail["outcome"] == Outcome.GENUINE_VIOLATION
    assert detail["next_escalation_at"] is None
    assert [h["action"] for h in detail["history"]] == ["raised", "acknowledged", "resolved"]
    assert detail["history"][1]["actor"] == registry.officer.actor
    assert report.intact
    # Resolved is final.
    with container.uow() as uow, pytest.raises(ValidationError):
        lifecycle.acknowledge(uow, registry.operator, raised.alert_id)


def test_permissions_follow_role_and_caseload(
    container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    [critical] = handle(container, event(registry.high_risk_person, at=weekday_morning.now()))
    [low] = handle(
        container, event(registry.low_risk_person, EventKind.BATTERY_LOW, at=weekday_morning.now())
    )
    with container.uow() as uow:
        # Another team's officer and another force's police: not found, so existence is hidden.
        with pytest.raises(NotFound):
            lifecycle.acknowledge(uow, registry.other_officer, critical.alert_id)
        with pytest.raises(NotFound):
            alert_reads.get_alert(uow, registry.other_police, critical.alert_id)
        # Police of the force area see the critical alert but not a flat battery.
        assert (
            alert_reads.get_alert(uow, registry.police, critical.alert_id)["id"]
            == critical.alert_id
        )
        with pytest.raises(NotFound):
            alert_reads.get_alert(uow, registry.police, low.alert_id)
        # An analyst does not work alerts at all.
        with pytest.raises(PermissionDenied):
            alert_reads.list_alerts(uow, registry.analyst, alert_reads.AlertFilter())
        # Police may acknowledge but not resolve.
        lifecycle.acknowledge(uow, registry.police, critical.alert_id)
        with pytest.raises(PermissionDenied):
            lifecycle.resolve(uow, registry.police, critical.alert_id, "genuine_violation", "x")
        listed = alert_reads.list_alerts(uow, registry.officer, alert_reads.AlertFilter())
        assert {a["id"] for a in listed} == {critical.alert_id, low.alert_id}
        assert alert_reads.list_alerts(uow, registry.other_officer, alert_reads.AlertFilter()) == []
        only_new = alert_reads.list_alerts(
            uow, registry.operator, alert_reads.AlertFilter(status=[AlertStatus.NEW])
        )
        assert [a["id"] for a in only_new] == [low.alert_id]


def test_notes_are_kept_in_history_and_must_not_be_empty(
    container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    [raised] = handle(container, event(registry.low_risk_person, at=weekday_morning.now()))
    with container.uow() as uow:
        with pytest.raises(ValidationError) as empty:
            lifecycle.add_note(uow, registry.officer, raised.alert_id, "   ")
        assert empty.value.field == "note"
        lifecycle.add_note(uow, registry.officer, raised.alert_id, "Spoke to the wearer.")
        uow.commit()
    with container.engine.connect() as conn:
        notes = conn.execute(
            select(alert_history.c.note).where(alert_history.c.action == "note")
        ).scalars()
        assert list(notes) == ["Spoke to the wearer."]


def test_suppression_window_silences_expected_events_but_never_a_cut_strap(
    container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    now = weekday_morning.now()
    ctx = container.alerts.context
    with container.uow() as uow:
        with pytest.raises(ValidationError) as backwards:
            suppression_windows.add_suppression(
                uow,
                registry.officer,
                ctx,
                person_id=registry.low_risk_person,
                condition_id="7",
                order_id=None,
                kind="appointment",
                reason="Hospital appointment",
                starts_at=now + timedelta(hours=2),
                ends_at=now,
            )
        assert backwards.value.field == "ends_at"
        with pytest.raises(NotFound):
            suppression_windows.add_suppression(
                uow,
                registry.other_officer,
                ctx,
                person_id=registry.low_risk_person,
                condition_id="7",
                order_id=None,
                kind="appointment",
                reason="Not my case",
                starts_at=now,
                ends_at=now + timedelta(hours=2),
            )
        window = suppression_windows.add_suppression(
            uow,
            registry.officer,
            ctx,
            person_id=registry.low_risk_person,
            condition_id="7",
            order_id=None,
            kind="appointment",
            reason="Hospital appointment inside the zone",
            starts_at=now,
            ends_at=now + timedelta(hours=2),
        )
        uow.commit()
    inside = event(registry.low_risk_person, at=now + timedelta(minutes=30), condition_id="7")
    other_condition = event(
        registry.low_risk_person, EventKind.CURFEW, at=now + timedelta(minutes=30), condition_id="8"
    )
    strap = event(registry.low_risk_person, EventKind.STRAP_REMOVED, at=now + timedelta(minutes=31))
    after = event(registry.low_risk_person, at=now + timedelta(hours=3), condition_id="7")
    changes = handle(container, inside, other_condition, strap, after)
    assert [c.kind for c in changes] == ["curfew", "strap_removed", "exclusion_zone"]
    with container.engine.connect() as conn:
        report = audit.verify(conn)
        from vigil.security.tables import audit_log

        actions = list(
            conn.execute(
                select(audit_log.c.action).where(
                    audit_log.c.subject_type == "alert_suppression",
                    audit_log.c.subject_id == str(window),
                )
            ).scalars()
        )
    assert report.intact
    assert actions == ["alert_suppression.create", "alert.suppressed"]
    # Cancelled windows stop suppressing, and the cancellation is audited too.
    with container.uow() as uow:
        suppression_windows.cancel_suppression(uow, registry.officer, ctx, window)
        uow.commit()
    again = event(registry.low_risk_person, at=now + timedelta(minutes=45), condition_id="7")
    assert len(handle(container, again)) == 1


def test_one_bad_event_in_a_bus_batch_does_not_lose_the_others(
    container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    from vigil.alerts import consumer

    # A detail that cannot be stored as JSON makes that one event fail inside its savepoint.
    bad = event(registry.low_risk_person, at=weekday_morning.now(), detail={"x": object()})
    good = event(registry.high_risk_person, at=weekday_morning.now())
    changes = consumer.process(container.alerts, [bad, "not an event", good])
    assert [c.person_id for c in changes] == [registry.high_risk_person]
    with container.engine.connect() as conn:
        assert [row.person_id for row in conn.execute(select(alerts))] == [
            registry.high_risk_person
        ]


def test_the_alert_email_links_to_the_alert_page_and_gives_local_time_with_its_zone(
    container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    summer = weekday_morning.now().replace(month=7, day=6)  # a Monday in British Summer Time
    weekday_morning.set(summer)
    [raised] = handle(container, event(registry.high_risk_person, at=summer))
    with container.engine.connect() as conn:
        bodies = (
            conn.execute(
                select(alert_deliveries.c.body).where(
                    alert_deliveries.c.alert_id == raised.alert_id,
                    alert_deliveries.c.channel == "email",
                )
            )
            .scalars()
            .all()
        )
    assert bodies
    for body in bodies:
        assert body["link"].endswith(f"/alerts/{raised.alert_id}")
        assert "/monitoring/" not in body["link"]
        assert "for CRN " in body["text"]
        assert "person " not in body["text"]
        assert body["api"].endswith(f"/api/alerts/{raised.alert_id}")
        assert "10:00 BST" in body["text"]  # 09:00 UTC in July
        assert body["started_at"].startswith("2026-07-06T09:00")  # machines keep UTC
