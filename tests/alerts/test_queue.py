"""The alert queue's order and counts, an alert's age, and each kind's call protocol."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vigil.alerts.calls import call_steps
from vigil.alerts.queue import age_text, order_queue, severity_counts


def test_queue_puts_the_most_severe_first_then_the_longest_waiting() -> None:
    alerts = [
        {"id": 1, "severity": "low", "created_at": "2026-11-23T08:00:00+00:00"},
        {"id": 2, "severity": "critical", "created_at": "2026-11-23T08:59:00+00:00"},
        {"id": 3, "severity": "critical", "created_at": "2026-11-23T08:30:00+00:00"},
        {"id": 4, "severity": "high", "created_at": "2026-11-23T07:00:00+00:00"},
    ]
    assert [a["id"] for a in order_queue(alerts)] == [3, 2, 4, 1]
    assert severity_counts(alerts) == {"critical": 2, "high": 1, "medium": 0, "low": 1}


def test_queue_puts_risk_to_the_victim_first_and_new_before_acknowledged() -> None:
    at = "2026-11-23T08:{:02d}:00+00:00".format
    alerts = [
        {"id": 1, "kind": "strap_removed", "severity": "critical", "status": "acknowledged",
         "created_at": at(1)},
        {"id": 2, "kind": "strap_removed", "severity": "critical", "status": "new",
         "created_at": at(2)},
        {"id": 3, "kind": "proximity", "severity": "high", "status": "new", "created_at": at(30)},
        {"id": 4, "kind": "exclusion_zone", "severity": "high", "status": "acknowledged",
         "created_at": at(3)},
        {"id": 5, "kind": "exclusion_zone", "severity": "high", "status": "new",
         "created_at": at(10)},
        {"id": 6, "kind": "battery_low", "severity": "low", "status": "new", "created_at": at(0)},
    ]  # fmt: skip
    assert [a["id"] for a in order_queue(alerts)] == [5, 3, 4, 2, 6, 1]


def test_each_kind_of_alert_has_its_own_call_script() -> None:
    strap = dict(call_steps("strap_removed"))
    assert "leave the zone" not in strap["wearer"]
    assert "strap" in strap["wearer"]
    assert "police" in strap  # whereabouts unknown: the protected person may be at risk
    battery = dict(call_steps("battery_low"))
    assert list(battery) == ["wearer", "officer"]  # nobody else needs a call for a flat battery
    assert "charge" in battery["wearer"]
    zone = call_steps("exclusion_zone")
    assert [key for key, _label in zone] == ["protected_person", "wearer", "police", "officer"]
    assert "leave the zone" in dict(zone)["wearer"]


def test_age_reads_like_a_person_would_say_it() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert age_text(now - timedelta(seconds=42), now) == "42 s"
    assert age_text(now - timedelta(minutes=7), now) == "7 min"
    assert age_text(now - timedelta(hours=2, minutes=5), now) == "2 h 5 min"
    assert age_text(now - timedelta(days=3), now) == "3 days"
