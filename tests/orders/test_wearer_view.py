"""What the wearer is shown covers the zone but never points at the protected person's address."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import Point, Polygon
from shapely.ops import polylabel

from vigil.orders.wearer_view import wearer_view, wearer_zone_geojson
from vigil.tracking.thinning import to_plane

KEY = b"k" * 32


HOME = (52.4862, -1.8904)


def _metres(lat: float, lon: float) -> tuple[float, float]:
    x, y = to_plane(HOME[0], HOME[1], np.array([lat]), np.array([lon]))
    return float(x[0]), float(y[0])


def _shown_polygon(shown: dict[str, object]) -> Polygon:
    ring = shown["coordinates"][0]  # type: ignore[index]
    return Polygon([_metres(lat, lon) for lon, lat in ring])


@pytest.mark.parametrize("seed", [f"pp{i}" for i in range(40)])
def test_what_the_wearer_sees_covers_the_zone_but_does_not_point_at_the_address(
    seed: str,
) -> None:
    radius, buffer = 400.0, 250.0
    shown = wearer_zone_geojson(KEY, seed, HOME[0], HOME[1], radius, buffer)
    assert shown["type"] == "Polygon"  # never a point or a circle centred on the address
    polygon = _shown_polygon(shown)
    # Keeping out of what is shown keeps the wearer out of the real zone and its buffer.
    assert polygon.buffer(1.0).contains(Point(0, 0).buffer(radius + buffer, quad_segs=64))
    reach = radius + buffer
    # The obvious ways to find "the middle" of the shape all land well away from the address.
    bbox = polygon.bounds
    middles = {
        "centroid": polygon.centroid,
        "bounding box centre": Point((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2),
        "pole of inaccessibility": polylabel(polygon, tolerance=1.0),
        "mean of corners": Point(np.mean(polygon.exterior.coords[:-1], axis=0)),
    }
    for name, point in middles.items():
        assert point.distance(Point(0, 0)) > 0.2 * reach, name
    # No corner sits at or near the address either.
    assert min(Point(c).distance(Point(0, 0)) for c in polygon.exterior.coords) > reach


def test_the_wearer_sees_the_same_shape_every_time_so_views_cannot_be_averaged() -> None:
    first = wearer_zone_geojson(KEY, "pp1", HOME[0], HOME[1], 300, 100)
    assert wearer_zone_geojson(KEY, "pp1", HOME[0], HOME[1], 300, 100) == first
    assert wearer_zone_geojson(b"another key" * 3, "pp1", HOME[0], HOME[1], 300, 100) != first


def test_the_disguise_moves_in_every_direction_across_zones() -> None:
    """Over many zones the shown centre is displaced all round the address, not one way."""
    bearings = []
    for i in range(60):
        polygon = _shown_polygon(wearer_zone_geojson(KEY, f"z{i}", HOME[0], HOME[1], 300, 0))
        c = polygon.centroid
        bearings.append(math.atan2(c.x, c.y))
    quadrants = {int((b + math.pi) // (math.pi / 2)) for b in bearings}
    assert quadrants == {0, 1, 2, 3}


def test_drawn_polygons_are_shown_as_drawn_and_other_conditions_not_at_all() -> None:
    town = {"type": "Polygon", "coordinates": [[[-1.9, 52.4], [-1.8, 52.4], [-1.8, 52.5],
                                                [-1.9, 52.4]]]}  # fmt: skip
    shown = wearer_view(
        KEY,
        [
            {"type": "curfew", "geometry": {"type": "Point", "coordinates": [-1.9, 52.4]}},
            {"type": "exclusion_zone", "geometry": town},
            {
                "type": "exclusion_zone",
                "geometry": {"type": "Point", "coordinates": [HOME[1], HOME[0]]},
                "radius_m": 300,
                "protected_person_id": 4,
            },
        ],
    )
    assert [s.geometry["type"] for s in shown] == ["Polygon", "Polygon"]
    assert shown[0].geometry == town
    assert [HOME[1], HOME[0]] not in shown[1].geometry["coordinates"][0]
