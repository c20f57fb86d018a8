"""Weekly movement overview: day table across the spring DST change, curfew kept or broken, stay
points, closest approach to each exclusion zone, device issues, and the rendered HTML/PDF."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from pyproj import Geod

from tests.evidence.print_layout import off_the_page
from vigil.evidence.overviews import render_weekly
from vigil.evidence.weekly import WeekFix, build_overview, curfew_windows, monday_of

HOME = (52.486048, -1.864011)
ZONE = (52.472259, -1.797393)
CONDITIONS = [
    {
        "id": "1",
        "type": "curfew",
        "geometry": {"type": "Point", "coordinates": [HOME[1], HOME[0]]},
        "radius_m": 60.0,
        "address": "Home",
        "timetable": [
            {
                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "start": "19:00",
                "end": "07:00",
            }
        ],
    },
    {
        "id": "2",
        "type": "exclusion_zone",
        "label": "Victim's home",
        "radius_m": 400.0,
        "buffer_m": 250.0,
        "geometry": {"type": "Point", "coordinates": [ZONE[1], ZONE[0]]},
    },
]
WEEK = date(2026, 3, 23)  # clocks go forward on Sunday 29 March
_GEOD = Geod(ellps="WGS84")


def week_of_fixes() -> list[WeekFix]:
    """Every 5 minutes: home at night, an outing to a café each day at 10:00–12:00 UTC, and on
    Wednesday a walk to 150 m from the exclusion zone's edge; Friday night out after curfew."""
    out = []
    at = datetime(2026, 3, 22, 23, 0, tzinfo=UTC)
    i = 0
    while at < datetime(2026, 3, 30, 1, 0, tzinfo=UTC):
        lat, lon = HOME
        if 10 <= at.hour < 12:
            lat, lon = 52.4800, -1.8500  # café, ~1.2 km away
        if at.date() == date(2026, 3, 25) and at.hour == 14:
            lat, lon = ZONE[0], ZONE[1] - (550 / 67_900)  # 550 m west of the zone centre
        if at.date() == date(2026, 3, 27) and at.hour == 21:
            lat, lon = 52.4900, -1.8900
        out.append(
            WeekFix(
                i,
                at,
                lat,
                lon,
                5.0,
                15.0 if at.date() == date(2026, 3, 26) else 80,
                ("strap_removed",) if i == 10 else (),
            )
        )
        i += 1
        at += timedelta(minutes=5)
    return out


@pytest.fixture(scope="module")
def overview():  # type: ignore[no-untyped-def]
    return build_overview(
        "7",
        WEEK,
        week_of_fixes(),
        CONDITIONS,
        [
            {
                "id": 9,
                "kind": "curfew",
                "severity": "high",
                "started_at": "2026-03-27T21:05:00+00:00",
                "status": "new",
            }
        ],
    )


def test_days_are_local_days_and_the_dst_sunday_is_23_hours(overview) -> None:  # type: ignore[no-untyped-def]
    assert [d.date for d in overview.days] == [WEEK + timedelta(days=k) for k in range(7)]
    assert overview.days[0].fixes == 24 * 12
    assert overview.days[6].fixes == 23 * 12  # Sunday 29 March has 23 hours


def test_curfew_is_kept_on_quiet_nights_and_broken_on_friday(overview) -> None:  # type: ignore[no-untyped-def]
    status = {d.date.strftime("%a"): d.curfew for d in overview.days}
    assert status["Fri"] == "broken"
    assert status["Mon"] == "kept"
    # Sunday's window runs into Monday 30 March, beyond the fixes: no data for its end is fine,
    # but the fixes up to 01:00 UTC are at home, so it is kept.
    assert status["Sun"] == "kept"


def test_time_at_home_and_the_cafe_stay_are_found(overview) -> None:  # type: ignore[no-untyped-def]
    monday = overview.days[0]
    # 24 h minus the 2 h café visit, give or take one 5-minute step at each end.
    assert monday.home_s == pytest.approx(22 * 3600, abs=600)
    cafe = [s for s in monday.stays if not s.get("home")]
    assert len(cafe) == 1
    assert cafe[0]["seconds"] == pytest.approx(2 * 3600 - 300, abs=1)
    assert monday.distance_m > 2_000


def test_closest_approach_to_the_zone_matches_a_geodesic_check(overview) -> None:  # type: ignore[no-untyped-def]
    fixes = week_of_fixes()
    lats = np.array([f.lat for f in fixes])
    lons = np.array([f.lon for f in fixes])
    _, _, d = _GEOD.inv(np.full(len(fixes), ZONE[1]), np.full(len(fixes), ZONE[0]), lons, lats)
    expected = float(d.min()) - 400.0
    [zone] = overview.zones
    assert zone["closest_m"] == pytest.approx(expected, abs=0.1)
    assert 140 < zone["closest_m"] < 160
    wednesday = overview.days[2]
    assert wednesday.approaches[0]["distance_m"] == pytest.approx(expected, abs=0.1)
    assert wednesday.approaches[0]["time"].hour == 14


def test_device_issues_and_alerts_are_reported(overview) -> None:  # type: ignore[no-untyped-def]
    assert overview.device["battery_min_pct"] == 15.0
    assert overview.device["low_battery_fixes"] == 24 * 12
    assert overview.device["alarms"] == {}  # fix 10 is before the week starts
    assert [a["id"] for a in overview.alerts] == [9]


def test_the_report_renders_as_html_with_a_map_and_as_pdf(overview) -> None:  # type: ignore[no-untyped-def]
    html, pdf = render_weekly(overview, datetime(2026, 3, 30, 7, tzinfo=UTC))
    assert "<svg" in html
    assert "Victim&#39;s home" in html or "Victim's home" in html
    assert "broken" in html
    assert pdf.startswith(b"%PDF")
    assert off_the_page(html) == []
    # One label a place stayed at (home, the café), however many days he stayed there.
    assert len(re.findall(r"\d+ stays, [\d.]+ h<", overview.map_svg)) == 2


def test_curfew_windows_follow_local_time_across_the_change() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/London")
    [(start, end)] = curfew_windows(CONDITIONS[0], date(2026, 3, 28), tz)
    assert start.astimezone(UTC) == datetime(2026, 3, 28, 19, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 3, 29, 6, tzinfo=UTC)  # 07:00 BST
    assert monday_of(date(2026, 3, 29)) == WEEK
