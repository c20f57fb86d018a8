"""The ONS Postcode Directory loader and geocoding, on SQLite and PostgreSQL, with the real
extract: terminated postcodes, the no-coordinates placeholder and every spelling of a postcode."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from vigil.bootstrap import Container
from vigil.errors import ValidationError
from vigil.geo import postcodes

ONSPD = FIXTURES / "postcodes" / "onspd-extract.csv"


def _load(container: Container, path: Path = ONSPD) -> postcodes.LoadReport:
    with container.uow() as uow:
        result = postcodes.load(uow, path, actor="test")
        uow.commit()
    return result


def test_the_extract_loads_with_terminated_and_coordinate_less_postcodes_kept(
    container: Container,
) -> None:
    report = _load(container)
    assert report.rows == report.loaded == 8048
    assert report.rejected == []
    assert report.terminated == 3811
    assert report.without_coordinates >= 1
    with container.uow() as uow:
        assert postcodes.count(uow) == 8048
        jersey = postcodes.find(uow, "je2 4wd")
        terminated = postcodes.find(uow, "SE1 9ZZ")
    assert jersey is not None
    assert jersey.lat is None
    assert jersey.lon is None
    assert terminated is not None
    assert terminated.terminated_on == date(1998, 12, 1)


def test_loading_twice_updates_rather_than_duplicates(container: Container) -> None:
    _load(container)
    again = _load(container)
    assert again.loaded == 8048
    with container.uow() as uow:
        assert postcodes.count(uow) == 8048


def test_any_spelling_of_a_live_postcode_geocodes_to_its_centroid(container: Container) -> None:
    _load(container)
    for spelling in ("SE1 2DL", "se12dl", " SE1  2DL ", "Se1 2dL"):
        with container.uow() as uow:
            found = postcodes.geocode(uow, spelling)
        assert found.display == "SE1 2DL"
        assert (found.lat, found.lon) == (51.498972, -0.071609)
        assert found.police_force == "E23000001"


def test_the_seven_character_form_with_a_double_space_is_read(container: Container) -> None:
    _load(container)
    with container.uow() as uow:
        assert postcodes.geocode(uow, "M1 1AD").display == "M1 1AD"
        assert postcodes.geocode(uow, "SE1P 5ZZ").display == "SE1P 5ZZ"


REFUSALS = [
    ("SE1 9ZZ", "SE1 9ZZ was terminated in December 1998; use the current postcode"),
    ("JE2 4WD", "JE2 4WD has no coordinates in the directory; place the zone on the map"),
    ("B23 5XX", "B23 5XX is not in the loaded postcode directory"),
    ("not a postcode", "Enter a real postcode, like SE1 2DL"),
    ("", "Enter a postcode"),
]


def test_a_postcode_that_cannot_place_a_zone_says_why(container: Container) -> None:
    _load(container)
    for typed, reason in REFUSALS:
        with container.uow() as uow, pytest.raises(ValidationError) as caught:
            postcodes.geocode(uow, typed, field="exclusion_postcode")
        assert caught.value.field == "exclusion_postcode"
        assert caught.value.reason == reason


def test_a_file_that_is_not_onspd_is_refused_whole(container: Container, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("name,lat\nSE1 2DL,51.5\n")
    with pytest.raises(ValidationError) as caught:
        _load(container, wrong)
    assert caught.value.field == "file"
    assert "pcds" in caught.value.reason
    assert "long" in caught.value.reason
    with container.uow() as uow:
        assert postcodes.count(uow) == 0


def test_bad_rows_are_reported_by_line_and_the_rest_load(
    container: Container, tmp_path: Path
) -> None:
    lines = ONSPD.read_text().splitlines()
    header, good = lines[0], lines[1]
    columns = header.split(",")
    bad_coords = good.split(",")
    bad_coords[columns.index("lat")] = "north"
    bad_code = good.split(",")
    for name in ("pcd7", "pcd8", "pcds"):
        bad_code[columns.index(name)] = "12345"
    outside = good.split(",")
    outside[columns.index("lat")] = "40.0"
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join([header, good, ",".join(bad_coords), ",".join(bad_code),
                               ",".join(outside)]) + "\n")  # fmt: skip
    report = _load(container, path)
    assert report.loaded == 1
    assert [line for line, _reason in report.rejected] == [3, 4, 5]
    assert "lat/long are not numbers" in report.rejected[0][1]
    assert "not a UK postcode" in report.rejected[1][1]
    assert "outside the United Kingdom" in report.rejected[2][1]


def test_the_command_loads_a_file_and_reports_counts(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import TEST_KEYS, TEST_SECRET
    from vigil.cli import app

    monkeypatch.setenv("VIGIL_DATABASE_URL", db_url)
    monkeypatch.setenv("VIGIL_ENVIRONMENT", "test")
    monkeypatch.setenv("VIGIL_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("VIGIL_FIELD_ENCRYPTION_KEYS", TEST_KEYS)
    runner = CliRunner()
    loaded = runner.invoke(app, ["geo", "load-postcodes", str(ONSPD)])
    assert loaded.exit_code == 0, loaded.output
    assert "8048 of 8048 postcodes loaded: 3811 terminated" in loaded.output
    found = runner.invoke(app, ["geo", "geocode", "m11 1aa"])
    assert found.exit_code == 0
    assert "M11 1AA: 53.473628, -2.172086" in found.output
    refused = runner.invoke(app, ["geo", "geocode", "SE1 9ZZ"])
    assert refused.exit_code == 1
    assert "terminated" in refused.output
    missing = runner.invoke(app, ["geo", "load-postcodes", "/nonexistent.csv"])
    assert missing.exit_code == 2
