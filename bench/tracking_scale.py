"""Trail store at national scale: who-was-near over tens of millions of fixes, SQLite beside
PostgreSQL (the store's own cell index, and PostGIS with a GiST index), same data, same queries.

    .venv/bin/python bench/tracking_scale.py build-sqlite --fixes 50000000
    .venv/bin/python bench/tracking_scale.py build-postgres --fixes 50000000
    .venv/bin/python bench/tracking_scale.py measure --queries 300

Building is *data loading for the benchmark*, not the store's code path: the database is created
by the real migrations (so it has the store's real schema, indexes and triggers), its indexes are
dropped, the rows are inserted in id order with ``executemany`` (SQLite) or ``COPY``
(PostgreSQL), and the same indexes are then rebuilt from their recorded definitions. The store's
own path, ``store.append`` with every index in place, is measured by ``bench/tracking_near.py
--append-only``.

Data: 10,000 simulated wearers in 40 x 40 km (home at night, work by day, a half-hour commute,
15 m noise), one fix a minute each, a 36-byte GT06 frame as the raw message. The same seed gives
the same rows on both backends.

Queries: centred on the position of a random stored fix (so they find people), radius 200 m,
a 2-hour window around that fix's time; the same (seeded) query list on every backend. "search"
is ``near_queries.near_unaudited`` (candidates, geodesic distances, each person's closest fix
read in full); "audited" is ``near_queries.who_was_near`` (plus the audit entry and commit).
PostGIS runs ``ST_DWithin`` on geography over a GiST index on (geom, fix_time) (btree_gist), with
the same accuracy rules, and the person sets are checked to agree with the store's answer.
"""

from __future__ import annotations

import argparse
import math
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

from vigil.clock import FrozenClock
from vigil.db import migrate
from vigil.db.engine import build_engine
from vigil.db.uow import UnitOfWork
from vigil.security.model import Principal, Role
from vigil.tracking import grid, near_queries
from vigil.tracking.tables import to_micros

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
START_US = to_micros(START)
CENTRE = (52.48, -1.89)
M_PER_DEG_LAT = 111_320.0
OPERATOR = Principal(id=1, name="bench", role=Role.MONITORING_OPERATOR)
RAW = "78781f12" + "1a0317080000cf027ac5e80c46ad0014d401ea0a1234002b3c" + "0001d9dc0d0a"
DEFAULT_SQLITE = Path(tempfile.gettempdir()) / "vigil-bench-scale.db"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1/vigil_bench"
COLUMNS = (
    "id",
    "device_id",
    "person_id",
    "fix_time",
    "receive_time",
    "lat",
    "lon",
    "accuracy_m",
    "cell",
    "valid",
    "approximate",
    "implausible",
    "invalid_position",
    "satellites",
    "battery_pct",
    "alarms",
    "protocol",
    "raw",
    "attributes",
)
console = Console()


def postgis_params(lat: float, lon: float, start: datetime, end: datetime) -> dict[str, float]:
    """``POSTGIS_NEAR``'s parameters for 200 m round (lat, lon) between the two times."""
    return {
        "lat": lat,
        "lon": lon,
        "radius": 200.0,
        # box prefilter for the GiST index: 300 m (radius + accuracy limit), wide
        "deg": 300.0 / (111_000 * math.cos(math.radians(abs(lat) + 1))),
        "start": to_micros(start),
        "end": to_micros(end),
    }


def all_ok(_uow: UnitOfWork, _principal: Principal, _person: str) -> bool:
    return True


class Wearers:
    """Home at night, work by day, a half-hour commute, 15 m noise; one fix a minute each."""

    def __init__(self, count: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.rng = rng
        half = 20_000.0
        self.home = rng.uniform(-half, half, (count, 2))
        self.work = rng.uniform(-half, half, (count, 2))
        self.leave = rng.uniform(6.5, 9.0, count)
        self.back = rng.uniform(16.0, 19.0, count)
        self.accuracy = np.round(rng.uniform(8, 40, count), 1)
        self.devices = [f"T{i:05d}" for i in range(count)]
        self.persons = [f"P{i:05d}" for i in range(count)]

    def at(self, minute: int) -> tuple[np.ndarray, np.ndarray]:
        hour = (minute / 60.0) % 24
        going = np.clip((hour - self.leave) / 0.5, 0, 1)
        coming = np.clip((hour - self.back) / 0.5, 0, 1)
        share = going * (1 - coming)
        xy = self.home + (self.work - self.home) * share[:, None]
        xy = xy + self.rng.normal(0, 15, xy.shape)
        lat = np.round(CENTRE[0] + xy[:, 1] / M_PER_DEG_LAT, 7)
        lon = np.round(
            CENTRE[1] + xy[:, 0] / (M_PER_DEG_LAT * math.cos(math.radians(CENTRE[0]))), 7
        )
        return lat, lon


def cells(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """grid.cell_of, vectorised (checked against it in ``chunks``)."""
    row = np.floor(lat / grid.CELL_LAT_DEG).astype(np.int64) + 45_000
    col = np.floor(lon / grid.CELL_LON_DEG).astype(np.int64) + 60_000
    return row * 1_000_000 + col


def chunks(total: int, wearers_n: int, minutes_per_chunk: int = 100) -> Iterator[list[Any]]:
    """Rows in id (= arrival = time) order, ``minutes_per_chunk`` minutes at a time."""
    wearers = Wearers(wearers_n, seed=7)
    lat, lon = wearers.at(600)
    assert cells(lat[:50], lon[:50]).tolist() == [
        grid.cell_of(a, b) for a, b in zip(lat[:50].tolist(), lon[:50].tolist(), strict=True)
    ]
    next_id = 1
    minute = 0
    acc = wearers.accuracy.tolist()
    while next_id <= total:
        columns: list[list[Any]] = [[] for _ in range(11)]
        for _ in range(minutes_per_chunk):
            lat, lon = wearers.at(minute)
            fix_us = START_US + minute * 60_000_000
            n = len(wearers.devices)
            columns[0].extend(range(next_id, next_id + n))
            columns[1].extend(wearers.devices)
            columns[2].extend(wearers.persons)
            columns[3].extend([fix_us] * n)
            columns[4].extend([fix_us + 3_000_000] * n)
            columns[5].extend(lat.tolist())
            columns[6].extend(lon.tolist())
            columns[7].extend(acc)
            columns[8].extend(cells(lat, lon).tolist())
            columns[9].extend([9] * n)
            columns[10].extend([round(100 - (minute % 1440) / 20, 1)] * n)
            next_id += n
            minute += 1
            if next_id > total:
                break
        keep = total - columns[0][0] + 1
        yield [c[:keep] for c in columns]


# ---------------------------------------------------------------------------------------------
# SQLite


def build_sqlite(path: Path, total: int, wearers_n: int) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    migrate.upgrade(f"sqlite:///{path}")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-4000000")
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='fixes' "
        "AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:
        db.execute(f"DROP INDEX {name}")
    sql = (
        f"INSERT INTO fixes ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
        f"1, 0, 0, 0, ?, ?, '', 'gt06', '{RAW}', '{{}}')"
    )
    t0 = time.perf_counter()
    c0 = time.process_time()
    loaded = 0
    for columns in chunks(total, wearers_n):
        db.execute("BEGIN")
        db.executemany(sql, zip(*columns, strict=True))
        db.execute("COMMIT")
        loaded += len(columns[0])
        if loaded % 5_000_000 < len(columns[0]):
            console.print(f"  {loaded:,} rows, {time.perf_counter() - t0:.0f} s")
    load_s = time.perf_counter() - t0
    for name, create in indexes:
        t1 = time.perf_counter()
        db.execute(create)
        console.print(f"  index {name}: {time.perf_counter() - t1:.0f} s")
    db.execute("ANALYZE")
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    console.print(
        f"SQLite: {total:,} fixes loaded in {load_s:.0f} s ({total / load_s:,.0f}/s wall, "
        f"CPU {time.process_time() - c0:.0f} s), total {time.perf_counter() - t0:.0f} s, "
        f"{path.stat().st_size / 1e9:.1f} GB"
    )


# ---------------------------------------------------------------------------------------------
# PostgreSQL (the store's schema, plus a PostGIS point column and GiST index on the same rows)


def postgis_missing(url: str) -> str | None:
    """Why the PostGIS peer cannot run here (with the command that installs it), or None."""
    engine = create_engine(url.rsplit("/", 1)[0] + "/postgres")
    with engine.connect() as conn:
        available = conn.execute(
            text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
        ).first()
        major = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10_000
    engine.dispose()
    if available:
        return None
    # Debian packages PostGIS per server version, e.g. postgresql-15-postgis-3.
    return f"PostGIS is not installed (apt-get install -y postgresql-{major}-postgis-3)"


def build_postgres(url: str, total: int, wearers_n: int) -> None:
    db_name = url.rsplit("/", 1)[1]
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {db_name}"))
        conn.execute(text(f"CREATE DATABASE {db_name}"))
    admin.dispose()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if postgis_missing(url) is None:  # only the PostGIS peer needs it
            conn.execute(text("CREATE EXTENSION postgis"))
        conn.execute(text("CREATE EXTENSION btree_gist"))
    migrate.upgrade(url)
    t0 = time.perf_counter()
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur:
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'fixes' "
                "AND indexname <> 'pk_fixes'"
            )
            indexes = cur.fetchall()
            for name, _ in indexes:
                cur.execute(f"DROP INDEX {name}")
            cur.execute("ALTER TABLE fixes DROP CONSTRAINT pk_fixes")
            # A scratch benchmark database: no WAL for the bulk load (crash safety is not needed).
            cur.execute("ALTER TABLE fixes SET UNLOGGED")
            cur.execute("ALTER TABLE fixes ADD COLUMN geom geometry(Point, 4326)")
            loaded = 0
            cols = ", ".join((*COLUMNS[:9], "satellites", "battery_pct", "geom"))
            for columns in chunks(total, wearers_n):
                with cur.copy(
                    f"COPY fixes ({cols}, valid, approximate, implausible, invalid_position, "
                    "alarms, protocol, raw, attributes) FROM STDIN"
                ) as copy:
                    for row in zip(*columns, strict=True):
                        copy.write_row(
                            (
                                *row,
                                f"SRID=4326;POINT({row[6]} {row[5]})",
                                True,
                                False,
                                False,
                                False,
                                "",
                                "gt06",
                                RAW,
                                "{}",
                            )
                        )
                loaded += len(columns[0])
                if loaded % 5_000_000 < len(columns[0]):
                    console.print(f"  {loaded:,} rows, {time.perf_counter() - t0:.0f} s")
            load_s = time.perf_counter() - t0
            cur.execute("SET maintenance_work_mem = '1GB'")
            cur.execute("SELECT setval(pg_get_serial_sequence('fixes', 'id'), %s)", (total,))
            steps = [
                ("pk_fixes", "ALTER TABLE fixes ADD CONSTRAINT pk_fixes PRIMARY KEY (id)"),
                *indexes,
                (
                    "ix_bench_fixes_geom_time (GiST)",
                    "CREATE INDEX ix_bench_fixes_geom_time ON fixes USING gist (geom, fix_time)",
                ),
            ]
            for name, create in steps:
                t1 = time.perf_counter()
                cur.execute(create)
                console.print(f"  index {name}: {time.perf_counter() - t1:.0f} s")
            cur.execute("VACUUM ANALYZE fixes")
            cur.execute("SELECT pg_database_size(current_database())")
            size = int(cur.fetchone()[0])  # type: ignore[index]
    engine.dispose()
    console.print(
        f"PostgreSQL: {total:,} fixes copied in {load_s:.0f} s ({total / load_s:,.0f}/s), "
        f"total {time.perf_counter() - t0:.0f} s, {size / 1e9:.1f} GB"
    )


# ---------------------------------------------------------------------------------------------
# Queries


def query_plan(url: str, n: int, seed: int) -> list[tuple[float, float, datetime, datetime]]:
    """``n`` queries centred on random stored fixes (the same list for the same data)."""
    engine = build_engine(url)
    rng = np.random.default_rng(seed)
    plan = []
    with engine.connect() as conn:
        max_id = int(conn.execute(text("SELECT max(id) FROM fixes")).scalar_one())
        last = int(conn.execute(text("SELECT max(fix_time) FROM fixes")).scalar_one())
        for _ in range(n):
            row = conn.execute(
                text("SELECT lat, lon, fix_time FROM fixes WHERE id = :id"),
                {"id": int(rng.integers(1, max_id + 1))},
            ).one()
            at_us = int(row.fix_time)
            start_us = max(START_US, at_us - int(rng.integers(0, 120)) * 60_000_000)
            end_us = min(last, start_us + 7_200_000_000)
            as_time = START + timedelta(microseconds=start_us - START_US)
            plan.append(
                (
                    float(row.lat),
                    float(row.lon),
                    as_time,
                    as_time + timedelta(microseconds=end_us - start_us),
                )
            )
    engine.dispose()
    return plan


def percentiles(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples) * 1000, float(np.percentile(samples, 99)) * 1000


def measure_store(url: str, plan: list[Any], audited_plan: list[Any]) -> dict[str, Any]:
    engine = build_engine(url)
    search: list[float] = []
    audited: list[float] = []
    found: list[list[str]] = []
    for lat, lon, start, end in plan:
        clock = FrozenClock(end + timedelta(days=1))
        with UnitOfWork(engine, clock) as uow:
            t0 = time.perf_counter()
            near = near_queries.near_unaudited(
                uow, OPERATOR, lat, lon, 200, start, end, scope=all_ok
            )
            search.append(time.perf_counter() - t0)
        found.append(sorted(a.person_id for a in near))
    # Other places than the search's, so these do not find their pages already cached by it.
    for lat, lon, start, end in audited_plan:
        clock = FrozenClock(end + timedelta(days=1))
        with UnitOfWork(engine, clock) as uow:
            t0 = time.perf_counter()
            near_queries.who_was_near(
                uow, OPERATOR, lat, lon, 200, start, end, "benchmark", scope=all_ok
            )
            audited.append(time.perf_counter() - t0)
    engine.dispose()
    return {"search": percentiles(search), "audited": percentiles(audited), "found": found}


POSTGIS_NEAR = """
WITH near AS (
  SELECT id, person_id, fix_time, accuracy_m,
         ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography)
           AS d
  FROM fixes
  WHERE geom && ST_Expand(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), %(deg)s)
    AND fix_time BETWEEN %(start)s AND %(end)s
    AND person_id IS NOT NULL AND cell IS NOT NULL AND coalesce(accuracy_m, 0) <= 100
    AND ST_DWithin(geom::geography,
                   ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography,
                   %(radius)s + coalesce(accuracy_m, 0))
)
SELECT DISTINCT ON (person_id) person_id, id, fix_time, d, greatest(0, d - coalesce(accuracy_m, 0))
FROM near ORDER BY person_id, greatest(0, d - coalesce(accuracy_m, 0)), d, fix_time, id
"""


def measure_postgis(url: str, plan: list[Any]) -> dict[str, Any]:
    """Each person's closest approach and their near fixes, as the store answers, by PostGIS."""
    engine = create_engine(url)
    times: list[float] = []
    found: list[list[str]] = []
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur:
            for lat, lon, start, end in plan:
                params = postgis_params(lat, lon, start, end)
                t0 = time.perf_counter()
                cur.execute(POSTGIS_NEAR, params)
                rows = cur.fetchall()
                times.append(time.perf_counter() - t0)
                found.append(sorted(str(r[0]) for r in rows))
            raw.rollback()
    engine.dispose()
    return {"search": percentiles(times), "found": found}


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("action", choices=("build-sqlite", "build-postgres", "measure"))
    parser.add_argument("--fixes", type=int, default=50_000_000)
    parser.add_argument("--wearers", type=int, default=10_000)
    parser.add_argument("--sqlite", type=Path, default=DEFAULT_SQLITE)
    parser.add_argument("--postgres", default=DEFAULT_PG)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--backends", default="sqlite,postgres,postgis")
    parser.add_argument(
        "--seed",
        type=int,
        default=2026,
        help="query places; use a new one per run, or the pages the last run read are cached",
    )
    args = parser.parse_args()
    if args.action == "build-sqlite":
        build_sqlite(args.sqlite, args.fixes, args.wearers)
        return
    if args.action == "build-postgres":
        build_postgres(args.postgres, args.fixes, args.wearers)
        return
    sqlite_url = f"sqlite:///{args.sqlite}"
    plan = query_plan(sqlite_url, args.queries, seed=args.seed)
    audited_plan = query_plan(sqlite_url, args.queries, seed=args.seed + 1_000_000)
    backends = args.backends.split(",")
    with build_engine(sqlite_url).connect() as conn:
        size = int(conn.execute(text("SELECT count(*) FROM fixes")).scalar_one())
    table = Table(title=f"Who was near (200 m, 2-hour window), {size:,} fixes, {len(plan)} queries")
    for column in (
        "backend",
        "search p50",
        "search p99",
        "audited p50",
        "audited p99",
        "persons",
        "load avg",
    ):
        table.add_column(column, justify="right")
    reference: list[list[str]] | None = None
    for backend in backends:
        if backend == "postgis":
            missing = postgis_missing(args.postgres)
            if missing is not None:
                console.print(f"postgis: skipped: {missing}")
                continue
            result = measure_postgis(args.postgres, plan)
        else:
            url = sqlite_url if backend == "sqlite" else args.postgres
            result = measure_store(url, plan, audited_plan)
        if reference is None:
            reference = result["found"]
        agree = sum(a == b for a, b in zip(reference, result["found"], strict=True))
        audited = result.get("audited")
        table.add_row(
            backend,
            f"{result['search'][0]:.1f} ms",
            f"{result['search'][1]:.1f} ms",
            f"{audited[0]:.1f} ms" if audited else "—",
            f"{audited[1]:.1f} ms" if audited else "—",
            f"{statistics.mean(len(f) for f in result['found']):.1f} ({agree}/{len(plan)} agree)",
            load_average(),
        )
    console.print(table)


if __name__ == "__main__":
    main()
