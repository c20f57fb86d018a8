"""Polygon exclusion zones in the engine: holes are outside, multipolygons are all inside."""

from __future__ import annotations

from pathlib import Path

from tests.engine.helpers import LAT0, LON0, Stream, at, of_kind, run, scenario


def ring(west: float, south: float, east: float, north: float) -> list[list[float]]:
    corners = [at(west, south), at(east, south), at(east, north), at(west, north), at(west, south)]
    return [[lon, lat] for lon, lat in corners]


def test_a_wearer_in_the_hole_of_a_polygon_is_not_in_the_zone(tmp_path: Path) -> None:
    # A 1 km square zone with a 400 m hole in the middle (say, the wearer's own workplace).
    zone = {
        "id": "Z2",
        "type": "exclusion_zone",
        "geometry": {
            "type": "Polygon",
            "coordinates": [ring(-500, -500, 500, 500), ring(-200, -200, 200, 200)],
        },
    }
    in_hole = Stream().walk(0, 1200, 10, 0, 0)
    records, _ = run(scenario(zone), in_hole, tmp_path)
    assert of_kind(records, "exclusion_zone") == []
    (tmp_path / "ring").mkdir()
    in_ring = Stream().walk(0, 1200, 10, 350, 350)
    records, _ = run(scenario(zone), in_ring, tmp_path / "ring")
    assert len(of_kind(records, "exclusion_zone")) == 1
    assert at(0, 0) == (LON0, LAT0)


def test_each_part_of_a_multipolygon_is_part_of_the_zone(tmp_path: Path) -> None:
    zone = {
        "id": "Z3",
        "type": "exclusion_zone",
        "geometry": {
            "type": "MultiPolygon",
            "coordinates": [[ring(-300, -300, -100, -100)], [ring(100, 100, 300, 300)]],
        },
    }
    stream = Stream().walk(0, 300, 10, -200, -200, north=-200).walk(310, 600, 10, 0, 0)
    stream.walk(610, 900, 10, 200, 200, north=200)
    records, _ = run(scenario(zone), stream, tmp_path)
    assert len(of_kind(records, "exclusion_zone")) == 2
