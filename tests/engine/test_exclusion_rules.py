"""Exclusion zones: accuracy discs, confirmation, estimated entry, hysteresis, warnings, transit."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.engine.helpers import Stream, circle, of_kind, run, scenario, seconds


def test_a_minute_inside_is_confirmed_within_60_s_and_starts_at_the_estimated_entry(
    tmp_path: Path,
) -> None:
    # Walking east at 1.5 m/s, one fix every 10 s, through a 300 m circle: the edge is crossed
    # at x = -300 m, i.e. 466.7 s after the start.
    stream = Stream().walk(0, 1200, 10, -1000, 800)
    records, _ = run(scenario(circle("Z1", 300)), stream, tmp_path)
    [violation] = of_kind(records, "exclusion_zone")
    assert abs(seconds(violation["start"]) - 466.7) < 5
    assert seconds(violation["raised_at"]) - 466.7 <= 60
    assert violation["retrospective"] is False
    # Exit at x = +300 m, 866.7 s; the end is estimated, not the confirmation time.
    assert abs(seconds(violation["end"]) - 866.7) < 12
    assert violation["fix_ids"]


def test_drift_along_the_boundary_with_overlapping_discs_raises_nothing(tmp_path: Path) -> None:
    # A wearer 15 m outside a 300 m zone for two hours, fixes scattered ±20 m, accuracy 30 m:
    # some reported points fall inside, but no disc is ever inside the zone by enough.
    rng = np.random.default_rng(7)
    stream = Stream()
    for i in range(720):
        stream.fix(i * 10, -315 + rng.normal(0, 8), rng.normal(0, 8), acc=30.0)
    records, _ = run(scenario(circle("Z1", 300)), stream, tmp_path)
    assert of_kind(records, "exclusion_zone") == []


def test_a_single_outlier_inside_the_zone_does_not_confirm_a_violation(tmp_path: Path) -> None:
    stream = Stream().walk(0, 600, 10, -900, -900)
    stream.fix(605, 0, acc=400.0)  # a wild fix with a large reported accuracy
    stream.fix(606, -50, acc=15.0)  # and an implausible jump with a small one
    stream.walk(610, 1200, 10, -900, -900)
    records, _ = run(scenario(circle("Z1", 300)), stream, tmp_path)
    assert of_kind(records, "exclusion_zone") == []


def test_approximate_cell_positions_never_confirm_a_violation_alone(tmp_path: Path) -> None:
    stream = Stream().walk(0, 300, 10, -900, -900)
    stream.walk(310, 900, 10, 0, 0, approximate="true")
    records, _ = run(scenario(circle("Z1", 300)), stream, tmp_path)
    assert of_kind(records, "exclusion_zone") == []


def test_entering_the_buffer_warns_once_per_approach(tmp_path: Path) -> None:
    stream = Stream()
    stream.walk(0, 300, 10, -900, -900)
    stream.walk(310, 900, 10, -420, -400)  # a long time in the buffer: one warning
    stream.walk(910, 1200, 10, -1000, -1000)  # well away again
    stream.walk(1210, 1500, 10, -420, -420)  # a second approach
    records, _ = run(scenario(circle("Z1", 300, buffer=200)), stream, tmp_path)
    warnings = of_kind(records, "approach_warning")
    # Each starts when the track crossed into the buffer, between the fix outside and the first in.
    starts = [seconds(w["start"]) for w in warnings]
    assert len(starts) == 2
    assert 300 < starts[0] <= 310
    assert 1200 < starts[1] <= 1210
    assert of_kind(records, "exclusion_zone") == []


def test_one_fix_outside_does_not_end_a_violation_two_clear_ones_do(tmp_path: Path) -> None:
    stream = Stream().walk(0, 300, 10, 0, 0)
    stream.fix(310, -330)  # one clear fix outside (a reflection, say)
    stream.walk(320, 600, 10, 0, 0)
    stream.walk(610, 700, 10, -500, -500)
    records, _ = run(scenario(circle("Z1", 300)), stream, tmp_path)
    [violation] = of_kind(records, "exclusion_zone")
    assert 600 <= seconds(violation["end"]) <= 610


def test_a_fast_transit_between_two_sparse_fixes_is_a_possible_transit(tmp_path: Path) -> None:
    # A car crosses the zone between fixes five minutes apart; neither fix is inside.
    stream = Stream().fix(0, -1500).fix(300, 1500).fix(600, 3000)
    records, _ = run(scenario(circle("Z1", 300)), stream, tmp_path)
    [transit] = of_kind(records, "possible_transit")
    assert 0 < seconds(transit["start"]) < seconds(transit["end"]) < 300
    assert of_kind(records, "exclusion_zone") == []


def test_a_track_that_only_grazes_the_zone_is_not_a_transit(tmp_path: Path) -> None:
    # The straight track passes 290 m from the centre of a 300 m zone: 10 m deep, less than the
    # fixes' accuracy, so nothing can be said.
    stream = Stream().fix(0, -1500, 290, acc=20).fix(300, 1500, 290, acc=20)
    records, _ = run(scenario(circle("Z1", 300)), stream, tmp_path)
    assert of_kind(records, "possible_transit") == []


def test_the_same_fixes_give_the_same_episodes_and_ids_whatever_the_batch_size(
    tmp_path: Path,
) -> None:
    stream = Stream().walk(0, 1200, 10, -1000, 800)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, _ = run(scenario(circle("Z1", 300, buffer=200)), stream, tmp_path / "a")
    second, _ = run(scenario(circle("Z1", 300, buffer=200)), stream, tmp_path / "b", chunk=7)
    assert first == second
    assert len({record["id"] for record in first}) == len(first)


def test_an_exclusion_zone_with_a_timetable_only_counts_inside_its_hours(tmp_path: Path) -> None:
    # A school zone enforced 17:10-17:20 (local = UTC in November) on Mondays only.
    school = circle("S1", 300, timetable=[{"days": ["mon"], "start": "17:10", "end": "17:20"}])
    stream = Stream().walk(0, 300, 10, 0, 0)  # inside 17:00-17:05: not enforced yet
    stream.walk(310, 500, 10, -1000, -1000)
    stream.walk(510, 1500, 10, 0, 0)  # inside again from 17:08:30, through the window
    records, _ = run(scenario(school), stream, tmp_path)
    [violation] = of_kind(records, "exclusion_zone")
    assert seconds(violation["start"]) >= 600  # not before the window opens
    assert seconds(violation["end"]) == 1200  # ends with the window


def test_with_a_fix_a_minute_a_deep_fix_waits_for_a_second_one_to_confirm(
    tmp_path: Path,
) -> None:
    # Entry at ~ 50 s; the fix at 60 s is 150 m deep with 20 m accuracy, but one fix is never
    # proof on its own: the fix at 120 s corroborates it. (Before corroboration was required,
    # the deep fix alone confirmed at 60 s.)
    stream = Stream().fix(0, -1000, acc=20).fix(60, -150, acc=20).fix(120, -150, acc=20)
    records, _ = run(scenario(circle("Z1", 300)), stream, tmp_path)
    [violation] = of_kind(records, "exclusion_zone")
    assert seconds(violation["raised_at"]) == 120
    assert 45 <= seconds(violation["start"]) <= 50
    assert violation["detail"]["rule"] == "sequential"
    assert violation["detail"]["fixes_inside"] == 2
    assert violation["detail"]["corroborating_evidence"] >= 0.5
    assert len(violation["fix_ids"]) == 2


def test_a_wearer_living_at_the_edge_of_the_buffer_is_warned_once_not_all_night(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(3)
    stream = Stream()
    for i in range(8 * 60):  # a night at home, 205 m from a 300 m zone with a 200 m buffer
        stream.fix(i * 60, -505 + rng.normal(0, 15), rng.normal(0, 15), acc=25.0)
    records, _ = run(scenario(circle("Z1", 300, buffer=200)), stream, tmp_path)
    assert len(of_kind(records, "approach_warning")) == 1


def test_forged_fixes_deep_inside_between_the_tags_own_reports_raise_nothing(
    tmp_path: Path,
) -> None:
    # The tag reports from home, 2.3 km away, every minute; someone sends 25 fixes for the same
    # device from the middle of the zone, 11 s apart, each claiming 10 m accuracy.
    stream = Stream()
    events = [(s, -2300.0) for s in range(0, 1200, 60)]
    events += [(30 + 11 * k, 0.0) for k in range(25)]
    for second, east in sorted(events):
        stream.fix(second, east, acc=10.0)
    records, _ = run(scenario(circle("Z1", 300)), stream, tmp_path)
    assert of_kind(records, "exclusion_zone") == []


def test_three_agreeing_fixes_after_an_impossible_jump_are_not_a_visit(tmp_path: Path) -> None:
    # Home, then three fixes 11 s apart 2.3 km away deep inside the zone, then home again.
    stream = Stream().walk(0, 600, 60, -2300, -2300)
    for second in (611, 622, 633):
        stream.fix(second, 0.0, acc=10.0)
    stream.walk(660, 1800, 60, -2300, -2300)
    records, _ = run(scenario(circle("Z1", 300)), stream, tmp_path)
    assert of_kind(records, "exclusion_zone") == []
