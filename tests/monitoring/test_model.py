"""Rules behind the pages: queue order, thinning, the wearer's disguised zones, curfew rows."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from shapely.geometry import Point, Polygon
from shapely.ops import polylabel

from vigil.monitoring import model

KEY = b"k" * 32
HOME = (52.4862, -1.8904)  # lat, lon of a protected person's address


def _metres(lat: float, lon: float) -> tuple[float, float]:
    x, y = model.to_plane(HOME[0], HOME[1], np.array([lat]), np.array([lon]))
    return float(x[0]), float(y[0])


def _shown_polygon(shown: dict[str, object]) -> Polygon:
    ring = shown["coordinates"][0]  # type: ignore[index]
    return Polygon([_metres(lat, lon) for lon, lat in ring])


def test_queue_puts_the_most_severe_first_then_the_longest_waiting() -> None:
    alerts = [
        {"id": 1, "severity": "low", "created_at": "2026-11-23T08:00:00+00:00"},
        {"id": 2, "severity": "critical", "created_at": "2026-11-23T08:59:00+00:00"},
        {"id": 3, "severity": "critical", "created_at": "2026-11-23T08:30:00+00:00"},
        {"id": 4, "severity": "high", "created_at": "2026-11-23T07:00:00+00:00"},
    ]
    assert [a["id"] for a in model.order_queue(alerts)] == [3, 2, 4, 1]
    assert model.severity_counts(alerts) == {"critical": 2, "high": 1, "medium": 0, "low": 1}


def test_queue_puts_risk_to_the_victim_first_and_new_before_acknowledged() -> None:
    at = "2026-11-23T08:{:02d}:00+00:00".format
    alerts = [
        {"id": 1, "kind": "strap_removed", "severity": "critical", "status": "acknowledged",
         "created_at": at(1)},
        {"id": 2, "kind": "strap_removed", "severity": "critical", "status": "new",
         "created_at": at(2)},
        {"id": 3, "kind": "proximity", "severity": "high", "status": "new", "created_at": at(30)},
        {"id": 4, "kind": "exclusion_zone", "severity": "high", "status": "acknowledged",
         "created_at": at(3)},
        {"id": 5, "kind": "exclusion_zone", "severity": "high", "status": "new",
         "created_at": at(10)},
        {"id": 6, "kind": "battery_low", "severity": "low", "status": "new", "created_at": at(0)},
    ]  # fmt: skip
    assert [a["id"] for a in model.order_queue(alerts)] == [5, 3, 4, 2, 6, 1]


def test_each_kind_of_alert_has_its_own_call_script() -> None:
    strap = dict(model.call_steps("strap_removed"))
    assert "leave the zone" not in strap["wearer"]
    assert "strap" in strap["wearer"]
    assert "police" in strap  # whereabouts unknown: the protected person may be at risk
    battery = dict(model.call_steps("battery_low"))
    assert list(battery) == ["wearer", "officer"]  # nobody else needs a call for a flat battery
    assert "charge" in battery["wearer"]
    zone = model.call_steps("exclusion_zone")
    assert [key for key, _label in zone] == ["protected_person", "wearer", "police", "officer"]
    assert "leave the zone" in dict(zone)["wearer"]


def test_age_reads_like_a_person_would_say_it() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert model.age_text(now - timedelta(seconds=42), now) == "42 s"
    assert model.age_text(now - timedelta(minutes=7), now) == "7 min"
    assert model.age_text(now - timedelta(hours=2, minutes=5), now) == "2 h 5 min"
    assert model.age_text(now - timedelta(days=3), now) == "3 days"


def test_open_violation_outranks_device_problems_and_a_silent_tag_is_a_device_issue() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    fresh = now - timedelta(minutes=2)
    assert model.person_status(True, ["battery_low", "curfew"], fresh, now, True) == "open_alerts"
    assert model.person_status(True, ["battery_low"], fresh, now, True) == "device_issues"
    assert model.person_status(True, [], now - timedelta(hours=2), now, True) == "device_issues"
    assert model.person_status(True, [], fresh, now, True) == "compliant"
    assert model.person_status(False, [], None, now, False) == "no_order"
    # A removed strap or a tampered tag is not a flat battery: the wearer may be evading.
    assert model.person_status(True, ["strap_removed"], fresh, now, True) == "open_alerts"
    assert model.person_status(True, ["tamper"], fresh, now, True) == "open_alerts"


def test_the_caseload_puts_the_most_urgent_first_and_compliant_wearers_last() -> None:
    rows = [
        ("Adams", model.Status.COMPLIANT, []),
        ("Baker", model.Status.NO_ORDER, []),
        ("Clark", model.Status.DEVICE_ISSUES, ["low"]),
        ("Davis", model.Status.OPEN_ALERTS, ["high"]),
        ("Evans", model.Status.OPEN_ALERTS, ["low", "critical"]),
        ("Ford", model.Status.DEVICE_ISSUES, ["medium"]),
    ]
    ordered = sorted(rows, key=lambda r: model.caseload_key(r[1], r[2], r[0]))
    assert [name for name, _status, _severities in ordered] == [
        "Evans", "Davis", "Ford", "Clark", "Baker", "Adams"
    ]  # fmt: skip


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
    inside = model.zone_mask(lat, lon, zones)
    assert 10 < inside.sum() < 10_000
    kept = model.thin_trail(lat, lon, 15.0, inside)
    assert set(np.flatnonzero(inside)) <= set(kept.tolist())
    assert kept[0] == 0
    assert kept[-1] == len(lat) - 1
    assert len(kept) < len(lat) * 0.8
    # Every dropped fix lies within the tolerance of the drawn line (Douglas-Peucker's promise).
    x, y = model.to_plane(float(lat[0]), float(lon[0]), lat, lon)
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
    assert model.zone_mask(lat, lon, [square]).tolist() == [False, False, True, False, False]
    kept = model.thin_trail(lat, lon, 50.0, model.zone_mask(lat, lon, [square]))
    assert kept.tolist() == [0, 2, 4]


def test_the_ends_of_a_gap_are_kept() -> None:
    ends = model.gap_ends([0, 60, 120, 3000, 3060], 900)
    assert ends.tolist() == [False, False, True, True, False]


@pytest.mark.parametrize("seed", [f"pp{i}" for i in range(40)])
def test_what_the_wearer_sees_covers_the_zone_but_does_not_point_at_the_address(
    seed: str,
) -> None:
    radius, buffer = 400.0, 250.0
    shown = model.wearer_zone(KEY, seed, HOME[0], HOME[1], radius, buffer)
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
    first = model.wearer_zone(KEY, "pp1", HOME[0], HOME[1], 300, 100)
    assert model.wearer_zone(KEY, "pp1", HOME[0], HOME[1], 300, 100) == first
    assert model.wearer_zone(b"another key" * 3, "pp1", HOME[0], HOME[1], 300, 100) != first


def test_the_disguise_moves_in_every_direction_across_zones() -> None:
    """Over many zones the shown centre is displaced all round the address, not one way."""
    bearings = []
    for i in range(60):
        polygon = _shown_polygon(model.wearer_zone(KEY, f"z{i}", HOME[0], HOME[1], 300, 0))
        c = polygon.centroid
        bearings.append(math.atan2(c.x, c.y))
    quadrants = {int((b + math.pi) // (math.pi / 2)) for b in bearings}
    assert quadrants == {0, 1, 2, 3}


def test_drawn_polygons_are_shown_as_drawn_and_other_conditions_not_at_all() -> None:
    town = {"type": "Polygon", "coordinates": [[[-1.9, 52.4], [-1.8, 52.4], [-1.8, 52.5],
                                                [-1.9, 52.4]]]}  # fmt: skip
    shown = model.wearer_view(
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


def test_curfew_days_group_into_timetable_rows_and_copy_to_all() -> None:
    days: dict[str, tuple[str, str] | None] = dict.fromkeys(model.DAY_NAMES)
    days.update(mon=("19:00", "07:00"), tue=("19:00", "07:00"), sat=("21:00", "08:00"))
    rows = model.rows_from_days(days)
    assert rows == [
        {"days": ["mon", "tue"], "start": "19:00", "end": "07:00"},
        {"days": ["sat"], "start": "21:00", "end": "08:00"},
    ]
    assert model.days_from_rows(rows) == days
    copied = model.copy_day_to_all(days, "sat")
    assert set(copied.values()) == {("21:00", "08:00")}
    with pytest.raises(ValueError, match="copy_from"):
        model.copy_day_to_all(days, "someday")
