"""Screening for the domestic-abuse tagging pilot: each rule gives a reason. No framework imports.

A person is eligible only when every rule passes. The decision is recorded with every rule's
outcome and a proportionality note, so a later reader sees why, not just what.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from vigil.errors import ErrorCollector
from vigil.people.model import HIGH_RISK_LEVELS, PILOT_REGIONS, RiskLevel, age_on

MIN_PROPORTIONALITY_NOTE = 20


class Rule(StrEnum):
    AGE = "aged_18_or_over"
    RISK = "high_risk_of_serious_harm"
    OFFENCE = "domestic_abuse_sentence"
    REGION = "released_to_pilot_region"
    ACCOMMODATION = "viable_accommodation"
    CAPACITY = "pilot_capacity"


@dataclass(frozen=True)
class Screening:
    """The facts a screening decides on."""

    date_of_birth: date
    risk_level: RiskLevel
    domestic_abuse_sentence: bool
    release_region_code: str | None
    accommodation_viable: bool
    # Persons already monitored under the pilot in the release region, and its cap.
    region_caseload: int
    region_capacity: int
    proportionality_note: str


@dataclass(frozen=True)
class Outcome:
    rule: Rule
    passed: bool
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"rule": self.rule.value, "passed": self.passed, "reason": self.reason}


def check_note(note: str, errors: ErrorCollector) -> None:
    if len(note.strip()) < MIN_PROPORTIONALITY_NOTE:
        errors.add(
            "proportionality_note",
            "explain why monitoring is necessary and proportionate "
            f"(at least {MIN_PROPORTIONALITY_NOTE} characters)",
        )


def screen(facts: Screening, on: date) -> list[Outcome]:
    """Every rule's outcome, in a fixed order."""
    age = age_on(facts.date_of_birth, on)
    region = facts.release_region_code
    return [
        Outcome(
            Rule.AGE,
            age >= 18,
            f"aged {age}" if age >= 18 else f"aged {age}: the pilot is for adults (18 or over)",
        ),
        Outcome(
            Rule.RISK,
            facts.risk_level in HIGH_RISK_LEVELS,
            f"assessed {facts.risk_level.value.replace('_', ' ')} risk of serious harm"
            + ("" if facts.risk_level in HIGH_RISK_LEVELS else ": high or very high is required"),
        ),
        Outcome(
            Rule.OFFENCE,
            facts.domestic_abuse_sentence,
            "serving a sentence for a domestic-abuse offence"
            if facts.domestic_abuse_sentence
            else "not serving a sentence for a domestic-abuse offence",
        ),
        Outcome(
            Rule.REGION,
            region in PILOT_REGIONS,
            f"released to {region}, a pilot region"
            if region in PILOT_REGIONS
            else f"released to {region or 'an unknown region'}, outside the pilot regions "
            f"({', '.join(sorted(PILOT_REGIONS))})",
        ),
        Outcome(
            Rule.ACCOMMODATION,
            facts.accommodation_viable,
            "accommodation is viable (power to charge the tag)"
            if facts.accommodation_viable
            else "no viable accommodation to charge the tag",
        ),
        Outcome(
            Rule.CAPACITY,
            facts.region_caseload < facts.region_capacity,
            f"{facts.region_caseload} of {facts.region_capacity} pilot places in use",
        ),
    ]


def eligible(outcomes: list[Outcome]) -> bool:
    return all(outcome.passed for outcome in outcomes)
