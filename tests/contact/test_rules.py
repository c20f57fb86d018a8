from __future__ import annotations

from datetime import date

import pytest

from tests.contact.helpers import REGISTER_CSV
from vigil.contact import addresses
from vigil.contact.matching import RegisteredPrisoner, dob_relation, rank
from vigil.contact.model import neutralise_csv_cell
from vigil.contact.phones import NotAPhoneNumber, to_e164
from vigil.errors import ValidationError


@pytest.mark.parametrize(
    "dialled",
    [
        "+44 (0)7700 900123",
        "07700 900123",
        "0044 7700 900123",
        "447700900123",
        "+447700900123",
        "07700-900-123",
    ],
)
def test_every_uk_way_of_writing_a_mobile_is_one_e164_number(dialled: str) -> None:
    assert to_e164(dialled) == "+447700900123"


@pytest.mark.parametrize("dialled", ["", "12", "hello", "0" * 41])
def test_what_is_not_a_number_is_refused(dialled: str) -> None:
    with pytest.raises(NotAPhoneNumber):
        to_e164(dialled)


@pytest.mark.parametrize("written", ["b11aa", "B1 1AA", "b1  1aa", " B11AA "])
def test_postcodes_written_differently_agree(written: str) -> None:
    assert addresses.normalise_postcode(written) == "B1 1AA"


def test_envelope_parts_are_read_from_one_line_or_many() -> None:
    one_line = addresses.parse("J Smith 14 High St Birmingham B11AA")
    many = addresses.parse("Mrs J Smith\n14 High Street\nBirmingham\nB1 1AA")
    assert one_line == many
    assert many.building == "14"
    assert many.street == "HIGH STREET"
    named = addresses.parse("Mrs Jones\nRose Cottage\nMill Lane\nFakenham NR21 0AA")
    assert named.building == "ROSE COTTAGE"
    assert addresses.parse("Flat 3B, 7 Park Ave, London SW1A1AA").flat == "3B"


def test_another_flat_in_the_same_building_is_not_the_barred_address() -> None:
    barred = addresses.from_lines(["Flat 2", "14 High Street", "Birmingham"], "B1 1AA")
    same = addresses.compare(addresses.parse("X, Flat 2, 14 High St, b11aa"), barred)
    other = addresses.compare(addresses.parse("X, Flat 3, 14 High St, b11aa"), barred)
    assert same.score >= addresses.HOLD_THRESHOLD > other.score


def _prisoners() -> list[RegisteredPrisoner]:
    out = []
    for i, line in enumerate(REGISTER_CSV.strip().splitlines()[1:], start=1):
        number, forenames, surname, aliases, dob, establishment, _ = line.split(",")
        out.append(
            RegisteredPrisoner(
                i,
                number,
                forenames,
                surname,
                tuple(a for a in aliases.split(";") if a),
                date.fromisoformat(dob),
                establishment,
                None,
            )
        )
    return out


@pytest.mark.parametrize(
    ("name", "dob", "expected"),
    [
        ("Jonathon Smith", date(1985, 3, 7), "A1234BC"),
        ("Jon Smith", None, "A1234BC"),  # an alias
        ("Kevin Docherty", date(1979, 11, 23), "C3456DE"),
        ("Steven Clark", date(1985, 3, 7), "D4567EF"),
        ("Stephen Clarke", date(1985, 7, 3), "D4567EF"),  # day and month swapped
    ],
)
def test_misspelt_names_still_rank_the_right_prisoner_first(
    name: str, dob: date | None, expected: str
) -> None:
    found = rank(_prisoners(), name=name, date_of_birth=dob, prison_number=None)
    assert found[0].prisoner.prison_number == expected


def test_a_date_of_birth_alone_is_not_a_candidate() -> None:
    assert (
        rank(_prisoners(), name="Zebedee Quux", date_of_birth=date(1985, 3, 7), prison_number=None)
        == []
    )
    assert dob_relation(date(1985, 7, 3), date(1985, 3, 7)) == "transposed"


@pytest.mark.parametrize("cell", ["=1+1", "+44", "-1", "@SUM(A1)"])
def test_csv_cells_that_look_like_formulas_are_neutralised(cell: str) -> None:
    assert neutralise_csv_cell(cell) == "'" + cell


def test_register_import_names_the_bad_row_and_writes_nothing(container) -> None:  # type: ignore[no-untyped-def]
    from vigil.contact import register

    bad = REGISTER_CSV + "Z99,Bad,Row,,1985-13-01,,\n"
    with container.uow() as uow, pytest.raises(ValidationError) as raised:
        register.import_prisoners(uow, bad, actor="test")
    assert raised.value.field == "row 6.prison_number"
    with container.uow() as uow:
        assert register.register_size(uow) == 0
        assert register.import_prisoners(uow, REGISTER_CSV, actor="test") == 4
        assert register.import_prisoners(uow, REGISTER_CSV, actor="test") == 4
        assert register.register_size(uow) == 4


def test_demo_seed_loads_a_register_and_one_request_once(container) -> None:  # type: ignore[no-untyped-def]
    from vigil.contact import demo

    reference = demo.seed(container)
    assert reference is not None
    assert reference.startswith("UPC-")
    assert demo.seed(container) is None
