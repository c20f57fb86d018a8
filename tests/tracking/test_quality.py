"""Fix quality rules and the spatial grid (pure functions)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from tests.tracking.helpers import T0, fix, liverpool_buses
from vigil.tracking.grid import bounding_box, cell_of, cells_covering
from vigil.tracking.quality import QualityTracker, assess, invalid_position

GEOD = Geod(ellps="WGS84")


def test_null_island_missing_and_out_of_range_positions_are_invalid() -> None:
    assert invalid_position(0.0, 0.0)
    assert invalid_position(None, -1.9)
    assert invalid_position(91.0, 0.5)
    assert invalid_position(float("nan"), 0.5)
    assert not invalid_position(52.48, -1.89)
    assert not invalid_position(0.0, 12.0)  # the equator is a real place


def test_a_jump_no_one_could_make_is_implausible() -> None:
    start = fix(at=T0)
    lon, lat, _ = GEOD.fwd(start.lon, start.lat, 0, 5_000)
    jump = fix(at=T0 + timedelta(seconds=10), lat=lat, lon=lon, accuracy_m=20.0)
    assert assess(jump, start).implausible
    # The same 5 km in ten minutes is a car ride.
    drive = fix(at=T0 + timedelta(minutes=10), lat=lat, lon=lon, accuracy_m=20.0)
    assert not assess(drive, start).implausible


def test_an_outlier_that_admits_its_imprecision_is_not_implausible() -> None:
    start = fix(at=T0, accuracy_m=15.0)
    lon, lat, _ = GEOD.fwd(start.lon, start.lat, 45, 600)
    honest = fix(at=T0 + timedelta(seconds=5), lat=lat, lon=lon, accuracy_m=700.0)
    claims_precision = fix(at=T0 + timedelta(seconds=5), lat=lat, lon=lon, accuracy_m=15.0)
    assert not assess(honest, start).implausible
    assert assess(claims_precision, start).implausible


def test_two_separate_positions_at_the_same_instant_are_implausible() -> None:
    start = fix(at=T0)
    lon, lat, _ = GEOD.fwd(start.lon, start.lat, 0, 200)
    assert assess(fix(at=T0, lat=lat, lon=lon), start).implausible


def test_cell_positions_are_marked_approximate() -> None:
    assert assess(fix(approximate=True, accuracy_m=1500.0), None).approximate


def test_a_late_fix_is_judged_against_where_the_device_was_then() -> None:
    tracker = QualityTracker()
    home = fix(at=T0)
    lon, lat, _ = GEOD.fwd(home.lon, home.lat, 90, 20_000)
    away = fix(at=T0 + timedelta(hours=1), lat=lat, lon=lon)
    assert tracker.assess(home).usable
    assert tracker.assess(away).usable
    # Uploaded late: a minute after leaving home, still near home. Plausible then, though
    # 20 km from the newest fix.
    late = fix(at=T0 + timedelta(minutes=1), lat=home.lat + 0.0005, lon=home.lon)
    assert tracker.assess(late).usable
    # Whereas a late fix 20 km away a minute after home is not.
    impossible = fix(at=T0 + timedelta(minutes=2), lat=lat, lon=lon)
    assert tracker.assess(impossible).implausible


@settings(max_examples=300, deadline=None)
@given(
    lat=st.floats(-70, 70),
    lon=st.floats(-179, 179),
    radius=st.floats(1, 3000),
    bearing=st.floats(0, 360),
    fraction=st.floats(0, 1),
)
def test_the_cells_covering_a_circle_hold_every_point_in_it(
    lat: float, lon: float, radius: float, bearing: float, fraction: float
) -> None:
    plon, plat, _ = GEOD.fwd(lon, lat, bearing, radius * fraction)
    assert cell_of(plat, plon) in set(cells_covering(lat, lon, radius))


@settings(max_examples=300, deadline=None)
@given(
    lat=st.floats(-70, 70),
    lon=st.floats(-179, 179),
    radius=st.floats(1, 3000),
    bearing=st.floats(0, 360),
)
def test_the_bounding_box_of_a_circle_holds_every_point_on_its_edge(
    lat: float, lon: float, radius: float, bearing: float
) -> None:
    # The near query filters candidates by this box inside the index scan: a point it left out
    # would be a person silently missing from the answer.
    plon, plat, _ = GEOD.fwd(lon, lat, bearing, radius)
    south, north, west, east = bounding_box(lat, lon, radius)
    assert south <= plat <= north
    assert west <= plon <= east


def test_the_bounding_box_is_not_much_larger_than_the_circle() -> None:
    south, north, west, east = bounding_box(52.4862, -1.8904, 300)
    _, _, height = GEOD.inv(-1.8904, south, -1.8904, north)
    _, _, width = GEOD.inv(west, 52.4862, east, 52.4862)
    assert 600 <= height <= 610
    assert 600 <= width <= 610


def test_a_near_query_touches_only_a_handful_of_cells_in_britain() -> None:
    assert len(cells_covering(52.4862, -1.8904, 300)) <= 16


def _forged_and_real(real_every_s: int, forged: list[int]) -> list[tuple[int, str, bool]]:
    """The wearer's tag at home reporting every ``real_every_s`` (or not at all) and forged
    fixes 2.3 km away at the given seconds; returns (second, kind, implausible) in time order."""
    home = fix(at=T0, accuracy_m=10.0)
    lon, lat, _ = GEOD.fwd(home.lon, home.lat, 0, 2_300)
    events = [(s, "forged") for s in forged]
    if real_every_s:
        events += [(s, "real") for s in range(0, 600, real_every_s)]
    else:
        events.append((0, "real"))
    tracker = QualityTracker()
    out = []
    for second, kind in sorted(events):
        at = T0 + timedelta(seconds=second)
        where = {"lat": lat, "lon": lon} if kind == "forged" else {}
        out.append((second, kind, tracker.assess(fix(at=at, accuracy_m=10.0, **where)).implausible))
    return out


def test_forged_positions_sent_between_the_tags_own_reports_never_become_plausible() -> None:
    judged = _forged_and_real(60, [30 + 11 * k for k in range(25)])
    assert [s for s, kind, bad in judged if kind == "forged" and not bad] == []
    assert [s for s, kind, bad in judged if kind == "real" and bad] == []


def test_forged_positions_repeated_while_the_tag_is_silent_stay_implausible_for_ten_minutes() -> (
    None
):
    judged = _forged_and_real(0, [11 * (k + 1) for k in range(50)])
    assert all(bad for s, kind, bad in judged if kind == "forged")


def test_a_track_that_stays_where_it_jumped_to_is_trusted_once_nothing_contradicts_it() -> None:
    # The anchor may itself be the odd one out: with no plausible fix for ten minutes, the
    # consistent new track is accepted, so a wearer is never left unwatched for good.
    judged = _forged_and_real(0, [11 * (k + 1) for k in range(80)])
    assert next(bad for s, _kind, bad in judged if s > 600) is False


def test_a_slow_drift_stays_plausible() -> None:
    tracker = QualityTracker()
    start = fix(at=T0, accuracy_m=8.0)
    judged = []
    for minute in range(120):
        lon, lat, _ = GEOD.fwd(start.lon, start.lat, 70, 2.0 * 60 * minute)  # 2 m/s
        at = T0 + timedelta(minutes=minute)
        judged.append(tracker.assess(fix(at=at, lat=lat, lon=lon, accuracy_m=8.0)).implausible)
    assert not any(judged)


def test_real_bus_journeys_in_liverpool_stay_plausible() -> None:
    tracker = QualityTracker()
    buses = sorted(liverpool_buses(), key=lambda bus: (bus.person, bus.fix.fix_time))
    flagged = [bus.fix for bus in buses if tracker.assess(bus.fix).implausible]
    assert len(buses) == 1_533
    assert flagged == []
