"""Curfews and inclusion zones: local-time windows, overnight rows, DST, grace, absences, timers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.engine.helpers import Stream, at, iso, of_kind, run
from vigil.engine.plan import parse_plan

HOME = at(5000, 0)  # (lon, lat) of the wearer's address
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def curfew(**extra: Any) -> dict[str, Any]:
    return {
        "id": "H1",
        "type": "curfew",
        "geometry": {"type": "Point", "coordinates": list(HOME)},
        "radius_m": 80,
        "timetable": [{"days": EVERY_DAY, "start": "19:00", "end": "07:00"}],
        "grace_s": 300,
        **extra,
    }


def two_wearers(condition: dict[str, Any]) -> dict[str, Any]:
    """P1 has the curfew; P2's tag keeps reporting so the engine's clock moves on."""
    return {
        "timezone": "Europe/London",
        "persons": [
            {"id": "P1", "devices": ["T1"], "conditions": [condition]},
            {"id": "P2", "devices": ["T2"], "conditions": []},
        ],
    }


def clock_ticks(stream: Stream, start: datetime, end: datetime, every_s: int = 60) -> Stream:
    moment = start
    while moment <= end:
        stream.fix(moment, -20_000, device="T2")
        moment += timedelta(seconds=every_s)
    return stream


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def near_home(stream: Stream, moment: datetime, metres_east: float = 0.0) -> None:
    stream.fix(moment, 5000 + metres_east, 0, acc=15)


def test_absent_when_the_window_opens_is_a_violation_even_with_no_fix_at_all(
    tmp_path: Path,
) -> None:
    stream = Stream()
    for minute in range(0, 90, 2):  # away from home 17:00-18:28, then the tag goes silent
        stream.fix(minute * 60, 0, 0, acc=15)
    clock_ticks(stream, utc(2026, 11, 23, 18, 30), utc(2026, 11, 23, 20, 0))
    records, _ = run(two_wearers(curfew()), stream, tmp_path)
    [violation] = of_kind(records, "curfew")
    assert violation["start"] == "2026-11-23T19:00:00.000Z"
    assert violation["raised_at"] == "2026-11-23T19:05:00.000Z"  # the timer, after grace
    assert violation["end"] is None
    assert violation["retrospective"] is False


def test_home_before_the_window_opens_raises_nothing(tmp_path: Path) -> None:
    stream = Stream()
    start = utc(2026, 11, 23, 18, 0)
    for minute in range(0, 180, 2):
        near_home(stream, start + timedelta(minutes=minute), metres_east=10)
    records, _ = run(two_wearers(curfew()), stream, tmp_path)
    assert of_kind(records, "curfew") == []


def test_leaving_during_the_window_starts_at_the_estimated_leaving_and_ends_on_return(
    tmp_path: Path,
) -> None:
    stream = Stream()
    start = utc(2026, 11, 23, 18, 30)
    for minute in range(0, 150, 1):  # home until 21:00
        near_home(stream, start + timedelta(minutes=minute))
    for minute in range(0, 60):  # out 500 m away 21:00-22:00
        near_home(stream, utc(2026, 11, 23, 21, 0) + timedelta(minutes=minute), metres_east=500)
    for minute in range(0, 30):
        near_home(stream, utc(2026, 11, 23, 22, 0) + timedelta(minutes=minute))
    records, _ = run(two_wearers(curfew()), stream, tmp_path)
    [violation] = of_kind(records, "curfew")
    start_at = datetime.fromisoformat(violation["start"].replace("Z", "+00:00"))
    end_at = datetime.fromisoformat(violation["end"].replace("Z", "+00:00"))
    assert utc(2026, 11, 23, 20, 59) <= start_at <= utc(2026, 11, 23, 21, 0)
    assert utc(2026, 11, 23, 21, 59) <= end_at <= utc(2026, 11, 23, 22, 0)


def test_a_violation_still_open_at_the_end_of_the_window_ends_there(tmp_path: Path) -> None:
    stream = Stream()
    moment = utc(2026, 11, 23, 18, 0)
    while moment <= utc(2026, 11, 24, 8, 0):
        stream.fix(moment, 0, 0, acc=15)  # out all night
        moment += timedelta(minutes=5)
    records, _ = run(two_wearers(curfew()), stream, tmp_path)
    [violation] = of_kind(records, "curfew")
    assert (violation["start"], violation["end"]) == (
        "2026-11-23T19:00:00.000Z",
        "2026-11-24T07:00:00.000Z",
    )


def test_coming_home_within_the_grace_period_is_not_a_violation(tmp_path: Path) -> None:
    stream = Stream()
    moment = utc(2026, 11, 23, 18, 30)
    while moment < utc(2026, 11, 23, 19, 1):
        stream.fix(moment, 0, 0, acc=15)
        moment += timedelta(minutes=1)
    moment += timedelta(minutes=2)  # 5 km home by car
    while moment < utc(2026, 11, 23, 21, 0):
        near_home(stream, moment)
        moment += timedelta(minutes=1)
    records, _ = run(two_wearers(curfew()), stream, tmp_path)
    assert of_kind(records, "curfew") == []


def test_an_authorised_absence_covering_the_window_start_is_respected(tmp_path: Path) -> None:
    absence = [{"start": "2026-11-23T18:00:00Z", "end": "2026-11-23T21:00:00Z"}]
    stream = Stream()
    moment = utc(2026, 11, 23, 18, 0)
    while moment < utc(2026, 11, 23, 22, 0):
        stream.fix(moment, 0, 0, acc=15)  # away all evening
        moment += timedelta(minutes=2)
    records, _ = run(two_wearers(curfew(authorised_absences=absence)), stream, tmp_path)
    [violation] = of_kind(records, "curfew")
    # Enforcement resumes when the absence ends, with the grace period again.
    assert violation["start"] == "2026-11-23T21:00:00.000Z"
    assert violation["raised_at"] == "2026-11-23T21:05:00.000Z"


def test_weekday_rows_only_apply_on_their_days(tmp_path: Path) -> None:
    weekdays = curfew(
        timetable=[{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "19:00", "end": "23:00"}]
    )
    stream = Stream()
    moment = utc(2026, 11, 28, 18, 0)  # a Saturday
    while moment < utc(2026, 11, 28, 23, 30):
        stream.fix(moment, 0, 0, acc=15)
        moment += timedelta(minutes=2)
    records, _ = run(two_wearers(weekdays), stream, tmp_path)
    assert of_kind(records, "curfew") == []


def _windows(begin: datetime, end: datetime) -> list[tuple[str | None, str | None]]:
    plan = parse_plan(two_wearers(curfew()))
    timetable = plan.persons[0].zones[0].timetable
    assert timetable is not None
    return [
        (iso(datetime.fromtimestamp(w.start, UTC)), iso(datetime.fromtimestamp(w.end, UTC)))
        for w in timetable.windows(begin.timestamp(), end.timestamp())
    ]


def test_an_overnight_window_across_the_spring_change_is_an_hour_shorter() -> None:
    windows = _windows(utc(2026, 3, 28, 12), utc(2026, 3, 30, 12))
    assert ("2026-03-28T19:00:00Z", "2026-03-29T06:00:00Z") in windows  # 19:00 GMT to 07:00 BST
    assert ("2026-03-29T18:00:00Z", "2026-03-30T06:00:00Z") in windows  # 19:00 BST to 07:00 BST


def test_an_overnight_window_across_the_autumn_change_is_an_hour_longer() -> None:
    windows = _windows(utc(2026, 10, 24, 12), utc(2026, 10, 26, 12))
    assert ("2026-10-24T18:00:00Z", "2026-10-25T07:00:00Z") in windows  # 19:00 BST to 07:00 GMT
    assert ("2026-10-25T19:00:00Z", "2026-10-26T07:00:00Z") in windows


def test_absence_on_the_evening_of_the_spring_change_starts_at_19_00_local(tmp_path: Path) -> None:
    stream = Stream()
    moment = utc(2026, 3, 29, 16, 0)
    while moment < utc(2026, 3, 29, 20, 0):
        stream.fix(moment, 0, 0, acc=15)
        moment += timedelta(minutes=2)
    records, _ = run(two_wearers(curfew()), stream, tmp_path)
    [violation] = of_kind(records, "curfew")
    assert violation["start"] == "2026-03-29T18:00:00.000Z"
    local = datetime.fromisoformat(violation["start"].replace("Z", "+00:00")).astimezone(
        ZoneInfo("Europe/London")
    )
    assert (local.hour, local.minute) == (19, 0)


def test_an_inclusion_zone_without_timetable_is_broken_by_leaving_it(tmp_path: Path) -> None:
    inclusion = {
        "id": "I1",
        "type": "inclusion_zone",
        "geometry": {"type": "Point", "coordinates": list(HOME)},
        "radius_m": 1000,
    }
    stream = Stream()
    for minute in range(30):
        near_home(stream, utc(2026, 11, 23, 12, 0) + timedelta(minutes=minute))
    for minute in range(30):
        near_home(stream, utc(2026, 11, 23, 12, 30) + timedelta(minutes=minute), metres_east=3000)
    records, _ = run(two_wearers(inclusion), stream, tmp_path)
    [violation] = of_kind(records, "inclusion_zone")
    assert violation["start"].startswith("2026-11-23T12:")
    assert violation["end"] is None


def test_a_curfew_breach_raised_on_old_news_is_withdrawn_when_late_fixes_show_him_home(
    tmp_path: Path,
) -> None:
    stream = Stream()
    moment = utc(2026, 11, 23, 18, 0)
    while moment <= utc(2026, 11, 23, 18, 50):  # away, live
        stream.fix(moment, 0, 0, acc=15)
        moment += timedelta(minutes=2)
    clock_ticks(stream, utc(2026, 11, 23, 18, 51), utc(2026, 11, 23, 19, 10))
    # At 19:10 his tag uploads what it kept: he was home from 18:54.
    moment = utc(2026, 11, 23, 18, 54)
    while moment <= utc(2026, 11, 23, 19, 10):
        near_home(stream, moment)
        moment += timedelta(minutes=1)
    records, _ = run(two_wearers(curfew()), stream, tmp_path)
    [violation] = of_kind(records, "curfew")  # raised at 19:05 on what was known then, kept
    assert violation["raised_at"] == "2026-11-23T19:05:00.000Z"
    assert violation["end"] == violation["start"]
    assert violation["detail"]["withdrawn"] is True
