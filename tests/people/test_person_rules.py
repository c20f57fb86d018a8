"""Person and protected-person rules, each naming its field."""

from __future__ import annotations

from datetime import date
from typing import Any

from vigil.errors import ErrorCollector
from vigil.people.model import (
    PersonDraft,
    ProtectedPersonDraft,
    RiskLevel,
    age_on,
    check_person,
    check_protected_person,
)

TODAY = date(2026, 11, 23)


def person_errors(**overrides: Any) -> dict[str, str]:
    values: dict[str, Any] = {
        "first_name": "Lee",
        "last_name": "Walsh",
        "date_of_birth": date(1988, 2, 29),
        "managing_team_id": 1,
        "force_area": "wmp",
        "risk_level": "high",
        "crn": "x123456",
    }
    values.update(overrides)
    draft = PersonDraft(**values)
    errors = ErrorCollector()
    check_person(draft, TODAY, errors)
    return {e.field: e.reason for e in errors.errors}


def test_a_sound_person_normalises_ids() -> None:
    draft = PersonDraft("Lee", "Walsh", date(1988, 2, 29), 1, "wmp", "high", crn=" x123456 ")
    errors = ErrorCollector()
    check_person(draft, TODAY, errors)
    assert errors.errors == []
    assert (draft.crn, draft.force_area, draft.risk_level) == ("X123456", "WMP", RiskLevel.HIGH)


def test_missing_name_is_named() -> None:
    assert person_errors(first_name="  ") == {"first_name": "is required"}


def test_date_of_birth_in_the_future_is_refused() -> None:
    assert person_errors(date_of_birth=date(2030, 1, 1)) == {"date_of_birth": "must be in the past"}


def test_badly_formed_external_ids_are_named() -> None:
    found = person_errors(crn="12345", pnc_id="abc", prison_number="A12")
    assert set(found) == {"crn", "pnc_id", "prison_number"}


def test_well_formed_pnc_and_prison_number_pass() -> None:
    assert person_errors(pnc_id="2012/0052494L", prison_number="a1234bc") == {}


def test_a_person_needs_an_external_id() -> None:
    assert "crn" in person_errors(crn=None)


def test_unknown_risk_level_is_named() -> None:
    assert "risk_level" in person_errors(risk_level="extreme")


def test_a_person_needs_a_team_or_force_area() -> None:
    assert "managing_team_id" in person_errors(managing_team_id=None, force_area=None)


def test_protected_person_phone_is_normalised_and_checked() -> None:
    draft = ProtectedPersonDraft("Sarah Price", "former_partner", phone="0121 496 0123")
    errors = ErrorCollector()
    check_protected_person(draft, errors)
    assert errors.errors == []
    assert draft.phone == "+441214960123"
    bad = ProtectedPersonDraft("Sarah Price", "cousin", phone="12", email="nope")
    errors = ErrorCollector()
    check_protected_person(bad, errors)
    assert {e.field for e in errors.errors} == {"relationship", "phone", "email"}


def test_age_counts_whole_years() -> None:
    assert age_on(date(2008, 11, 24), TODAY) == 17
    assert age_on(date(2008, 11, 23), TODAY) == 18
