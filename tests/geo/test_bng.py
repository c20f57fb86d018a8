"""British National Grid conversion checked against the ONS Postcode Directory extract, which gives
every postcode in both systems (ONSPD via postcodes.io test seed, OGL; contains OS data © Crown
copyright)."""

from __future__ import annotations

import csv

import numpy as np
from pyproj import Geod

from tests.conftest import FIXTURES
from vigil.geo import bng

ONSPD = FIXTURES / "postcodes" / "onspd-extract.csv"
_GEOD = Geod(ellps="WGS84")


def _postcodes_with_coordinates() -> list[dict[str, str]]:
    with ONSPD.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    # JE2 4WD and friends carry the "no coordinates" placeholder (lat 99.999999, no grid ref).
    return [r for r in rows if r["oseast1m"] and r["lat"] and float(r["lat"]) < 90]


def test_grid_references_convert_to_the_published_latitude_and_longitude() -> None:
    rows = _postcodes_with_coordinates()
    assert len(rows) > 8_000
    eastings = np.array([float(r["oseast1m"]) for r in rows])
    northings = np.array([float(r["osnrth1m"]) for r in rows])
    lats, lons = bng.bng_to_wgs84_many(eastings, northings)
    expected_lats = np.array([float(r["lat"]) for r in rows])
    expected_lons = np.array([float(r["long"]) for r in rows])
    _, _, error = _GEOD.inv(lons, lats, expected_lons, expected_lats)
    # Grid references are whole metres and the offline transformation is good to ~2 m; a few
    # dozen ONSPD rows place lat/long from a different source than the grid reference (hundreds
    # of metres apart), so the check is on the distribution, not on every row.
    assert float(np.median(error)) < 0.5
    assert float(np.percentile(error, 99)) < 2.5
    assert (error > 10).sum() < len(rows) * 0.005


def test_single_conversion_agrees_with_the_vectorised_one_and_round_trips() -> None:
    row = _postcodes_with_coordinates()[0]
    lat, lon = bng.bng_to_wgs84(float(row["oseast1m"]), float(row["osnrth1m"]))
    assert abs(lat - float(row["lat"])) < 1e-4
    assert abs(lon - float(row["long"])) < 1e-4
    easting, northing = bng.wgs84_to_bng(lat, lon)
    assert abs(easting - float(row["oseast1m"])) < 0.01
    assert abs(northing - float(row["osnrth1m"])) < 0.01


def test_the_transformation_used_is_named_for_the_record() -> None:
    assert "British National Grid" in bng.transformation_description()
