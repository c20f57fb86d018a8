"""Server time of the two heaviest monitoring pages: the live queue with 500 open alerts, and a
person's map with a week of minute fixes (10,080) for trail playback. Budget: 300 ms each.

Run: .venv/bin/python -m bench.monitoring_pages  (SQLite file in a temporary folder; demo seed)
Prints a table: page, rows behind it, best / median of N requests, server time only (the
TestClient calls the app in-process, so no network or browser time is included).
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from tests.conftest import START, log_in, make_settings
from tests.demo_pilot import exclusion_zone, person_in, persons, raise_alert

from vigil.bootstrap import build_container
from vigil.clock import FrozenClock
from vigil.db import migrate
from vigil.engine.events import EventKind
from vigil.sim.demo import DEMO_PASSWORD, seed_demo
from vigil.tracking import store
from vigil.tracking.model import Fix
from vigil.web.app import create_app

RUNS = 15


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the table
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'bench.db'}"
    migrate.upgrade(url)
    container = build_container(make_settings(url), clock=FrozenClock(START))
    seed_demo(container)
    now = container.clock.now()
    everyone = persons(container)
    kinds = [EventKind.EXCLUSION_ZONE, EventKind.CURFEW, EventKind.BATTERY_LOW, EventKind.NO_GPS]
    for i in range(500):
        raise_alert(container, everyone[i % len(everyone)].id, kinds[i % 4],
                    at=now - timedelta(minutes=i))  # fmt: skip
    wearer = person_in(container, "Birmingham North")
    _id, zone = exclusion_zone(container, wearer.id)
    lon0, lat0 = zone["geometry"]["coordinates"]  # type: ignore[index]
    start = now - timedelta(days=7)
    week = [
        Fix(
            device_id="bench-tag",
            fix_time=start + timedelta(minutes=i),
            receive_time=start + timedelta(minutes=i, seconds=5),
            lat=lat0 - 0.01 + 0.00001 * (i % 2000),
            lon=lon0 - 0.01 + 0.00001 * (i % 1500),
            protocol="osmand",
            accuracy_m=8.0,
        )
        for i in range(10_080)
    ]
    with container.uow() as uow:
        store.append(uow.connection, week, [wearer.id] * len(week))
        uow.commit()
    tz = container.settings.tz
    window = {
        "from": start.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
        "to": now.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
        "reason": "Benchmark",
    }
    pages = [
        ("queue, 500 open alerts", "/alerts/queue", {}),
        ("person map, 10,080 fixes", f"/persons/{wearer.id}", window),
        ("caseload status, 40 wearers", "/caseload", {}),
    ]
    print(f"{'page':<30} {'best ms':>8} {'median ms':>10} {'budget':>7}")
    failed = False
    with TestClient(create_app(container)) as client:
        log_in(client, "operator", DEMO_PASSWORD)
        for label, path, params in pages:
            times = []
            for _ in range(RUNS):
                began = time.perf_counter()
                response = client.get(path, params=params)
                times.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, response.text[:500]
            budget = 300 if not label.startswith("caseload") else None
            best, median = min(times), statistics.median(times)
            failed |= budget is not None and median > budget
            print(f"{label:<30} {best:>8.0f} {median:>10.0f} {budget or '-':>7}")
    print("load average (1, 5, 15 min): {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
