"""Pilot eligibility: every rule's failing case gives its reason; the note is required."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from vigil.errors import ErrorCollector
from vigil.orders.eligibility import Rule, Screening, check_note, eligible, screen
from vigil.people.model import RiskLevel

TODAY = date(2026, 11, 23)
GOOD = Screening(
    date_of_birth=date(1990, 5, 1),
    risk_level=RiskLevel.HIGH,
    domestic_abuse_sentence=True,
    release_region_code="WM",
    accommodation_viable=True,
    region_caseload=120,
    region_capacity=500,
    proportionality_note="Repeated abuse of a former partner; zones are proportionate.",
)


def failed(facts: Screening) -> dict[Rule, str]:
    return {o.rule: o.reason for o in screen(facts, TODAY) if not o.passed}


def test_a_person_meeting_every_rule_is_eligible() -> None:
    outcomes = screen(GOOD, TODAY)
    assert eligible(outcomes)
    assert [o.rule for o in outcomes] == list(Rule)


def test_under_18_fails_on_age_the_day_before_the_birthday() -> None:
    facts = replace(GOOD, date_of_birth=date(2008, 11, 24))
    assert failed(facts) == {Rule.AGE: "aged 17: the pilot is for adults (18 or over)"}
    assert failed(replace(GOOD, date_of_birth=date(2008, 11, 23))) == {}


@pytest.mark.parametrize("level", [RiskLevel.LOW, RiskLevel.MEDIUM])
def test_low_or_medium_risk_fails(level: RiskLevel) -> None:
    assert "high or very high is required" in failed(replace(GOOD, risk_level=level))[Rule.RISK]


def test_very_high_risk_passes() -> None:
    assert failed(replace(GOOD, risk_level=RiskLevel.VERY_HIGH)) == {}


def test_no_domestic_abuse_sentence_fails() -> None:
    reasons = failed(replace(GOOD, domestic_abuse_sentence=False))
    assert reasons == {Rule.OFFENCE: "not serving a sentence for a domestic-abuse offence"}


def test_release_outside_pilot_regions_fails() -> None:
    assert (
        "outside the pilot regions" in failed(replace(GOOD, release_region_code="LDN"))[Rule.REGION]
    )
    assert Rule.REGION in failed(replace(GOOD, release_region_code=None))


def test_no_viable_accommodation_fails() -> None:
    reasons = failed(replace(GOOD, accommodation_viable=False))
    assert reasons == {Rule.ACCOMMODATION: "no viable accommodation to charge the tag"}


def test_a_full_region_fails_on_capacity() -> None:
    reasons = failed(replace(GOOD, region_caseload=500))
    assert reasons == {Rule.CAPACITY: "500 of 500 pilot places in use"}
    assert failed(replace(GOOD, region_caseload=499)) == {}


def test_every_failing_rule_is_reported_together() -> None:
    facts = replace(GOOD, risk_level=RiskLevel.LOW, accommodation_viable=False)
    assert set(failed(facts)) == {Rule.RISK, Rule.ACCOMMODATION}


@pytest.mark.parametrize("note", ["", "   ", "too short"])
def test_proportionality_note_is_required(note: str) -> None:
    errors = ErrorCollector()
    check_note(note, errors)
    assert [e.field for e in errors.errors] == ["proportionality_note"]
