"""Crime matching checked against an independent brute force on real data: the Liverpool route 14
buses (UK Bus Open Data Service via movingpandas-examples, OGL v3) as wearers and the Merseyside
street-crime locations of August 2021 (data.police.uk, OGL v3) as crime scenes, given time windows
on the buses' day."""

from __future__ import annotations

import csv
import functools
import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from pyproj import Geod

from tests.conftest import FIXTURES
from vigil.errors import ValidationError
from vigil.evidence.crime_parsing import parse_crimes
from vigil.evidence.crimes import Crime
from vigil.evidence.matching import (
    ALGORITHM_VERSION,
    ConfidenceLabel,
    MatchParameters,
    Scene,
    SpatialClass,
    TrackPoint,
    match_scenes,
)

BUSES = FIXTURES / "trajectories" / "liverpool_bus_route14_outbound.csv"
CRIMES = FIXTURES / "crime" / "2021-08-merseyside-street.csv"
_GEOD = Geod(ellps="WGS84")


@functools.cache
def load_bus_fixes() -> list[TrackPoint]:
    points = []
    with BUSES.open(newline="") as handle:
        for row in csv.DictReader(handle):
            fix_id = int(row["id"])
            # The buses report no accuracy; give most fixes a varied one (5..45 m) and leave some
            # without, so the accuracy rules and the default are both exercised.
            accuracy = None if fix_id % 7 == 0 else float(5 + (fix_id % 5) * 10)
            points.append(
                TrackPoint(
                    fix_id=fix_id,
                    person_id=f"bus-{row['vehicle_id']}",
                    time=datetime.fromisoformat(row["timestamp"]).replace(tzinfo=UTC),
                    lat=float(row["latitude"]),
                    lon=float(row["longitude"]),
                    accuracy_m=accuracy,
                )
            )
    return points


def crime_batch_near(points: list[TrackPoint]) -> str:
    return _crime_batch_near(tuple(points))


@functools.cache
def _crime_batch_near(points: tuple[TrackPoint, ...]) -> str:
    """The Merseyside crimes near the route as a headed CSV, each given a window on 2026-01-26
    (local time; January is GMT)."""
    lats = [p.lat for p in points]
    lons = [p.lon for p in points]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["reference", "type", "from", "to", "lat", "lon"])
    day = datetime(2026, 1, 26, 15, 40)
    with CRIMES.open(newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            lat, lon = float(row["Latitude"] or 0), float(row["Longitude"] or 0)
            if not (min(lats) - 0.01 <= lat <= max(lats) + 0.01):
                continue
            if not (min(lons) - 0.01 <= lon <= max(lons) + 0.01):
                continue
            start = day + timedelta(minutes=(line * 7) % 160)
            end = start + timedelta(minutes=10 + (line * 13) % 80)
            reference = row["Crime ID"][:16] or f"ASB-{line}"
            writer.writerow(
                [
                    reference,
                    row["Crime type"],
                    f"{start:%Y-%m-%d %H:%M}",
                    f"{end:%Y-%m-%d %H:%M}",
                    lat,
                    lon,
                ]
            )
    return out.getvalue()


def brute_force(
    crime: Crime, points: list[TrackPoint], params: MatchParameters
) -> dict[str, tuple[float, set[tuple[int, str]]]]:
    """Every fix against the scene with no pre-filtering: person → (closest d, {(fix, class)})."""
    lons, lats, seconds, accuracy = _columns(tuple(points), params.default_accuracy_m)
    _, _, dist = _GEOD.inv(
        np.full(len(points), crime.lon), np.full(len(points), crime.lat), lons, lats
    )
    start = (crime.window_from - params.padding_before).timestamp()
    end = (crime.window_to + params.padding_after).timestamp()
    usable = (seconds >= start) & (seconds <= end) & (accuracy <= params.max_accuracy_m)
    closest: dict[str, float] = {}
    within: dict[str, set[tuple[int, str]]] = {}
    for i in np.nonzero(usable)[0]:
        point, d, a = points[i], float(dist[i]), float(accuracy[i])
        closest[point.person_id] = min(closest.get(point.person_id, float("inf")), d)
        if d - a <= params.radius_m:
            kind = (
                "certain"
                if d + a <= params.radius_m
                else ("likely" if d <= params.radius_m else "possible")
            )
            within.setdefault(point.person_id, set()).add((point.fix_id, kind))
    return {person: (closest[person], fixes) for person, fixes in within.items()}


_COLUMNS: dict[tuple[int, float], tuple[np.ndarray, ...]] = {}


def _columns(points: tuple[TrackPoint, ...], default_accuracy: float) -> tuple[np.ndarray, ...]:
    key = (id(points[0]), default_accuracy)
    if key not in _COLUMNS:
        _COLUMNS[key] = (
            np.array([p.lon for p in points]),
            np.array([p.lat for p in points]),
            np.array([p.time.timestamp() for p in points]),
            np.array([default_accuracy if p.accuracy_m is None else p.accuracy_m for p in points]),
        )
    return _COLUMNS[key]


@pytest.fixture(scope="module")
def bus_fixes() -> list[TrackPoint]:
    return load_bus_fixes()


@pytest.fixture(scope="module")
def merseyside_crimes(bus_fixes: list[TrackPoint]) -> list[Crime]:
    result = parse_crimes(crime_batch_near(bus_fixes))
    assert result.errors == [] or all(e.field == "reference" for e in result.errors)
    return result.crimes


@pytest.mark.parametrize(
    "params",
    [
        MatchParameters(radius_m=100.0),
        MatchParameters(
            radius_m=250.0,
            padding_before=timedelta(0),
            padding_after=timedelta(0),
            max_accuracy_m=40.0,
            default_accuracy_m=20.0,
        ),
    ],
    ids=["default", "wide-no-padding"],
)
def test_matches_agree_with_a_geodesic_brute_force_on_real_buses_and_crimes(
    bus_fixes: list[TrackPoint], merseyside_crimes: list[Crime], params: MatchParameters
) -> None:
    assert len(merseyside_crimes) > 5_000
    scenes = [
        Scene(c.reference, c.lat, c.lon, c.window_from, c.window_to) for c in merseyside_crimes
    ]
    results = match_scenes(scenes, bus_fixes, params)
    matched_pairs = 0
    # The brute force costs a geodesic per (crime, fix); every fifth crime keeps it quick.
    for crime in merseyside_crimes[::5]:
        expected = brute_force(crime, bus_fixes, params)
        got = {m.person_id: m for m in results[crime.reference]}
        assert set(got) == set(expected), crime.reference
        for person, (closest, fixes) in expected.items():
            match = got[person]
            matched_pairs += 1
            assert match.closest_distance_m == pytest.approx(closest, abs=1e-6)
            assert {(f.fix_id, f.spatial.value) for f in match.fixes} == fixes
    # The check means something only if plenty of crimes do match some bus.
    assert matched_pairs > 50


def test_confidence_reflects_accuracy_and_the_time_padding() -> None:
    scene = Scene(
        "S",
        53.4,
        -2.9,
        datetime(2026, 1, 26, 16, tzinfo=UTC),
        datetime(2026, 1, 26, 17, tzinfo=UTC),
    )
    north = 53.4 + 50 / 111_250  # about 50 m north of the scene
    points = [
        TrackPoint(1, "precise", datetime(2026, 1, 26, 16, 30, tzinfo=UTC), north, -2.9, 5.0),
        TrackPoint(2, "vague", datetime(2026, 1, 26, 16, 30, tzinfo=UTC), north, -2.9, 80.0),
        TrackPoint(3, "early", datetime(2026, 1, 26, 15, 50, tzinfo=UTC), north, -2.9, 5.0),
        TrackPoint(4, "too-vague", datetime(2026, 1, 26, 16, 30, tzinfo=UTC), north, -2.9, 900.0),
        TrackPoint(5, "far", datetime(2026, 1, 26, 16, 30, tzinfo=UTC), 53.41, -2.9, 5.0),
    ]
    matches = {m.person_id: m for m in match_scenes([scene], points, MatchParameters())["S"]}
    assert set(matches) == {"precise", "vague", "early"}
    assert matches["precise"].label is ConfidenceLabel.HIGH
    assert matches["precise"].fixes[0].spatial is SpatialClass.CERTAIN
    assert matches["vague"].fixes[0].spatial is SpatialClass.LIKELY
    assert matches["early"].fixes[0].in_window is False
    assert matches["early"].confidence < matches["precise"].confidence
    assert matches["precise"].closest_distance_m == pytest.approx(50, abs=1)


def test_bad_parameters_are_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        match_scenes([], [], MatchParameters(radius_m=0, padding_after=timedelta(hours=9)))
    assert {e.field for e in caught.value.errors} == {"radius_m", "padding_after"}


def test_the_algorithm_version_is_stated() -> None:
    assert ALGORITHM_VERSION.startswith("vigil-crime-match/")
