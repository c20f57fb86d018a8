"""The map's trail built from the trail's columns: thinned, with every fix inside a zone and
each end of a gap kept, fixes without a position left off, and flagged fixes marked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from vigil.tracking.model import Gap
from vigil.tracking.queries import TrailArrays
from vigil.tracking.tables import to_micros
from vigil.tracking.thinning import zone_mask
from vigil.tracking.trail_map import trail_json

START = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
CENTRE = (52.48, -1.89)


def _week() -> TrailArrays:
    n = 10_080
    rng = np.random.default_rng(11)
    steps = rng.normal(0, 0.00015, size=(n, 2)).cumsum(axis=0)
    lats = CENTRE[0] - 0.01 + steps[:, 0]
    lons = CENTRE[1] - 0.01 + steps[:, 1]
    lats[[17, 4000]] = np.nan  # no position: kept in the count, not drawn
    lons[[17, 4000]] = np.nan
    minutes = np.arange(n, dtype=np.int64)
    minutes[3000:] += 120  # two silent hours after fix 2999
    times = to_micros(START) + minutes * 60_000_000
    implausible = np.zeros(n, dtype=bool)
    implausible[5] = True
    accuracies = np.full(n, 8.0)
    accuracies[6] = np.nan
    return TrailArrays(
        person_id="1",
        start=START,
        end=START + timedelta(days=7, hours=2),
        ids=np.arange(1, n + 1, dtype=np.int64),
        times_us=times,
        lats=lats,
        lons=lons,
        accuracies_m=accuracies,
        valid=np.ones(n, dtype=bool),
        implausible=implausible,
        invalid_position=np.zeros(n, dtype=bool),
        gaps=(Gap(START, START),),
    )


def test_the_map_trail_keeps_zone_fixes_and_gap_ends_and_drops_most_others() -> None:
    found = _week()
    middle = 5000
    zone = {
        "type": "exclusion_zone",
        "geometry": {"type": "Point", "coordinates": [found.lons[middle], found.lats[middle]]},
        "radius_m": 150,
        "buffer_m": 100,
    }
    shown = trail_json(found, [zone])
    assert shown["total"] == 10_080
    assert shown["shown"] == len(shown["points"]) < 10_080 * 0.8
    by_time = {p[3]: p for p in shown["points"]}
    seconds = found.times_us // 1_000_000
    inside = zone_mask(found.lats, found.lons, [zone])
    assert 10 < inside.sum() < 10_000
    for i in np.flatnonzero(inside):
        assert by_time[int(seconds[i])][4] == 1
    assert int(seconds[2999]) in by_time  # both ends of the silence stay visible
    assert int(seconds[3000]) in by_time
    assert int(seconds[17]) not in by_time
    assert int(seconds[4000]) not in by_time
    assert all(p[4] == 0 for i, p in by_time.items() if not inside[seconds == i].any())


def test_the_unthinned_trail_draws_every_positioned_fix_with_its_flags() -> None:
    found = _week()
    shown = trail_json(found, [], thin=False)
    assert shown["shown"] == 10_078
    first = shown["points"][:7]
    assert first[5][5] == 1  # implausible
    assert first[6][2] == 0.0  # no accuracy reported
    assert first[0] == [
        round(float(found.lats[0]), 6),
        round(float(found.lons[0]), 6),
        8.0,
        int(found.times_us[0] // 1_000_000),
        0,
        0,
    ]


def test_a_trail_with_no_positions_draws_nothing() -> None:
    found = _week()
    empty = TrailArrays(
        person_id="1",
        start=START,
        end=START + timedelta(hours=1),
        ids=found.ids[:0],
        times_us=found.times_us[:0],
        lats=found.lats[:0],
        lons=found.lons[:0],
        accuracies_m=found.accuracies_m[:0],
        valid=found.valid[:0],
        implausible=found.implausible[:0],
        invalid_position=found.invalid_position[:0],
        gaps=(),
    )
    assert trail_json(empty, []) == {"points": [], "total": 0, "shown": 0}
