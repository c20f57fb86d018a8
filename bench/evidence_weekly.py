"""Weekly overview for one wearer with 10,000 fixes: build (day table, stay points, approaches),
map (SVG) and PDF (WeasyPrint). Target: ≤ 2 s in total.

    .venv/bin/python bench/evidence_weekly.py [--fixes 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from vigil.evidence.overviews import render_weekly
from vigil.evidence.weekly import WeekFix, build_overview

HOME = (52.486048, -1.864011)
CONDITIONS = [
    {
        "id": "1",
        "type": "curfew",
        "geometry": {"type": "Point", "coordinates": [HOME[1], HOME[0]]},
        "radius_m": 60.0,
        "timetable": [
            {
                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "start": "19:00",
                "end": "07:00",
            }
        ],
        "address": "Home",
    },
    {
        "id": "2",
        "type": "exclusion_zone",
        "label": "Victim's home",
        "geometry": {"type": "Point", "coordinates": [-1.797393, 52.472259]},
        "radius_m": 400.0,
        "buffer_m": 250.0,
    },
    {
        "id": "3",
        "type": "exclusion_zone",
        "label": "Town centre",
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[-1.90, 52.47], [-1.88, 52.47], [-1.88, 52.48], [-1.90, 52.48], [-1.90, 52.47]]
            ],
        },
    },
]


def synthetic_week(n: int, week: date) -> list[WeekFix]:
    """Nights at home, days wandering around Birmingham, one fix every ~60 s."""
    rng = random.Random(7)
    start = datetime(week.year, week.month, week.day, tzinfo=UTC)
    step = timedelta(days=7) / n
    lat, lon = HOME
    out = []
    for i in range(n):
        at = start + step * i
        hour = at.hour
        if 7 <= hour < 19:
            lat += rng.gauss(0, 0.0004)
            lon += rng.gauss(0, 0.0006)
        else:
            lat = HOME[0] + rng.gauss(0, 0.00005)
            lon = HOME[1] + rng.gauss(0, 0.00008)
        out.append(
            WeekFix(i + 1, at, lat, lon, abs(rng.gauss(8, 4)), max(0.0, 100 - (i % 1440) / 14.4))
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fixes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    week = date(2026, 3, 23)  # the week the clocks go forward
    fixes = synthetic_week(args.fixes, week)
    rows = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        overview = build_overview("1", week, fixes, CONDITIONS, [])
        t1 = time.perf_counter()
        _html, pdf = render_weekly(overview, datetime.now(UTC))
        t2 = time.perf_counter()
        rows.append((t1 - t0, t2 - t1, t2 - t0, len(pdf)))
    print(f"{'fixes':>7} {'build s':>8} {'html+pdf s':>11} {'total s':>8} {'pdf KB':>7}")
    for build, render, total, size in rows:
        print(f"{args.fixes:>7} {build:>8.3f} {render:>11.3f} {total:>8.3f} {size / 1024:>7.0f}")
    totals = [r[2] for r in rows]
    print(
        f"median total {statistics.median(totals):.3f} s, worst {max(totals):.3f} s "
        f"(target ≤ 2 s){'' if max(totals) <= 2 else '  ** over target **'}"
    )
    assert not math.isnan(statistics.median(totals))


if __name__ == "__main__":
    main()
