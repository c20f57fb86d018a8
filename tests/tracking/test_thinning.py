"""Thinning a trail for display keeps every fix inside a zone and the ends of a gap."""

from __future__ import annotations

import itertools
import math

import numpy as np

from vigil.tracking.thinning import gap_ends, thin_trail, to_plane, zone_mask

HOME = (52.4862, -1.8904)


def _metres(lat: float, lon: float) -> tuple[float, float]:
    x, y = to_plane(HOME[0], HOME[1], np.array([lat]), np.array([lon]))
    return float(x[0]), float(y[0])


def _week_walk() -> tuple[np.ndarray, np.ndarray]:
    """10,080 minute fixes: a slow random walk around the city with GPS noise."""
    rng = np.random.default_rng(7)
    steps = rng.normal(0, 0.00015, size=(10_080, 2)).cumsum(axis=0)
    return HOME[0] - 0.02 + steps[:, 0], HOME[1] - 0.02 + steps[:, 1]


def test_thinning_a_week_keeps_every_fix_inside_a_zone_and_drops_most_others() -> None:
    lat, lon = _week_walk()
    # Put a zone where the walk actually goes, so some fixes fall inside it.
    centre = (float(lat[5000]), float(lon[5000]))
    zones = [
        {
            "type": "exclusion_zone",
            "geometry": {"type": "Point", "coordinates": [centre[1], centre[0]]},
            "radius_m": 150,
            "buffer_m": 100,
        }
    ]
    inside = zone_mask(lat, lon, zones)
    assert 10 < inside.sum() < 10_000
    kept = thin_trail(lat, lon, 15.0, inside)
    assert set(np.flatnonzero(inside)) <= set(kept.tolist())
    assert kept[0] == 0
    assert kept[-1] == len(lat) - 1
    assert len(kept) < len(lat) * 0.8
    # Every dropped fix lies within the tolerance of the drawn line (Douglas-Peucker's promise).
    x, y = to_plane(float(lat[0]), float(lon[0]), lat, lon)
    for a, b in itertools.pairwise(kept):
        if b - a < 2:
            continue
        dx, dy = x[b] - x[a], y[b] - y[a]
        length = math.hypot(dx, dy) or 1.0
        worst = np.abs(dy * (x[a + 1 : b] - x[a]) - dx * (y[a + 1 : b] - y[a])) / length
        assert worst.max() <= 15.0 + 1e-6


def test_polygon_zones_pin_their_fixes_too() -> None:
    lat = np.array([52.0, 52.0005, 52.001, 52.0015, 52.002])
    lon = np.array([-1.0, -1.0, -1.0, -1.0, -1.0])
    square = {
        "type": "exclusion_zone",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[-1.001, 52.0009], [-0.999, 52.0009], [-0.999, 52.0011],
                             [-1.001, 52.0011], [-1.001, 52.0009]]],
        },
    }  # fmt: skip
    assert zone_mask(lat, lon, [square]).tolist() == [False, False, True, False, False]
    kept = thin_trail(lat, lon, 50.0, zone_mask(lat, lon, [square]))
    assert kept.tolist() == [0, 2, 4]


def test_the_ends_of_a_gap_are_kept() -> None:
    ends = gap_ends([0, 60, 120, 3000, 3060], 900)
    assert ends.tolist() == [False, False, True, True, False]
