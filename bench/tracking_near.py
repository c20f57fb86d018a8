"""Trail store benchmark: who-was-near latency as the fixes table grows, and append throughput.

    .venv/bin/python bench/tracking_near.py --target 50000000 --budget-s 900
    .venv/bin/python bench/tracking_near.py --append-only

Who-was-near: 10,000 simulated wearers in a 40 x 40 km area (homes, workplaces, commutes, one
fix a minute with 15 m noise), loaded in time order into a migrated SQLite trail store with its
indexes in place (as the engine writes it). At each size milestone, 200 queries (200 m radius,
2-hour window, centred on the position of a random stored fix, so most find someone) run through
``tracking.queries.who_was_near`` — audit entry and commit included — and through the search
alone. Loading stops at the target or when the time budget is spent; the size reached is
reported as it is.

Append: ``tracking.store.append`` with batches of ``--batch`` ``Fix`` objects (10,000; ``vigil
replay`` appends up to 65,536) into an empty migrated store (SQLite, then PostgreSQL when
reachable), indexes in place; and with the near-point index suspended for the load and rebuilt
after it (``store.suspend_near_index`` / ``restore_near_index``, for bulk loads into a new store).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

from vigil.clock import FrozenClock
from vigil.db import migrate
from vigil.db.engine import build_engine
from vigil.db.uow import UnitOfWork
from vigil.security.model import Principal, Role
from vigil.tracking import grid, near_queries, store
from vigil.tracking.model import Fix, QualityFlags
from vigil.tracking.tables import to_micros

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
CENTRE = (52.48, -1.89)
M_PER_DEG_LAT = 111_320.0
OPERATOR = Principal(id=1, name="bench", role=Role.MONITORING_OPERATOR)
console = Console()

INSERT = (
    "INSERT INTO fixes (device_id, person_id, fix_time, receive_time, lat, lon, accuracy_m, "
    "cell, valid, approximate, implausible, invalid_position, battery_pct, alarms, protocol, "
    "raw, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, 0, 0, 0, ?, '', 'sim', '', '{}')"
)


def cells(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """grid.cell_of, vectorised (checked against it below)."""
    row = np.floor(lat / grid.CELL_LAT_DEG).astype(np.int64) + 45_000
    col = np.floor(lon / grid.CELL_LON_DEG).astype(np.int64) + 60_000
    return row * 1_000_000 + col


class Wearers:
    """Home at night, work by day, a half-hour commute, 15 m noise; one fix a minute each."""

    def __init__(self, count: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.count = count
        half = 20_000.0
        self.home = rng.uniform(-half, half, (count, 2))
        self.work = rng.uniform(-half, half, (count, 2))
        self.leave = rng.uniform(6.5, 9.0, count)  # hour of day
        self.back = rng.uniform(16.0, 19.0, count)
        self.accuracy = rng.uniform(8, 40, count)
        self.devices = [f"T{i:05d}" for i in range(count)]
        self.persons = [f"P{i:05d}" for i in range(count)]

    def at(self, minute: int) -> tuple[np.ndarray, np.ndarray]:
        hour = (minute / 60.0) % 24
        going = np.clip((hour - self.leave) / 0.5, 0, 1)
        coming = np.clip((hour - self.back) / 0.5, 0, 1)
        share = going * (1 - coming)
        xy = self.home + (self.work - self.home) * share[:, None]
        xy = xy + self.rng.normal(0, 15, xy.shape)
        lat = CENTRE[0] + xy[:, 1] / M_PER_DEG_LAT
        lon = CENTRE[1] + xy[:, 0] / (M_PER_DEG_LAT * math.cos(math.radians(CENTRE[0])))
        return lat, lon


def load_rows(wearers: Wearers, minute: int) -> list[tuple[object, ...]]:
    lat, lon = wearers.at(minute)
    fix_us = to_micros(START + timedelta(minutes=minute))
    cell = cells(lat, lon)
    battery = 100 - (minute % 1440) / 20
    return [
        (d, p, fix_us, fix_us + 3_000_000, la, lo, acc, ce, battery)
        for d, p, la, lo, acc, ce in zip(
            wearers.devices,
            wearers.persons,
            lat.tolist(),
            lon.tolist(),
            wearers.accuracy.tolist(),
            cell.tolist(),
            strict=True,
        )
    ]


def measure(url: str, minutes: int, queries_n: int, seed: int) -> dict[str, float]:
    engine = build_engine(url)
    rng = np.random.default_rng(seed)
    full: list[float] = []
    search: list[float] = []
    found: list[int] = []
    with engine.connect() as conn:
        max_id = conn.execute(text("SELECT max(id) FROM fixes")).scalar_one()
    span_end = START + timedelta(minutes=minutes)
    for _ in range(queries_n):
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT lat, lon, fix_time FROM fixes WHERE id = :id"),
                {"id": int(rng.integers(1, max_id + 1))},
            ).one()
        at = START + timedelta(microseconds=int(row.fix_time) - to_micros(START))
        start = max(START, at - timedelta(minutes=int(rng.integers(0, 120))))
        end = min(span_end, start + timedelta(hours=2))
        clock = FrozenClock(end + timedelta(days=1))
        with UnitOfWork(engine, clock) as uow:
            t0 = time.perf_counter()
            near = near_queries.near_unaudited(uow, OPERATOR, row.lat, row.lon, 200, start, end)
            search.append(time.perf_counter() - t0)
        with UnitOfWork(engine, clock) as uow:
            t0 = time.perf_counter()
            near_queries.who_was_near(uow, OPERATOR, row.lat, row.lon, 200, start, end, "benchmark")
            full.append(time.perf_counter() - t0)
        found.append(len(near))
    engine.dispose()
    return {
        "search_p50": statistics.median(search) * 1000,
        "search_p99": float(np.percentile(search, 99)) * 1000,
        "full_p50": statistics.median(full) * 1000,
        "full_p99": float(np.percentile(full, 99)) * 1000,
        "persons": statistics.mean(found),
    }


def near_benchmark(target: int, budget_s: float, wearers_n: int, path: Path) -> None:
    if path.exists():
        path.unlink()
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    wearers = Wearers(wearers_n, seed=7)
    lat, lon = wearers.at(600)
    assert cells(lat[:50], lon[:50]).tolist() == [
        grid.cell_of(a, b) for a, b in zip(lat[:50].tolist(), lon[:50].tolist(), strict=True)
    ]
    milestones = [
        m for m in (1_000_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000) if m <= target
    ]
    if target not in milestones:
        milestones.append(target)
    import sqlite3

    raw = sqlite3.connect(path)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=OFF")
    raw.execute("PRAGMA cache_size=-6000000")  # 6 GB page cache for the load
    results: list[tuple[int, float, float, dict[str, float]]] = []
    loaded = 0
    minute = 0
    began = time.perf_counter()
    load_time = 0.0
    out_of_time = False
    for milestone in milestones:
        while loaded < milestone:
            t0 = time.perf_counter()
            rows: list[tuple[object, ...]] = []
            for _ in range(50):
                rows.extend(load_rows(wearers, minute))
                minute += 1
            raw.executemany(INSERT, rows)
            raw.commit()
            loaded += len(rows)
            load_time += time.perf_counter() - t0
            if time.perf_counter() - began > budget_s:
                out_of_time = True
                break
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size_gb = path.stat().st_size / 1e9
        stats = measure(url, minute, 200, seed=loaded)
        rate = loaded / load_time
        results.append((loaded, size_gb, rate, stats))
        console.print(
            f"{loaded:>12,} fixes  {size_gb:6.1f} GB  load {rate:,.0f}/s  "
            f"search p50 {stats['search_p50']:.2f} ms p99 {stats['search_p99']:.2f} ms  "
            f"audited p50 {stats['full_p50']:.2f} ms p99 {stats['full_p99']:.2f} ms  "
            f"persons {stats['persons']:.1f}"
        )
        if out_of_time:
            break
    raw.close()
    table = Table(title="Who was near (200 m, 2-hour window), SQLite, 200 queries per size")
    for column in (
        "fixes",
        "DB size",
        "load rate",
        "search p50",
        "search p99",
        "audited p50",
        "audited p99",
        "persons found (mean)",
    ):
        table.add_column(column, justify="right")
    for loaded, size_gb, rate, stats in results:
        table.add_row(
            f"{loaded:,}",
            f"{size_gb:.1f} GB",
            f"{rate:,.0f}/s",
            f"{stats['search_p50']:.2f} ms",
            f"{stats['search_p99']:.2f} ms",
            f"{stats['full_p50']:.2f} ms",
            f"{stats['full_p99']:.2f} ms",
            f"{stats['persons']:.1f}",
        )
    console.print(table)


LABELS = {
    "engine": "from the engine",
    "store": "judged by the store",
    "suspended": "from the engine, near index suspended, rebuilt at the end",
}


def append_benchmark(total: int, batch: int) -> None:
    """Fixes per second (wall) and per CPU-second of this process, which on SQLite includes the
    database's own work and is what the rate would be on a core of its own: the shared machine
    this runs on is often several times oversubscribed."""
    wearers = Wearers(10_000, seed=11)
    batches: list[tuple[list[Fix], list[str | None]]] = []
    for minute in range(total // 10_000):
        lat, lon = wearers.at(minute)
        at = START + timedelta(minutes=minute)
        fixes = [
            Fix(d, at, at + timedelta(seconds=3), la, lo, "sim", accuracy_m=acc, battery_pct=90.0)
            for d, la, lo, acc in zip(
                wearers.devices, lat.tolist(), lon.tolist(), wearers.accuracy.tolist(), strict=True
            )
        ]
        batches.append((fixes, list(wearers.persons)))
    flat = [(f, p) for fixes, persons in batches for f, p in zip(fixes, persons, strict=True)]
    total = len(flat)  # whole minutes of 10,000 wearers
    batches = [
        ([f for f, _ in flat[k : k + batch]], [p for _, p in flat[k : k + batch]])
        for k in range(0, len(flat), batch)
    ]
    table = Table(title=f"store.append, {total:,} fixes in batches of {batch:,}")
    for column in ("backend", "flags", "fixes/s", "fixes per CPU-second", "load avg"):
        table.add_column(column, justify="right")
    pg = os.environ.get("VIGIL_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1/test")
    admin = create_engine(pg)
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("SQLite", "PostgreSQL"):
            for mode in ("engine", "store", "suspended"):
                # A fresh, empty, migrated trail store for each run.
                if name == "SQLite":
                    url = f"sqlite:///{tmp}/append-{mode}.db"
                else:
                    schema = f"bench_append_{mode}"
                    try:
                        with admin.begin() as conn:
                            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                            conn.execute(text(f"CREATE SCHEMA {schema}"))
                    except Exception as exc:  # the SQLite figure is the one the target is about
                        console.print(f"PostgreSQL skipped: {exc}")
                        break
                    url = f"{pg}?options=-csearch_path%3D{schema}"
                migrate.upgrade(url)
                engine = build_engine(url)
                clock = FrozenClock(START)
                t0 = time.perf_counter()
                c0 = time.process_time()
                if mode == "suspended":
                    with engine.begin() as conn:
                        store.suspend_near_index(conn)
                for fixes, persons in batches:
                    with UnitOfWork(engine, clock) as uow:
                        flags = [QualityFlags()] * len(fixes) if mode != "store" else None
                        store.append(uow, fixes, persons, flags)
                        uow.commit()
                if mode == "suspended":
                    with engine.begin() as conn:
                        store.restore_near_index(conn)
                elapsed = time.perf_counter() - t0
                cpu = time.process_time() - c0
                engine.dispose()
                table.add_row(
                    name,
                    LABELS[mode],
                    f"{total / elapsed:,.0f}",
                    f"{total / cpu:,.0f}" if name == "SQLite" else "—",
                    " ".join(f"{x:.1f}" for x in os.getloadavg()),
                )
                if name == "PostgreSQL":
                    with admin.begin() as conn:
                        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--target", type=int, default=50_000_000)
    parser.add_argument("--budget-s", type=float, default=900.0)
    parser.add_argument("--wearers", type=int, default=10_000)
    parser.add_argument(
        "--db", type=Path, default=Path(tempfile.gettempdir()) / "vigil-bench-trail.db"
    )
    parser.add_argument("--append-only", action="store_true")
    parser.add_argument("--near-only", action="store_true")
    parser.add_argument("--append-total", type=int, default=500_000)
    parser.add_argument("--batch", type=int, default=10_000, help="fixes per append")
    parser.add_argument(
        "--measure-only", action="store_true", help="query an already loaded --db, no loading"
    )
    args = parser.parse_args()
    if args.measure_only:
        url = f"sqlite:///{args.db}"
        engine = build_engine(url)
        with engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM fixes")).scalar_one()
            last = conn.execute(text("SELECT max(fix_time) FROM fixes")).scalar_one()
        engine.dispose()
        minutes = int((last - to_micros(START)) / 60_000_000) + 1
        stats = measure(url, minutes, 200, seed=count)
        console.print(
            f"{count:,} fixes: search p50 {stats['search_p50']:.2f} ms p99 "
            f"{stats['search_p99']:.2f} ms; audited p50 {stats['full_p50']:.2f} ms p99 "
            f"{stats['full_p99']:.2f} ms; persons {stats['persons']:.1f}"
        )
        return
    if not args.near_only:
        append_benchmark(args.append_total, args.batch)
    if not args.append_only:
        near_benchmark(args.target, args.budget_s, args.wearers, args.db)


if __name__ == "__main__":
    main()
