"""Crime batch parsing: the police batch format and the headed CSV, row by row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import FIXTURES
from vigil.evidence.crime_parsing import local_to_utc, parse_crimes
from vigil.evidence.crimes import POLICE_BATCH_COLUMNS, CrimeFormat
from vigil.geo import bng

EXAMPLE = FIXTURES / "crime" / "police-crime-batch-example.csv"
MERSEYSIDE = FIXTURES / "crime" / "2021-08-merseyside-street.csv"
GOOD = "Metropolitan,TOMV,desc,MPS20250126,{ref},20250125083000,20250125093000,,,51.5,-0.12,WGS84,"


def test_the_forces_example_row_is_accepted_as_a_police_batch() -> None:
    result = parse_crimes(EXAMPLE.read_text())
    assert result.format is CrimeFormat.POLICE_BATCH
    assert result.errors == []
    [crime] = result.crimes
    assert crime.reference == "CRI00000001"
    assert crime.crime_type == "TOMV"
    assert crime.force == "Metropolitan"
    assert crime.batch_id == "MPS20250126"
    assert (crime.lat, crime.lon) == pytest.approx((54.73241, -1.38542))
    assert crime.window_from == datetime(2025, 1, 25, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        (GOOD.format(ref=""), "crimeReference", "missing"),
        (GOOD.format(ref="R1").replace("TOMV", "XYZ"), "crimeTypeId", "not a known crime type"),
        (GOOD.format(ref="R1").replace("Metropolitan", "Atlantis"), "policeForce", "not a known"),
        (GOOD.format(ref="R1").replace("MPS20250126", "MPS2025"), "batchId", "force code"),
        (GOOD.format(ref="R1").replace("MPS20250126", "MPS20251399"), "batchId", "real date"),
        (GOOD.format(ref="R1").replace("MPS20250126", "KNT20250126"), "batchId", "MPS"),
        (
            GOOD.format(ref="R1").replace("20250125093000", "20250125073000"),
            "crimeDateTimeTo",
            "from after to",
        ),
        (
            GOOD.format(ref="R1").replace("20250125093000", "20250125213001"),
            "crimeDateTimeTo",
            "too long",
        ),
        (
            GOOD.format(ref="R1").replace("20250125083000", "2025-01-25"),
            "crimeDateTimeFrom",
            "yyyyMMddHHmmss",
        ),
        (GOOD.format(ref="R1").replace("51.5,-0.12", ","), "location", "missing"),
        (GOOD.format(ref="R1").replace(",,51.5", "530000,180000,51.5"), "location", "not both"),
        (GOOD.format(ref="R1").replace("51.5,-0.12", "71.5,-0.12"), "latitude", "outside"),
        (GOOD.format(ref="R1").replace("51.5,-0.12", "51.5,abc"), "longitude", "not a number"),
        (GOOD.format(ref="R1").replace("51.5,-0.12", "51.5,"), "longitude", "missing"),
        (
            GOOD.format(ref="R1").replace(",,,51.5,-0.12,WGS84", ",700000,180000,,,OSGB36"),
            "easting",
            "outside",
        ),
        (GOOD.format(ref="R1") + ",extra", "row", "has 13"),
    ],
)
def test_each_kind_of_bad_police_row_gets_its_own_error(row: str, field: str, reason: str) -> None:
    good = GOOD.format(ref="GOOD1")
    result = parse_crimes(f"{good}\n{row}\n{GOOD.format(ref='GOOD2')}\n")
    assert [c.reference for c in result.crimes] == ["GOOD1", "GOOD2"]
    assert result.errors, "the bad row was accepted"
    assert all(error.row == 2 for error in result.errors)
    assert any(e.field == field and reason in e.reason for e in result.errors), result.errors


def test_a_bad_row_with_several_problems_reports_each_of_them() -> None:
    row = "Atlantis,XYZ,d,MPS20250126,R9,20250125093000,20250125083000,,,,,,"
    result = parse_crimes(row)
    fields = {error.field for error in result.errors}
    assert {"policeForce", "crimeTypeId", "crimeDateTimeTo", "location"} <= fields
    assert all(error.reference == "R9" for error in result.errors)


def test_a_duplicated_reference_is_an_error_on_the_second_row_only() -> None:
    result = parse_crimes(f"{GOOD.format(ref='A')}\n{GOOD.format(ref='A')}\n")
    assert [c.row for c in result.crimes] == [1]
    assert [(e.row, e.field) for e in result.errors] == [(2, "crimeReference")]


def test_grid_references_are_converted_to_wgs84() -> None:
    row = "Merseyside,BIAD,d,MER20260126,G1,20260126160000,20260126170000,334000,390000,,,OSGB36,"
    [crime] = parse_crimes(row).crimes
    assert (crime.easting, crime.northing) == (334000, 390000)
    assert (crime.lat, crime.lon) == pytest.approx(bng.bng_to_wgs84(334000, 390000))
    assert 53.3 < crime.lat < 53.5


HEADER = "reference,type,from,to,lat,lon,easting,northing\n"


def test_headed_rows_read_local_time_in_winter_as_utc() -> None:
    result = parse_crimes(HEADER + "H1,Burglary,2026-01-26 16:00,2026-01-26 17:30,53.4,-2.9,,\n")
    assert result.format is CrimeFormat.HEADED
    [crime] = result.crimes
    assert crime.crime_type == "BURGLARY"
    assert crime.window_from == datetime(2026, 1, 26, 16, 0, tzinfo=UTC)


def test_headed_rows_in_summer_time_are_an_hour_ahead_of_utc() -> None:
    text = HEADER + "S1,RB,2026-03-29 09:00,2026-03-29 10:00,53.4,-2.9,,\n"
    [crime] = parse_crimes(text).crimes
    assert crime.window_from == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    text = HEADER + "S2,RB,2026-03-29 00:30,2026-03-29 03:30,53.4,-2.9,,\n"
    [crime] = parse_crimes(text).crimes
    # 00:30 GMT to 03:30 BST spans the lost hour: two hours of real time, not three.
    assert crime.window_from == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert crime.window_to == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)


def test_a_time_the_clocks_skipped_is_an_error_naming_the_field() -> None:
    result = parse_crimes(HEADER + "S3,RB,2026-03-29 01:30,2026-03-29 04:00,53.4,-2.9,,\n")
    assert result.crimes == []
    [error] = result.errors
    assert error.field == "from"
    assert "clocks went forward" in error.reason


def test_the_repeated_autumn_hour_widens_the_window_to_cover_both_readings() -> None:
    text = HEADER + "A1,RB,2026-10-25 01:15,2026-10-25 01:45,53.4,-2.9,,\n"
    [crime] = parse_crimes(text).crimes
    assert crime.window_from == datetime(2026, 10, 25, 0, 15, tzinfo=UTC)  # 01:15 BST
    assert crime.window_to == datetime(2026, 10, 25, 1, 45, tzinfo=UTC)  # 01:45 GMT


def test_explicit_offsets_are_honoured_instead_of_local_time() -> None:
    text = HEADER + "O1,RB,2026-07-01T10:00:00Z,2026-07-01T11:00:00+01:00,53.4,-2.9,,\n"
    [crime] = parse_crimes(text).crimes
    assert crime.window_from == crime.window_to == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


def test_headed_bad_rows_each_get_errors_while_good_rows_proceed() -> None:
    text = HEADER + (
        "G1,Drugs,2026-01-26 16:00,2026-01-26 17:00,53.4,-2.9,,\n"
        ",Drugs,2026-01-26 16:00,2026-01-26 17:00,53.4,-2.9,,\n"
        "B2,Drugs,2026-01-26 16:00,2026-01-26 17:00,91,-2.9,,\n"
        "B3,Drugs,2026-01-26 16:00,2026-01-27 17:00,53.4,-2.9,,\n"
        "B4,Drugs,2026-01-26 18:00,2026-01-26 17:00,53.4,-2.9,,\n"
        "B5,Arson of dreams,2026-01-26 16:00,2026-01-26 17:00,53.4,-2.9,,\n"
        "G2,vehicle crime,26/01/2026 16:00,26/01/2026 17:00,,,334000,390000\n"
    )
    result = parse_crimes(text)
    assert [c.reference for c in result.crimes] == ["G1", "G2"]
    by_row = {e.row: (e.field, e.reason) for e in result.errors}
    assert by_row[3] == ("reference", "missing")
    assert by_row[4][0] == "lat"
    assert "too long" in by_row[5][1]
    assert "from after to" in by_row[6][1]
    assert by_row[7][0] == "type"
    assert result.failed_rows == 5


def test_a_header_without_the_needed_columns_is_one_clear_refusal() -> None:
    result = parse_crimes("reference,type\nX,RB\n")
    assert (result.errors, result.crimes) == ([], [])
    assert result.refusal is not None
    assert "missing from, to" in result.refusal
    assert "no lat, lon or easting, northing columns" in result.refusal
    assert "Expected a header naming reference, type, from, to" in result.refusal


def test_a_data_police_uk_download_is_refused_naming_what_was_expected_and_found() -> None:
    # The real street-level file (fixtures README: data.police.uk, OGL v3.0), as officers send it.
    head = "".join(MERSEYSIDE.read_text().splitlines(keepends=True)[:630])
    result = parse_crimes(head)
    assert result.rows == 0, "no row is read one by one"
    assert result.errors == []
    assert result.refusal is not None
    assert "missing reference, from, to" in result.refusal
    assert "not recognised: Crime ID, Month, Reported by, Falls within, Location" in result.refusal
    assert "data.police.uk street-level crime download" in result.refusal
    assert "Crime type" not in result.refusal.split("not recognised:")[1].split(")")[0]


@pytest.mark.parametrize(
    ("header", "found"),
    [
        ("reference,type,from,to,lat,lon,notes", "not recognised: notes"),
        ("reference,type,from,to,lat,lon,", "not recognised: (blank column 7)"),
        ("reference,ref,type,from,to,lat,lon", "given twice: reference"),
        ("reference,type,from,to,lat,northing", "no lat, lon or easting, northing"),
    ],
)
def test_any_header_that_is_not_the_expected_columns_is_refused_whole(
    header: str, found: str
) -> None:
    result = parse_crimes(f"{header}\nH1,RB,2026-01-26 16:00,2026-01-26 17:00,53.4,-2.9,x\n")
    assert result.refusal is not None
    assert found in result.refusal
    assert result.crimes == []


def test_the_police_batch_may_carry_its_own_column_names_as_a_header() -> None:
    header = ",".join(POLICE_BATCH_COLUMNS)
    result = parse_crimes(f"{header}\n{GOOD.format(ref='A')}\n")
    assert result.format is CrimeFormat.POLICE_BATCH
    assert [(c.reference, c.row) for c in result.crimes] == [("A", 2)]
    assert result.errors == []


def test_empty_files_are_refused() -> None:
    assert parse_crimes("").refusal == "The file has no rows."
    assert parse_crimes("\ufeff\n , \n").refusal == "The file has no rows."


def test_local_to_utc_names_the_gap() -> None:
    from zoneinfo import ZoneInfo

    with pytest.raises(ValueError, match="clocks went forward"):
        local_to_utc(datetime(2026, 3, 29, 1, 0), ZoneInfo("Europe/London"), earliest=True)
