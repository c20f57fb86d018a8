"""Trail and match exports: spreadsheet-safe CSV and well-formed GeoJSON, GPX and KML."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from vigil.evidence.exports import TrailPoint, export_trail, safe_cell, write_csv

POINTS = [
    TrailPoint(1, datetime(2026, 1, 26, 16, tzinfo=UTC), 53.4, -2.9, 5.0, "d1"),
    TrailPoint(2, datetime(2026, 1, 26, 16, 1, tzinfo=UTC), 53.41, -2.91, None, "d1"),
]


def test_cells_a_spreadsheet_would_run_are_neutralised() -> None:
    for text in ('=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)", "\tx"):
        assert safe_cell(text).startswith("'")
    assert safe_cell(-2.5) == "-2.5"  # real numbers stay numbers
    rows = list(csv.reader(io.StringIO(write_csv(["a"], [["=1+1"]]))))
    assert rows[1] == ["'=1+1"]


def test_trail_exports_are_well_formed_in_every_format() -> None:
    geo = json.loads(export_trail("geojson", "p1", POINTS))
    assert geo["features"][0]["geometry"]["coordinates"] == [[-2.9, 53.4], [-2.91, 53.41]]
    gpx = ET.fromstring(export_trail("gpx", "p1", POINTS))  # noqa: S314 (our own output)
    assert len(gpx.findall(".//{http://www.topografix.com/GPX/1/1}trkpt")) == 2
    kml = ET.fromstring(export_trail("kml", "p1", POINTS))  # noqa: S314 (our own output)
    assert len(kml.findall(".//{http://www.opengis.net/kml/2.2}Placemark")) == 3
    rows = list(csv.DictReader(io.StringIO(export_trail("csv", "p1", POINTS))))
    assert [r["fix_id"] for r in rows] == ["1", "2"]
