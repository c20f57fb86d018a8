"""Real trajectories through ``vigil engine replay``: 1,533 GPS fixes from eight Liverpool buses.

Source: UK Bus Open Data Service via movingpandas/movingpandas-examples (Open Government Licence
v3), ``tests/fixtures/trajectories/liverpool_bus_route14_outbound.csv``. Each bus plays a
wearer. Zones are placed on the route; which buses must (and must not) be found inside each zone
is worked out independently of the engine: geodesic distances on the WGS84 ellipsoid (pyproj.Geod)
for circles, and shapely in the British National Grid (pyproj, EPSG:27700) for the polygon.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import shape
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from vigil.cli import app

TRAJECTORIES = FIXTURES / "trajectories" / "liverpool_bus_route14_outbound.csv"
ACCURACY = 10.0
GEOD = Geod(ellps="WGS84")
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def _buses() -> pl.DataFrame:
    return pl.read_csv(TRAJECTORIES).select(
        pl.col("vehicle_id").cast(pl.Utf8).alias("device"),
        (pl.col("timestamp").str.replace(" ", "T") + "Z").alias("time"),
        pl.col("latitude").alias("lat"),
        pl.col("longitude").alias("lon"),
    )


def _zones(buses: pl.DataFrame) -> list[dict[str, Any]]:
    def point(row: int) -> list[float]:
        return [float(buses["lon"][row]), float(buses["lat"][row])]

    lon, lat = point(700)
    d_lon, d_lat = 0.004, 0.0025  # roughly 270 m by 280 m
    square = [
        [lon - d_lon, lat - d_lat],
        [lon + d_lon, lat - d_lat],
        [lon + d_lon, lat + d_lat],
        [lon - d_lon, lat + d_lat],
        [lon - d_lon, lat - d_lat],
    ]
    return [
        {
            "id": "C1",
            "type": "exclusion_zone",
            "geometry": {"type": "Point", "coordinates": point(300)},
            "radius_m": 150,
        },
        {
            "id": "C2",
            "type": "exclusion_zone",
            "geometry": {"type": "Point", "coordinates": point(1000)},
            "radius_m": 250,
        },
        {
            "id": "S1",
            "type": "exclusion_zone",
            "geometry": {"type": "Polygon", "coordinates": [square]},
        },
        # Manchester: no bus on route 14 goes there.
        {
            "id": "M1",
            "type": "exclusion_zone",
            "geometry": {"type": "Point", "coordinates": [-2.2426, 53.4808]},
            "radius_m": 400,
        },
    ]


def _signed_distances(zone: dict[str, Any], lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    geometry = zone["geometry"]
    if geometry["type"] == "Point":
        cx, cy = geometry["coordinates"]
        return (
            GEOD.inv(np.full(lon.size, cx), np.full(lon.size, cy), lon, lat)[2] - zone["radius_m"]
        )
    polygon = shapely.transform(
        shape(geometry), lambda c: np.column_stack(TO_BNG.transform(c[:, 0], c[:, 1]))
    )
    x, y = TO_BNG.transform(lon, lat)
    distance = shapely.distance(polygon.boundary, shapely.points(x, y))
    return np.where(shapely.contains_xy(polygon, x, y), -distance, distance)


def _expected(buses: pl.DataFrame, zones: list[dict[str, Any]]) -> tuple[dict, set]:
    """Runs of at least two consecutive fixes whose accuracy disc is inside (must be found), and
    (bus, zone) pairs with no reported point inside at all (must raise nothing)."""
    must: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    never: set[tuple[str, str]] = set()
    for device, track in buses.sort("time").group_by("device", maintain_order=True):
        times = np.array(
            [datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() for t in track["time"]]
        )
        lon, lat = track["lon"].to_numpy(), track["lat"].to_numpy()
        for zone in zones:
            d = _signed_distances(zone, lon, lat)
            key = (str(device[0]), zone["id"])
            if not (d < 0).any():
                never.add(key)
                continue
            inside = d <= -ACCURACY
            i = 0
            while i < len(d):
                if (
                    inside[i]
                    and i + 1 < len(d)
                    and inside[i + 1]
                    and times[i + 1] - times[i] <= 300
                ):
                    # The entry lies after the last reported point outside before this run.
                    outside = np.flatnonzero(d[:i] >= 0)
                    before = times[outside[-1]] if outside.size else times[0]
                    must.setdefault(key, []).append((before, times[i], times[i + 1]))
                    while i < len(d) and d[i] < ACCURACY:
                        i += 1
                i += 1
    return must, never


def _replay(
    tmp_path: Path, buses: pl.DataFrame, zones: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    fixes = buses.with_columns(pl.lit(ACCURACY).alias("accuracy_m"))
    fixes.write_csv(tmp_path / "fixes.csv")
    devices = sorted(set(buses["device"]))
    scenario = {
        "persons": [{"id": f"bus-{d}", "devices": [d], "conditions": zones} for d in devices]
    }
    (tmp_path / "scenario.json").write_text(json.dumps(scenario))
    out = tmp_path / "events.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "engine",
            "replay",
            str(tmp_path / "scenario.json"),
            str(tmp_path / "fixes.csv"),
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in out.read_text().splitlines()]


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).timestamp()


@pytest.fixture(scope="module")
def buses() -> pl.DataFrame:
    return _buses()


def test_every_entry_the_geodesics_show_is_raised_and_no_bus_is_placed_where_it_never_was(
    tmp_path: Path, buses: pl.DataFrame
) -> None:
    zones = _zones(buses)
    must, never = _expected(buses, zones)
    assert must
    assert never
    records = _replay(tmp_path, buses.sort("time"), zones)
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in records:
        if record["kind"] == "exclusion_zone":
            found.setdefault(
                (record["person"].removeprefix("bus-"), record["condition"]), []
            ).append(record)
    for key, runs in must.items():
        episodes = found.get(key, [])
        for before, first_in, second_in in runs:
            matching = [
                e
                for e in episodes
                if before - 1 <= _ts(e["start"]) <= first_in + 1
                and _ts(e["raised_at"]) <= second_in + 1
            ]
            assert matching, f"bus {key[0]} in zone {key[1]} at {first_in} was not raised in time"
    for key in never:
        assert key not in found, f"bus {key[0]} was placed in zone {key[1]}"
    assert all(record["retrospective"] is False for record in records)


def test_the_same_trails_uploaded_bus_by_bus_give_the_same_violations_marked_retrospective(
    tmp_path: Path, buses: pl.DataFrame
) -> None:
    zones = _zones(buses)
    (tmp_path / "live").mkdir()
    (tmp_path / "upload").mkdir()
    live = _replay(tmp_path / "live", buses.sort("time"), zones)
    uploaded = _replay(tmp_path / "upload", buses, zones)  # the file's order: one bus after another

    def key(record: dict[str, Any]) -> tuple[Any, ...]:
        return (record["id"], record["start"], record["end"])

    violations = [r for r in live if r["kind"] == "exclusion_zone"]
    late = [r for r in uploaded if r["kind"] == "exclusion_zone"]
    assert sorted(map(key, violations)) == sorted(map(key, late))
    assert any(r["retrospective"] for r in late)
