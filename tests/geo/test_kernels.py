"""The vectorised zone kernel against shapely in the same plane, and holes/multipolygons."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import shape

from vigil.geo.kernels import ZoneShape, compile_zones, signed_distance
from vigil.geo.projection import LocalPlane, step_metres

SQUARE_WITH_HOLE = {
    "type": "Polygon",
    "coordinates": [
        [[-1.90, 52.40], [-1.80, 52.40], [-1.80, 52.46], [-1.90, 52.46], [-1.90, 52.40]],
        [[-1.86, 52.42], [-1.84, 52.42], [-1.84, 52.44], [-1.86, 52.44], [-1.86, 52.42]],
    ],
}
TWO_PARTS = {
    "type": "MultiPolygon",
    "coordinates": [
        [[[-2.0, 53.0], [-1.99, 53.0], [-1.99, 53.01], [-2.0, 53.0]]],
        [[[-1.98, 53.0], [-1.97, 53.0], [-1.97, 53.01], [-1.98, 53.01], [-1.98, 53.0]]],
    ],
}


def _shapely_signed(
    geometry: dict, lon: np.ndarray, lat: np.ndarray, plane: LocalPlane
) -> np.ndarray:
    projected = shapely.transform(
        shape(geometry), lambda c: np.column_stack(plane.forward(c[:, 0], c[:, 1]))
    )
    x, y = plane.forward(lon, lat)
    distance = shapely.distance(projected.boundary, shapely.points(x, y))
    return np.where(shapely.contains_xy(projected, x, y), -distance, distance)


def test_polygon_signed_distance_matches_shapely_including_the_hole() -> None:
    zones = compile_zones([ZoneShape(SQUARE_WITH_HOLE), ZoneShape(TWO_PARTS)])
    rng = np.random.default_rng(3)
    for index, geometry, box in (
        (0, SQUARE_WITH_HOLE, (-1.95, 52.37, -1.75, 52.49)),
        (1, TWO_PARTS, (-2.01, 52.99, -1.96, 53.02)),
    ):
        lon = rng.uniform(box[0], box[2], 20_000)
        lat = rng.uniform(box[1], box[3], 20_000)
        d, exact = signed_distance(zones, np.full(lon.size, index, dtype=np.int64), lon, lat)
        assert exact.all()
        plane = LocalPlane(float(zones.lon0[index]), float(zones.lat0[index]))
        np.testing.assert_allclose(d, _shapely_signed(geometry, lon, lat, plane), atol=1e-6)


def test_a_point_in_the_hole_is_outside_and_one_in_the_ring_is_inside() -> None:
    zones = compile_zones([ZoneShape(SQUARE_WITH_HOLE)])
    lon = np.array([-1.85, -1.88, -1.95])
    lat = np.array([52.43, 52.43, 52.43])
    d, _ = signed_distance(zones, np.zeros(3, dtype=np.int64), lon, lat)
    assert d[0] > 600  # the hole's centre is ~680 m from its edge
    assert d[1] < -1000
    assert d[2] > 3000


def test_far_polygon_pairs_get_a_lower_bound_only() -> None:
    zones = compile_zones([ZoneShape(SQUARE_WITH_HOLE)])
    lon = np.array([-1.0])
    lat = np.array([52.43])
    d, exact = signed_distance(zones, np.zeros(1, dtype=np.int64), lon, lat, exact_within=500.0)
    assert not exact[0]
    plane = LocalPlane(float(zones.lon0[0]), float(zones.lat0[0]))
    assert d[0] <= _shapely_signed(SQUARE_WITH_HOLE, lon, lat, plane)[0] + 1e-6


def test_circle_distances_agree_with_geodesics_to_well_under_a_metre() -> None:
    geod = Geod(ellps="WGS84")
    centre = (-2.98, 53.40)
    zones = compile_zones([ZoneShape({"type": "Point", "coordinates": list(centre)}, 500.0)])
    rng = np.random.default_rng(5)
    lon = centre[0] + rng.uniform(-0.03, 0.03, 2000)
    lat = centre[1] + rng.uniform(-0.02, 0.02, 2000)
    d, _ = signed_distance(zones, np.zeros(lon.size, dtype=np.int64), lon, lat)
    truth = (
        geod.inv(np.full(lon.size, centre[0]), np.full(lon.size, centre[1]), lon, lat)[2] - 500.0
    )
    near = np.abs(truth) < 2000
    assert np.abs(d[near] - truth[near]).max() < 0.5


def test_step_lengths_agree_with_geodesics() -> None:
    geod = Geod(ellps="WGS84")
    lon1, lat1 = np.array([-0.1, -3.0]), np.array([51.5, 57.1])
    lon2, lat2 = lon1 + 0.01, lat1 + 0.005
    truth = geod.inv(lon1, lat1, lon2, lat2)[2]
    assert np.abs(step_metres(lon1, lat1, lon2, lat2) - truth).max() < truth.max() * 2e-3
