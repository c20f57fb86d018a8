"""Flats written the common ways ("2/14 High St") are flat 2 of number 14, in the form's addresses
and in the mail check alike; fractions and dates written in an address are left alone."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from tests.contact.helpers import bearer, case_id_for, sample_request, submit, tokens
from vigil.bootstrap import Container
from vigil.cli import app as cli
from vigil.contact import addresses
from vigil.contact.casefile import F_ITEM
from vigil.contact.index import address_indexes
from vigil.contact.tables import contact_bar_items

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
    "written",
    [
        "Flat 2/1, 14 High St",
        "2/1, 14 High St",
        "2/1 14 High Street",
        "Flat 2/1 14 High St",
        "14 High Street, Flat 2/1",
        "2 / 1, 14 High St",
    ],
)
def test_a_tenement_flat_is_kept_whole_at_its_building(written: str) -> None:
    parsed = addresses.parse(f"{written}, Glasgow, G1 1AA", addressee=False)
    assert (parsed.flat, parsed.building, parsed.street) == ("2/1", "14", "HIGH STREET")
    assert parsed.display == "Flat 2/1, 14 HIGH STREET, GLASGOW, G1 1AA"


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


def _bar_address(client: TestClient, keys: dict[str, str], line: str) -> None:
    person = {
        "name": "Jane Doe",
        "addresses": [{"lines": [line, "Birmingham"], "postcode": "B1 1AA"}],
    }
    reference = submit(client, sample_request(protected_people=[person]))
    case_id = case_id_for(client, keys["handler"], reference)
    response = client.post(
        f"/api/contact/cases/{case_id}/bars",
        json={"reason": "Letters", "scope": "prisoner", "prison_number": "A1234BC"},
        headers=bearer(keys["handler"]),
    )
    assert response.status_code == 201, response.text


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
        ("Flat 2/1, 14 High Street", "J Doe, 2/1 14 High St, Birmingham, B1 1AA", True),
        ("2/1, 14 High Street", "J Doe, Flat 1/2, 14 High St, Birmingham, B1 1AA", False),
    ],
)
def test_the_mail_check_reads_flats_the_way_the_form_does(
    client: TestClient, container: Container, barred_line: str, envelope: str, held: bool
) -> None:
    keys = tokens(container)
    _bar_address(client, keys, barred_line)
    result = _mail_check(client, keys["prison"], envelope)
    assert result["allowed"] is not held, result


def _store_as_earlier_versions_did(container: Container, street: str = "14 HIGH STREET") -> None:
    """The bar's address as it was kept before flats were read: building 2 on "14 HIGH STREET"."""
    old = addresses.Address("B1 1AA", "2", None, street, "BIRMINGHAM")
    keys = address_indexes(container.cipher.blind_index, old)
    with container.uow() as uow:
        uow.connection.execute(
            update(contact_bar_items)
            .where(contact_bar_items.c.kind == "address")
            .values(
                value_enc=container.cipher.encrypt(old.display, F_ITEM),
                match_index=keys.key,
                street_index=keys.street,
                building_index=keys.building,
                flat_index=None,
            )
        )
        uow.commit()


def test_barred_addresses_stored_by_earlier_versions_are_rekeyed_by_a_command(
    client: TestClient, container: Container, cli_env: CliRunner
) -> None:
    keys = tokens(container)
    _bar_address(client, keys, "2/14 High St")
    _store_as_earlier_versions_did(container)
    envelope = "J Doe, Flat 2, 14 High Street, Birmingham, B1 1AA"
    assert _mail_check(client, keys["prison"], envelope)["allowed"] is True  # the gap closed here
    done = cli_env.invoke(cli, ["contact", "rekey-addresses"])
    assert done.exit_code == 0, done.output
    assert "Re-keyed 1 barred addresses." in done.output
    assert _mail_check(client, keys["prison"], envelope)["allowed"] is False
    assert _mail_check(client, keys["prison"], "J Doe, 3/14 High St, B1 1AA")["allowed"] is True
    with container.engine.connect() as conn:
        stored = conn.execute(select(contact_bar_items.c.value_enc)).scalar_one()
    assert container.cipher.decrypt(stored, F_ITEM) == "Flat 2, 14 HIGH STREET, BIRMINGHAM, B1 1AA"
    again = cli_env.invoke(cli, ["contact", "rekey-addresses"])
    assert "Re-keyed 0 barred addresses." in again.output


def test_rekeying_leaves_a_bar_it_cannot_read_better(
    client: TestClient, container: Container, cli_env: CliRunner
) -> None:
    """ "2/1 14 High St" was kept as building 2 on "1 14 HIGH STREET": read again it is no surer."""
    _bar_address(client, tokens(container), "2/1 14 High St")
    _store_as_earlier_versions_did(container, street="1 14 HIGH STREET")
    with container.engine.connect() as conn:
        before = conn.execute(select(contact_bar_items)).one()
    done = cli_env.invoke(cli, ["contact", "rekey-addresses"])
    assert "Re-keyed 0 barred addresses." in done.output
    with container.engine.connect() as conn:
        assert conn.execute(select(contact_bar_items)).one() == before
