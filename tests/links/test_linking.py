"""Which prisoner and which matrix person a registry person is: an id both records hold links at
once; a name and date of birth close enough under the matrix's rules are only proposed."""

from __future__ import annotations

from datetime import date

import pytest

from vigil.contact.matching import RegisteredPrisoner
from vigil.harm.positions import SuspectRecord
from vigil.links.linking import find_links, prisoner_writings, suspect_writings
from vigil.links.model import LinkFound, LinkMethod, LinkStatus, LinkTarget
from vigil.people.model import RiskLevel
from vigil.people.service import PersonView

BORN = date(1985, 3, 7)


def _person(**changes: object) -> PersonView:
    values: dict[str, object] = {
        "id": 7,
        "first_name": "Jonathan",
        "last_name": "Smyth",
        "date_of_birth": BORN,
        "pnc_id": "05/1234567X",
        "prison_number": None,
        "crn": "X100001",
        "aliases": [],
        "managing_team_id": 1,
        "team_name": "Birmingham North",
        "force_area": "WMP",
        "region_code": "WM",
        "risk_level": RiskLevel.HIGH,
        "home_address": None,
        "prison_code": None,
    }
    values.update(changes)
    return PersonView(**values)  # type: ignore[arg-type]


def _prisoner(number: str, forenames: str, surname: str, born: date | None) -> RegisteredPrisoner:
    return RegisteredPrisoner(0, number, forenames, surname, (), born, "HMP Birmingham", None)


def _links(
    person: PersonView, prisoners: list[RegisteredPrisoner], suspects: list[SuspectRecord]
) -> list[LinkFound]:
    return find_links(person, prisoner_writings(prisoners), suspect_writings(suspects))


def test_the_same_prison_number_links_at_once_whatever_the_names() -> None:
    found = _links(
        _person(prison_number="a1234bc"), [_prisoner("A1234BC", "John", "Smith", None)], []
    )
    assert [(f.target, f.target_key, f.method, f.status) for f in found] == [
        (LinkTarget.PRISONER, "A1234BC", LinkMethod.PRISON_NUMBER, LinkStatus.CONFIRMED)
    ]


def test_the_same_police_id_links_to_the_matrix_person_at_once() -> None:
    suspects = [SuspectRecord("HX000001", " 05/1234567x ", "J Smyth", None)]
    found = _links(_person(), [], suspects)
    assert [(f.target_key, f.method, f.status) for f in found] == [
        ("HX000001", LinkMethod.POLICE_ID, LinkStatus.CONFIRMED)
    ]


@pytest.mark.parametrize(
    ("forenames", "surname", "born", "why"),
    [
        ("Jonathan", "Smyth", BORN, "similar names, same date of birth"),
        ("Jonathon", "Smyth", BORN, "similar names, same date of birth"),
        ("Smyth", "Jonathan", BORN, "names swapped, same date of birth"),
        ("Jonathan", "Smyth", date(1985, 7, 3), "similar names, day and month transposed"),
        ("Jonathan", "Smyth", date(1986, 3, 7), "similar names, date of birth differs in one part"),
    ],
)
def test_a_name_and_date_of_birth_the_matrix_would_link_are_only_proposed(
    forenames: str, surname: str, born: date, why: str
) -> None:
    found = _links(_person(pnc_id=None), [_prisoner("B2345CD", forenames, surname, born)], [])
    assert len(found) == 1
    assert found[0].status is LinkStatus.PROPOSED
    assert found[0].method is LinkMethod.NAME_AND_DATE_OF_BIRTH
    assert found[0].reason == why


@pytest.mark.parametrize(
    ("forenames", "surname", "born"),
    [
        ("Jonathan", "Smyth", date(1979, 11, 23)),  # another date of birth
        ("Kevin", "Doherty", BORN),  # another man born the same day
        ("Jonathan", "Smyth", None),  # no date of birth to compare
    ],
)
def test_no_likeness_is_proposed_without_close_names_and_date_of_birth(
    forenames: str, surname: str, born: date | None
) -> None:
    assert _links(_person(pnc_id=None), [_prisoner("C3456DE", forenames, surname, born)], []) == []


def test_two_different_police_ids_are_two_men_however_alike_their_names() -> None:
    suspects = [SuspectRecord("HX000002", "99/7654321Z", "Jonathan Smyth", BORN)]
    assert _links(_person(), [], suspects) == []


def test_an_alias_is_compared_too() -> None:
    found = _links(
        _person(first_name="Jack", last_name="Jones", aliases=["Jonathan Smyth"], pnc_id=None),
        [_prisoner("D4567EF", "Jonathan", "Smyth", BORN)],
        [],
    )
    assert [f.target_key for f in found] == ["D4567EF"]
