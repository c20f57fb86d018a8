"""Pure rules: severity, working hours, routing tiers and recipients, backoff, transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vigil.alerts.model import (
    APPROACH_PATTERN_KIND,
    Alert,
    AlertStatus,
    EscalationPolicy,
    Severity,
    Tier,
    WorkingHours,
    backoff,
    escalation_tiers,
    severity_for,
)
from vigil.alerts.routing import (
    CaseInfo,
    Contact,
    ControlRoom,
    ProtectedRef,
    initial_tiers,
    recipients_for,
)
from vigil.errors import ValidationError

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SATURDAY_10 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "risk", "detail", "expected"),
    [
        ("exclusion_zone", "very_high", {}, Severity.CRITICAL),
        ("proximity", "high", {}, Severity.CRITICAL),
        ("exclusion_zone", "medium", {}, Severity.HIGH),
        ("curfew", "very_high", {}, Severity.HIGH),
        ("strap_removed", "low", {}, Severity.CRITICAL),
        ("battery_low", "low", {}, Severity.LOW),
        ("battery_low", "low", {"near_zone": True}, Severity.MEDIUM),
        ("no_communication", "low", {"near_zone": True}, Severity.HIGH),
        ("tamper", "high", {}, Severity.CRITICAL),
        (APPROACH_PATTERN_KIND, "low", {}, Severity.HIGH),
    ],
)
def test_severity_follows_condition_kind_and_case_risk(
    kind: str, risk: str, detail: dict[str, bool], expected: Severity
) -> None:
    assert severity_for(kind, risk, detail) is expected


def test_working_hours_are_london_time_across_the_clock_change() -> None:
    hours = WorkingHours()
    # 07:30 UTC in July is 08:30 in London (BST): working hours; in January it is 07:30: not.
    assert hours.contains(datetime(2026, 7, 6, 7, 30, tzinfo=UTC))
    assert not hours.contains(datetime(2026, 1, 5, 7, 30, tzinfo=UTC))
    assert not hours.contains(SATURDAY_10)


def test_initial_tiers() -> None:
    hours = WorkingHours()
    critical_zone = initial_tiers("exclusion_zone", Severity.CRITICAL, MONDAY_10, hours)
    assert critical_zone == {
        Tier.MONITORING_CENTRE,
        Tier.RESPONSIBLE_OFFICER,
        Tier.POLICE_CONTROL_ROOM,
        Tier.PROTECTED_PERSON,
    }
    assert initial_tiers("curfew", Severity.HIGH, SATURDAY_10, hours) == {
        Tier.MONITORING_CENTRE,
        Tier.DUTY_OFFICER,
    }
    # A flat battery at the weekend waits for the officer, and a pattern goes to the officer.
    assert Tier.RESPONSIBLE_OFFICER in initial_tiers(
        "battery_low", Severity.LOW, SATURDAY_10, hours
    )
    assert initial_tiers(APPROACH_PATTERN_KIND, Severity.HIGH, SATURDAY_10, hours) == {
        Tier.MONITORING_CENTRE,
        Tier.RESPONSIBLE_OFFICER,
    }
    # Strap removal is critical but not a zone: police yes, victim no.
    strap = initial_tiers("strap_removed", Severity.CRITICAL, MONDAY_10, hours)
    assert Tier.POLICE_CONTROL_ROOM in strap
    assert Tier.PROTECTED_PERSON not in strap


def test_recipients_per_tier_without_duplicates_and_with_opt_in_only() -> None:
    same = Contact("Pat", email="pat@example.org", phone="+447400123456")
    case = CaseInfo("1", "high", 3, "WMP", responsible_officer=same, duty_officer=same)
    tiers = frozenset(
        {Tier.MONITORING_CENTRE, Tier.RESPONSIBLE_OFFICER, Tier.DUTY_OFFICER, Tier.PROTECTED_PERSON}
        | {Tier.POLICE_CONTROL_ROOM}
    )
    out = recipients_for(
        tiers,
        Severity.CRITICAL,
        case,
        ControlRoom("WMP", webhook_url="https://wmp.example/hook"),
        [ProtectedRef("5", notify_opt_in=True), ProtectedRef("6", notify_opt_in=False)],
        "centre@example.org",
    )
    assert [(r.channel, r.address) for r in out] == [
        ("email", "centre@example.org"),
        ("email", "pat@example.org"),
        ("sms", "+447400123456"),
        ("webhook", "https://wmp.example/hook"),
        ("protected_person", "5"),
    ]
    low = recipients_for(frozenset({Tier.RESPONSIBLE_OFFICER}), Severity.LOW, case, None, [], "")
    assert [r.channel for r in low] == ["email"]  # no texts for low severity


def test_escalation_ladder_reaches_police_and_then_repeats() -> None:
    assert escalation_tiers(1) == {Tier.MONITORING_CENTRE, Tier.DUTY_OFFICER}
    assert Tier.POLICE_CONTROL_ROOM in escalation_tiers(2)
    assert escalation_tiers(7) == escalation_tiers(2)


def test_transitions() -> None:
    alert = Alert(1, AlertStatus.NEW, Severity.HIGH, False, 0, MONDAY_10)
    alert.escalate(EscalationPolicy(), MONDAY_10)
    assert alert.next_escalation_at == MONDAY_10 + timedelta(minutes=10)
    alert.acknowledge()
    assert alert.next_escalation_at is None
    with pytest.raises(ValidationError):
        alert.acknowledge()
    alert.resolve("duplicate", "Same as alert 4")
    with pytest.raises(ValidationError):
        alert.escalate(EscalationPolicy(), MONDAY_10)


def test_backoff_doubles_and_is_capped() -> None:
    base, cap = timedelta(seconds=2), timedelta(seconds=60)
    assert [backoff(n, base=base, cap=cap).total_seconds() for n in range(1, 7)] == [
        2,
        4,
        8,
        16,
        32,
        60,
    ]
