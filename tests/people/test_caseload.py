"""Caseload status: open violations before device problems, those needing attention first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vigil.people.caseload import Status, caseload_key, person_status


def test_open_violation_outranks_device_problems_and_a_silent_tag_is_a_device_issue() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    fresh = now - timedelta(minutes=2)
    assert person_status(True, ["battery_low", "curfew"], fresh, now, True) == "open_alerts"
    assert person_status(True, ["battery_low"], fresh, now, True) == "device_issues"
    assert person_status(True, [], now - timedelta(hours=2), now, True) == "device_issues"
    assert person_status(True, [], fresh, now, True) == "compliant"
    assert person_status(False, [], None, now, False) == "no_order"
    # A removed strap or a tampered tag is not a flat battery: the wearer may be evading.
    assert person_status(True, ["strap_removed"], fresh, now, True) == "open_alerts"
    assert person_status(True, ["tamper"], fresh, now, True) == "open_alerts"


def test_the_caseload_puts_the_most_urgent_first_and_compliant_wearers_last() -> None:
    rows = [
        ("Adams", Status.COMPLIANT, []),
        ("Baker", Status.NO_ORDER, []),
        ("Clark", Status.DEVICE_ISSUES, ["low"]),
        ("Davis", Status.OPEN_ALERTS, ["high"]),
        ("Evans", Status.OPEN_ALERTS, ["low", "critical"]),
        ("Ford", Status.DEVICE_ISSUES, ["medium"]),
    ]
    ordered = sorted(rows, key=lambda r: caseload_key(r[1], r[2], r[0]))
    assert [name for name, _status, _severities in ordered] == [
        "Evans",
        "Davis",
        "Ford",
        "Clark",
        "Baker",
        "Adams",
    ]
