"""``vigil engine replay`` end to end: FIXES.csv in, EVENTS.jsonl out, fixes kept in a SQLite
trail store.

The same synthetic wearers and zones as bench/engine_evaluate.py, written to a CSV in arrival
order; the replay reads and checks it, stores every fix in a SQLite trail store (all in one
transaction), evaluates, and writes the events. Timed from the CSV to the JSONL. Three runs side by
side: into a new trail file (the bulk load, tracking/bulk_load.py), into a file that already
holds a fix (the store's append path, near index suspended), and without a trail; "of no
storage" is each run's fixes per CPU-second over the last run's.

    .venv/bin/python bench/engine_replay.py [--wearers 10000] [--per-wearer 100]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.engine_common import make_fixes, make_world

from vigil.db import migrate
from vigil.db.engine import build_engine
from vigil.engine.plan import parse_plan
from vigil.engine.replay import read_fixes, replay, write_events
from vigil.engine.trail import sqlite_sink
from vigil.tracking import store
from vigil.tracking.model import Fix


def write_csv(fixes, path: Path) -> None:
    stamps = pl.Series((fixes.t * 1e6).astype("int64")).cast(pl.Datetime("us", "UTC"))
    pl.DataFrame(
        {
            "device": [fixes.device_names[c] for c in fixes.device_codes.tolist()],
            "time": stamps.dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
            "lat": fixes.lat.round(7),
            "lon": fixes.lon.round(7),
            "accuracy_m": fixes.acc.round(1),
        }
    ).write_csv(path)


def hold_one_fix(path: Path) -> None:
    """A trail file that already holds a fix (of a device not in the replay), so the replay
    appends through ``store.append`` as into any trail that is not new."""
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    database = build_engine(url)
    moment = datetime(2020, 1, 1, tzinfo=UTC)
    with database.begin() as connection:
        store.append(
            connection, [Fix("not-in-replay", moment, moment, 52.0, -1.0, "replay")], [None]
        )
    database.dispose()


def run(plan, csv: Path, out: Path, trail: Path | None) -> tuple[float, float, float, int]:
    cpu = time.process_time()
    began = time.perf_counter()
    table = read_fixes(csv)
    sink = sqlite_sink(trail, plan) if trail is not None else None
    setup = time.perf_counter() - began
    engine = replay(plan, table, sink=sink)
    write_events(engine.ledger.episodes, out)
    elapsed = time.perf_counter() - began
    return elapsed, time.process_time() - cpu, setup, len(engine.ledger.episodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wearers", type=int, default=10_000)
    parser.add_argument("--per-wearer", type=int, default=100)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    world = make_world(args.wearers)
    plan = parse_plan(world.scenario)
    fixes = make_fixes(world, args.per_wearer)
    n = len(fixes)
    table = Table(
        title=f"vigil engine replay end to end: {n:,} fixes, {args.wearers:,} wearers x 3 zones"
    )
    columns = ("seconds", "fixes/s", "CPU seconds", "fixes per CPU-s", "of no storage", "episodes")
    for column in ("storage", *columns):
        table.add_column(column, justify="left" if column == "storage" else "right")
    with tempfile.TemporaryDirectory() as folder:
        csv = Path(folder) / "fixes.csv"
        write_csv(fixes, csv)
        held = Path(folder) / "held.db"
        hold_one_fix(held)
        results = []
        for label, trail in (
            ("SQLite trail store, new file (bulk load)", Path(folder) / "trail.db"),
            ("SQLite trail store, file holding fixes (append)", held),
            ("none (evaluation and files only)", None),
        ):
            results.append((label, *run(plan, csv, Path(folder) / "events.jsonl", trail)))
        bare = n / results[-1][2]
        for label, elapsed, cpu, _setup, episodes in results:
            table.add_row(
                label,
                f"{elapsed:.2f}",
                f"{n / elapsed:,.0f}",
                f"{cpu:.2f}",
                f"{n / cpu:,.0f}",
                f"{(n / cpu) / bare:.0%}",
                f"{episodes:,}",
            )
    Console(width=150).print(table)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at the end: {load:.1f}")


if __name__ == "__main__":
    main()
