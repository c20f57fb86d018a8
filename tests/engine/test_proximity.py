"""Proximity: a zone that moves with the protected person's own device."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.engine.helpers import Stream, of_kind, run, scenario, seconds


def proximity(**extra: Any) -> dict[str, Any]:
    return {"id": "X1", "type": "proximity", "device": "VP1", "distance_m": 500, **extra}


def test_the_wearer_coming_near_the_protected_person_is_raised_and_ends_past_the_exit_distance(
    tmp_path: Path,
) -> None:
    stream = Stream()
    for second in range(0, 1800, 30):
        stream.fix(second, 0, device="VP1")  # the protected person stays put
        # The wearer walks from 2 km east to 0 and back.
        east = abs(2000 - second * 2000 / 900)
        stream.fix(second + 1, east)
    records, _ = run(scenario(proximity(exit_distance_m=700)), stream, tmp_path)
    [episode] = of_kind(records, "proximity")
    assert 670 <= seconds(episode["start"]) <= 700  # within 500 m at ~675 s
    assert 1200 <= seconds(episode["end"]) <= 1240  # beyond 700 m at ~1215 s


def test_a_stale_position_of_the_protected_person_is_not_used(tmp_path: Path) -> None:
    stream = Stream().fix(0, 0, device="VP1")  # last heard of ten minutes before
    stream.walk(600, 900, 10, 100, 100)
    records, _ = run(scenario(proximity(max_age_s=120)), stream, tmp_path)
    assert of_kind(records, "proximity") == []


def test_the_protected_persons_own_report_can_raise_it(tmp_path: Path) -> None:
    stream = Stream().fix(0, 0)  # the wearer stands still and reports once
    stream.fix(30, 3000, device="VP1").fix(60, 200, device="VP1")  # the victim arrives nearby
    records, _ = run(scenario(proximity()), stream, tmp_path)
    [episode] = of_kind(records, "proximity")
    assert seconds(episode["start"]) == 60


def test_a_buffered_upload_that_shows_them_close_is_raised_late_not_dropped(
    tmp_path: Path,
) -> None:
    stream = Stream()
    for second in range(0, 1200, 30):
        stream.fix(second, 3000, device="VP1")  # the protected person, live, 3 km east
    # The wearer's tag was offline; at 1200 s it uploads 600-900 s: he was 100 m from her.
    for second in range(600, 900, 30):
        stream.fix(second, 2900)
    records, _ = run(scenario(proximity()), stream, tmp_path)
    episodes = of_kind(records, "proximity")
    assert episodes
    assert all(e["retrospective"] for e in episodes)
    assert 600 <= seconds(episodes[0]["start"]) < 900


def test_the_episode_carries_the_distance_and_the_fix_time_of_each_side(tmp_path: Path) -> None:
    stream = Stream().fix(0, 0)  # the wearer's only fix
    stream.fix(60, 200, device="VP1")  # the protected person's phone a minute later, 200 m away
    records, _ = run(scenario(proximity()), stream, tmp_path)
    [episode] = of_kind(records, "proximity")
    detail = episode["detail"]
    assert 195 <= detail["distance_m"] <= 205
    assert seconds(detail["wearer_fix_at"]) == 0
    assert seconds(detail["protected_fix_at"]) == 60
