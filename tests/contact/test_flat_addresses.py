"""Flats written the common ways ("2/14 High St") are flat 2 of number 14, in the form's addresses
and in the mail check alike; fractions and dates written in an address are left alone."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.contact.helpers import bearer, case_id_for, sample_request, submit, tokens
from vigil.bootstrap import Container
from vigil.contact import addresses

FLAT_2_AT_14 = addresses.Address(
    postcode="B1 1AA", building="14", flat="2", street="HIGH STREET", town="BIRMINGHAM"
)


@pytest.mark.parametrize(
    "written",
    [
        "2/14 High St",
        "2/14 High Street",
        "2 / 14 high st.",
        "2 /14 High Street",
        "Flat 2, 14 High Street",
        "Flat 2 14 High Street",
        "flat 2/14 High St",
        "Flat No. 2, 14 High St",
        "Apartment 2, 14 High St",
        "14 High Street Flat 2",
        "14 High Street, Flat 2",
        "2 14 High Street",
        "2/14, High Street",
    ],
)
def test_every_common_way_of_writing_a_flat_is_the_same_door(written: str) -> None:
    assert addresses.parse(f"{written}\nBirmingham\nB1 1AA", addressee=False) == FLAT_2_AT_14


@pytest.mark.parametrize(
    ("written", "flat", "building"),
    [
        ("2A/14 High St", "2A", "14"),
        ("2/14A High St", "2", "14A"),
        ("10 / 3 Mill Lane", "10", "3"),
        ("Unit 4 12 Mill Lane", "4", "12"),
    ],
)
def test_lettered_flats_and_buildings_keep_their_letters(
    written: str, flat: str, building: str
) -> None:
    parsed = addresses.parse(f"{written}, Leeds, LS1 4AB", addressee=False)
    assert (parsed.flat, parsed.building) == (flat, building)


@pytest.mark.parametrize(
    ("envelope", "expected"),
    [
        ("J Doe 2/14 High St Birmingham B11AA", FLAT_2_AT_14),
        ("Mrs J Doe\n2/14 High Street\nBirmingham\nB1 1AA", FLAT_2_AT_14),
        ("J Doe, 2 / 14 High St., Birmingham, b1 1aa", FLAT_2_AT_14),
    ],
)
def test_an_envelope_reads_the_flat_whoever_it_names(
    envelope: str, expected: addresses.Address
) -> None:
    assert addresses.parse(envelope) == expected


@pytest.mark.parametrize(
    ("written", "building", "street"),
    [
        ("12 3rd Avenue", "12", "3RD AVENUE"),  # an ordinal street, not a flat
        ("14 High St", "14", "HIGH STREET"),
        ("Rose Cottage, Mill Lane", "ROSE COTTAGE", "MILL LANE"),
    ],
)
def test_addresses_without_a_flat_gain_none(written: str, building: str, street: str) -> None:
    parsed = addresses.parse(f"{written}, Leeds, LS1 4AB", addressee=False)
    assert (parsed.flat, parsed.building, parsed.street) == (None, building, street)


@pytest.mark.parametrize(
    "note",
    [
        "1/2 mile past the church",
        "1 / 2 mile past the church",
        "3/4 way along the lane",
        "12/05/2024",
        "05/12/24 onwards",
        "1/2 an hour from town",
    ],
)
def test_fractions_and_dates_in_an_address_are_not_read_as_flats(note: str) -> None:
    parsed = addresses.parse(f"14 High St, {note}, B1 1AA", addressee=False)
    assert (parsed.flat, parsed.building, parsed.street) == (None, "14", "HIGH STREET")
    # The note is kept as written (its slash a space), not rewritten into a flat.
    assert parsed.town
    assert " ".join(note.upper().replace("/", " ").split()).endswith(parsed.town)


def test_the_form_shows_the_flat_it_read() -> None:
    parsed = addresses.from_lines(["2/14 High St", "", "Birmingham"], "b11aa")
    assert parsed.display == "Flat 2, 14 HIGH STREET, BIRMINGHAM, B1 1AA"


def _mail_check(client: TestClient, token: str, envelope: str) -> dict[str, object]:
    response = client.post(
        "/api/contact/mail-check",
        json={"prison_number": "A1234BC", "address": envelope},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


@pytest.mark.parametrize(
    ("barred_line", "envelope", "held"),
    [
        ("2/14 High St", "J Doe, Flat 2, 14 High Street, Birmingham, B1 1AA", True),
        ("2/14 High St", "J Doe, 2 / 14 high st., Birmingham, B1 1AA", True),
        ("2/14 High St", "J Doe, 14 High Street Flat 2, Birmingham, B1 1AA", True),
        ("2/14 High St", "J Doe, 3/14 High St, Birmingham, B1 1AA", False),  # another flat
        ("2/14 High St", "J Doe, 2/16 High St, Birmingham, B1 1AA", False),  # another building
        ("Flat 2, 14 High Street", "J Doe 2/14 High St Birmingham B11AA", True),
        ("Flat 2 14 High Street", "J Doe, 2A/14 High St, Birmingham, B1 1AA", False),
    ],
)
def test_the_mail_check_reads_flats_the_way_the_form_does(
    client: TestClient, container: Container, barred_line: str, envelope: str, held: bool
) -> None:
    keys = tokens(container)
    person = {
        "name": "Jane Doe",
        "addresses": [{"lines": [barred_line, "Birmingham"], "postcode": "B1 1AA"}],
    }
    reference = submit(client, sample_request(protected_people=[person]))
    case_id = case_id_for(client, keys["handler"], reference)
    response = client.post(
        f"/api/contact/cases/{case_id}/bars",
        json={"reason": "Letters", "scope": "prisoner", "prison_number": "A1234BC"},
        headers=bearer(keys["handler"]),
    )
    assert response.status_code == 201, response.text
    result = _mail_check(client, keys["prison"], envelope)
    assert result["allowed"] is not held, result
