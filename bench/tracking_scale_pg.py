"""Trail store on PostgreSQL at the largest scale the machine allows: who-was-near and a person's
trail on the store's own indexes, side by side with PostGIS on the same rows.

    .venv/bin/python bench/tracking_scale_pg.py build --fixes 2000000
    .venv/bin/python bench/tracking_scale_pg.py measure --queries 300 --seed 11

Building is *data loading for the benchmark*, not the store's code path. The database is created
by the real migrations (so it has the store's real schema, indexes, triggers and, when the table
is partitioned, its partitions); the fixes table's constraints and indexes are dropped, the rows
are generated *inside PostgreSQL* (``INSERT ... SELECT`` over ``generate_series``, a few hours of
fixes per statement, ``--jobs`` statements at once) into unlogged tables, and the same
constraints and indexes are rebuilt from their recorded definitions, then a GiST index for
PostGIS. Python's ``COPY`` (bench/tracking_scale.py) made about 43,000 rows/s on this machine;
generating the rows in the server saves building and parsing every row in Python.

Data: ``--wearers`` simulated wearers in 40 x 40 km round Birmingham (home at night, work by day,
a half-hour commute, about 15 m noise), one fix a minute each, a 36-byte GT06 frame as the raw
message, a frame key (so the partial index of rows stored before tracking_0002 stays empty, as in
a store written since), and a ``geometry(Point, 4326)`` column for PostGIS on the same rows. The
randomness is ``hashint8extended`` of the wearer, the fix and a seed: the same arguments give the
same rows. The span is centred on 1 March 2026 00:00 UTC, so it crosses a month.

Queries (``measure``): who-was-near centred on the position of a random stored fix, 200 m, a
2-hour window round it; "search" is ``near_queries.near_unaudited``, "audited" is
``near_queries.who_was_near`` with its audit entry committed (at other places than the search's),
"postgis" is ``ST_DWithin`` on geography over the GiST index with the same accuracy rules
(bench/tracking_scale.py ``POSTGIS_NEAR``), its person sets checked against the store's. Trails:
``queries.trail`` (audited, one ``StoredFix`` per fix) over a day and over a week, a random wearer
and start each. CPU is this process's plus its server backend's (read from /proc), per query.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.tracking_scale import OPERATOR, POSTGIS_NEAR, RAW, all_ok, postgis_params

from vigil.clock import FrozenClock
from vigil.db import migrate
from vigil.db.engine import build_engine
from vigil.db.uow import UnitOfWork
from vigil.tracking import grid, near_queries, partitions, queries, trail_reads
from vigil.tracking.tables import from_micros, to_micros

DEFAULT_URL = "postgresql://postgres@127.0.0.1/vigil_bench_scale"
UNPARTITIONED_MIDPOINT = datetime(2026, 3, 1, tzinfo=UTC)
MINUTE_US = 60_000_000
CHUNK_MINUTES = 180
SEED = 7
TICK = os.sysconf("SC_CLK_TCK")

# Uniform [0, 1) from the server's own 64-bit hash: deterministic, and inlined by the planner.
UNIFORM = """
CREATE FUNCTION bench_u(x bigint, k bigint) RETURNS float8 IMMUTABLE PARALLEL SAFE
LANGUAGE sql AS $$ SELECT (hashint8extended(x, k) & 4294967295)::float8 / 4294967296.0 $$
"""
WEARERS = """
CREATE UNLOGGED TABLE bench_wearers AS
SELECT w, 'T' || lpad(w::text, 5, '0') AS device_id, 'P' || lpad(w::text, 5, '0') AS person_id,
       (bench_u(w, 1) * 2 - 1) * 20000 AS hx, (bench_u(w, 2) * 2 - 1) * 20000 AS hy,
       (bench_u(w, 3) * 2 - 1) * 20000 AS wx, (bench_u(w, 4) * 2 - 1) * 20000 AS wy,
       6.5 + bench_u(w, 5) * 2.5 AS leave_h, 16 + bench_u(w, 6) * 3 AS back_h,
       round(8 + bench_u(w, 7) * 320) / 10 AS acc
FROM generate_series(0, {wearers} - 1) AS w
"""
# One statement per chunk of minutes, rows in id (= arrival = time) order: the lateral join
# keeps the minute the outer loop. Noise: a sum of three uniforms, standard deviation 15 m.
INSERT = """
INSERT INTO fixes (id, device_id, person_id, fix_time, receive_time, lat, lon, accuracy_m, cell,
                   valid, approximate, implausible, invalid_position, satellites, battery_pct,
                   alarms, protocol, raw, attributes, frame_key, geom)
SELECT p.id, w.device_id, w.person_id, p.t, p.t + 3000000, p.lat, p.lon, w.acc,
       (floor(p.lat / 0.002)::bigint + 45000) * 1000000 + floor(p.lon / 0.003)::bigint + 60000,
       true, false, false, false, 9, round((100 - (m %% 1440) / 20.0)::numeric, 1)::float8,
       '', 'gt06', %(raw)s, '{}', hashint8extended(p.id, 99),
       ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)
FROM generate_series(%(m0)s::int, %(m1)s::int) AS m
CROSS JOIN LATERAL (SELECT * FROM bench_wearers WHERE m IS NOT NULL) AS w
CROSS JOIN LATERAL (
  SELECT id, t, round((52.48 + y / 111320.0) * 1e7) / 1e7 AS lat,
         round((-1.89 + x / (111320.0 * cos(radians(52.48)))) * 1e7) / 1e7 AS lon
  FROM (SELECT m::bigint * %(wearers)s::bigint + w.w + 1 AS id,
               %(start)s::bigint + m::bigint * 60000000 AS t,
               least(greatest((((m %% 1440) / 60.0) - w.leave_h) / 0.5, 0), 1)
               * (1 - least(greatest((((m %% 1440) / 60.0) - w.back_h) / 0.5, 0), 1)) AS share) AS s
  CROSS JOIN LATERAL (
    SELECT w.hx + (w.wx - w.hx) * s.share
             + (bench_u(s.id, 11) + bench_u(s.id, 12) + bench_u(s.id, 13) - 1.5) * 30 AS x,
           w.hy + (w.wy - w.hy) * s.share
             + (bench_u(s.id, 14) + bench_u(s.id, 15) + bench_u(s.id, 16) - 1.5) * 30 AS y) AS xy
) AS p
WHERE p.id <= %(total)s::bigint
"""


def log(message: str) -> None:
    print(f"{datetime.now(UTC):%H:%M:%S} {message}", file=sys.stderr, flush=True)


def midpoint(url: str) -> datetime:
    """Where the span is centred: on the partitioned layout (tracking_0003), the start of the
    second month after ``fixes_before`` (the trail the upgrade found, which ends the month after
    the upgrade ran), so the fixes fill monthly partitions and cross from one to the next
    whatever the date; on one table, 1 March 2026."""
    engine = build_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        found = [p for p in partitions.list_partitions(conn) if p.name == "fixes_before"]
    engine.dispose()
    if not found or found[0].upper is None:
        return UNPARTITIONED_MIDPOINT
    return partitions.next_month(found[0].upper)


def span(total: int, wearers: int, middle: datetime) -> tuple[datetime, int]:
    """The first fix time (on the hour, half the span before ``middle``) and the minutes."""
    minutes = math.ceil(total / wearers)
    return middle - timedelta(hours=minutes // 120), minutes


def leaf_tables(cur: psycopg.Cursor[Any]) -> list[str]:
    cur.execute(
        "SELECT c.relname FROM pg_partition_tree('fixes') t JOIN pg_class c ON c.oid = t.relid "
        "WHERE t.isleaf ORDER BY 1"
    )
    return [r[0] for r in cur.fetchall()]


def ensure_partitions(cur: psycopg.Cursor[Any], url: str, start: datetime, minutes: int) -> None:
    """Months of the span that no partition holds yet get one (when the table is partitioned)."""
    cur.execute("SELECT relkind FROM pg_class WHERE relname = 'fixes'")
    if cur.fetchone() != ("p",):
        return
    month = start.replace(day=1, hour=0, minute=0)
    end = start + timedelta(minutes=minutes)
    engine = build_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        existing = partitions.list_partitions(conn)
    engine.dispose()
    while month < end:
        following = (month + timedelta(days=32)).replace(day=1)
        if not any(p.overlaps(month, following) for p in existing):
            cur.execute(
                f"CREATE TABLE fixes_{month:%Y_%m} PARTITION OF fixes FOR VALUES FROM "
                f"({to_micros(month)}) TO ({to_micros(following)})"
            )
            log(f"created partition fixes_{month:%Y_%m}")
        month = following


def strip_fixes(cur: psycopg.Cursor[Any]) -> list[tuple[str, str]]:
    """Drop the fixes table's constraints and indexes; returns how to rebuild them, in order."""
    cur.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'fixes'::regclass AND contype IN ('p', 'u') ORDER BY contype, conname"
    )
    constraints = cur.fetchall()
    cur.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'fixes' "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint "
        "WHERE conrelid = 'fixes'::regclass) ORDER BY indexname"
    )
    # A partitioned table's index is recorded "ON ONLY fixes", which would build no partition's.
    indexes = [(n, d.replace(" ON ONLY ", " ON ", 1)) for n, d in cur.fetchall()]
    for name, _ in constraints:
        cur.execute(f"ALTER TABLE fixes DROP CONSTRAINT {name}")
    for name, _ in indexes:
        cur.execute(f"DROP INDEX {name}")
    return [(n, f"ALTER TABLE fixes ADD CONSTRAINT {n} {d}") for n, d in constraints] + indexes


def insert_chunk(url: str, params: dict[str, Any]) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        return conn.execute(INSERT, params).rowcount


def build(url: str, total: int, wearers: int, jobs: int, gist: str) -> None:
    db = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {db}")
        admin.execute(f"CREATE DATABASE {db}")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")
        conn.execute("CREATE EXTENSION btree_gist")
    migrate.upgrade(url.replace("postgresql://", "postgresql+psycopg://"))
    start, minutes = span(total, wearers, midpoint(url))
    log(f"{total:,} fixes: {wearers:,} wearers x {minutes:,} minutes from {start:%Y-%m-%d %H:%M}")
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        ensure_partitions(cur, url, start, minutes)
        rebuild = strip_fixes(cur)
        cur.execute("ALTER TABLE fixes ADD COLUMN geom geometry(Point, 4326)")
        # A scratch benchmark database: no WAL for the bulk load (crash safety is not needed).
        for leaf in leaf_tables(cur):
            cur.execute(f"ALTER TABLE {leaf} SET UNLOGGED")
        cur.execute(UNIFORM)
        cur.execute(WEARERS.format(wearers=int(wearers)))
        cur.execute("ANALYZE bench_wearers")
        base = {"raw": RAW, "wearers": wearers, "start": to_micros(start), "total": total}
        chunks = [
            {**base, "m0": m, "m1": min(minutes, m + CHUNK_MINUTES) - 1}
            for m in range(0, minutes, CHUNK_MINUTES)
        ]
        loaded = 0
        with ThreadPoolExecutor(jobs) as pool:
            for n in pool.map(lambda p: insert_chunk(url, p), chunks):
                loaded += n
                elapsed = time.perf_counter() - t0
                log(f"  {loaded:,} rows, {elapsed:.0f} s, {loaded / elapsed:,.0f}/s, {load()}")
        load_s = time.perf_counter() - t0
        cur.execute("SET maintenance_work_mem = '2GB'")
        cur.execute("SET max_parallel_maintenance_workers = 2")
        cur.execute("SELECT setval(pg_get_serial_sequence('fixes', 'id'), %s)", (total,))
        if gist in ("geom", "both"):
            rebuild.append(
                (
                    "ix_bench_fixes_geom",
                    "CREATE INDEX ix_bench_fixes_geom ON fixes USING gist (geom)",
                )
            )
        if gist in ("geom-time", "both"):
            rebuild.append(
                (
                    "ix_bench_fixes_geom_time",
                    "CREATE INDEX ix_bench_fixes_geom_time ON fixes USING gist (geom, fix_time)",
                )
            )
        for name, create in rebuild:
            t1 = time.perf_counter()
            cur.execute(create)
            log(f"  index {name}: {time.perf_counter() - t1:.0f} s, {load()}")
        t1 = time.perf_counter()
        cur.execute("VACUUM (ANALYZE) fixes")
        log(f"  vacuum analyze: {time.perf_counter() - t1:.0f} s")
        check_cells(cur)
    log(
        f"built: {total:,} fixes, load {load_s:.0f} s ({total / load_s:,.0f}/s), "
        f"total {time.perf_counter() - t0:.0f} s"
    )
    sizes(url)


def check_cells(cur: psycopg.Cursor[Any]) -> None:
    """The server's cell formula gives grid.cell_of's cell for the stored position."""
    cur.execute("SELECT lat, lon, cell FROM fixes TABLESAMPLE SYSTEM (0.1) LIMIT 20000")
    rows = cur.fetchall()
    wrong = sum(grid.cell_of(lat, lon) != cell for lat, lon, cell in rows)
    assert wrong == 0, f"{wrong} of {len(rows)} sampled cells differ from grid.cell_of"


def sizes(url: str) -> None:
    """The table and each of its indexes on disk, summed over partitions, and each partition."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT r.relname, (SELECT sum(pg_relation_size(t.relid)) "
            "FROM pg_partition_tree(r.oid) t) FROM pg_class r WHERE r.relname = 'fixes' "
            "OR r.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'fixes'::regclass) "
            "UNION ALL SELECT c.relname, pg_relation_size(c.oid) "
            "FROM pg_partition_tree('fixes') t JOIN pg_class c ON c.oid = t.relid "
            "WHERE t.isleaf AND c.relname <> 'fixes' ORDER BY 2 DESC"
        ).fetchall()
        database = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    for name, size in rows:
        log(f"  {name}: {int(size) / 1e9:.2f} GB")
    assert database is not None
    log(f"  database: {database[0] / 1e9:.2f} GB")


# ---------------------------------------------------------------------------------------------
# Measuring


def load() -> str:
    return "load " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def backend_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@dataclass
class Run:
    """One kind of query run many times: wall seconds each, and CPU (client + server) in all."""

    name: str
    wall: list[float]
    cpu_s: float
    found: list[int]
    load_avg: str

    def row(self) -> str:
        p50 = statistics.median(self.wall) * 1000
        p99 = float(np.percentile(self.wall, 99)) * 1000
        cpu = self.cpu_s / len(self.wall) * 1000
        found = statistics.mean(self.found)
        return (
            f"| {self.name} | {len(self.wall)} | {p50:.1f} ms | {p99:.1f} ms | {cpu:.1f} ms "
            f"| {found:,.1f} | {self.load_avg} |"
        )


Place = tuple[float, float, datetime, datetime]


def near_plan(url: str, n: int, seed: int) -> list[Place]:
    """``n`` places of random stored fixes with a 2-hour window round each."""
    rng = np.random.default_rng(seed)
    plan: list[Place] = []
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT max(id), min(fix_time), max(fix_time) FROM fixes").fetchone()
        assert row is not None
        max_id, first, last = (int(v) for v in row)
        for _ in range(n):
            found = conn.execute(
                "SELECT lat, lon, fix_time FROM fixes WHERE id = %s",
                (int(rng.integers(1, max_id + 1)),),
            ).fetchone()
            assert found is not None
            start_us = max(first, int(found[2]) - int(rng.integers(0, 120)) * MINUTE_US)
            end_us = min(last, start_us + 120 * MINUTE_US)
            plan.append((found[0], found[1], from_micros(start_us), from_micros(end_us)))
    return plan


def timed(
    engine: Any,
    name: str,
    items: list[Any],
    one: Callable[[UnitOfWork, Any], int],
    parallel: bool = True,
) -> Run:
    """Each item in its own unit of work on one pooled connection, whose backend's CPU counts
    (parallel workers' CPU does not: ``parallel=False`` forbids them, for that column)."""
    middle = midpoint(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        pid = int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
        workers = 2 if parallel else 0
        conn.exec_driver_sql(f"SET max_parallel_workers_per_gather = {workers}")
        conn.commit()
    wall: list[float] = []
    found: list[int] = []
    server0, client0 = backend_cpu(pid), time.process_time()
    for item in items:
        with UnitOfWork(engine, FrozenClock(middle + timedelta(days=60))) as uow:
            t0 = time.perf_counter()
            found.append(one(uow, item))
            wall.append(time.perf_counter() - t0)
    cpu = backend_cpu(pid) - server0 + time.process_time() - client0
    with engine.connect() as conn:
        same = int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()) == pid
    assert same, "the pool changed connections: server CPU would be wrong"
    return Run(name, wall, cpu, found, load())


def measure(url: str, n: int, trail_n: int, seed: int) -> None:
    engine = build_engine(url.replace("postgresql://", "postgresql+psycopg://"), pool_size=1)
    plan, audited_plan = near_plan(url, n, seed), near_plan(url, n, seed + 1_000_000)
    persons: list[list[str]] = []

    def search(uow: UnitOfWork, p: Place) -> int:
        near = near_queries.near_unaudited(uow, OPERATOR, *p[:2], 200, *p[2:], scope=all_ok)
        persons.append(sorted(a.person_id for a in near))
        return len(near)

    def audited(uow: UnitOfWork, p: Place) -> int:
        near = near_queries.who_was_near(
            uow, OPERATOR, *p[:2], 200, *p[2:], "benchmark", scope=all_ok
        )
        uow.commit()
        return len(near)

    postgis_persons: list[list[str]] = []

    def postgis(uow: UnitOfWork, p: Place) -> int:
        lat, lon, start, end = p
        params = postgis_params(lat, lon, start, end)
        driver = uow.connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cur:
            cur.execute(POSTGIS_NEAR, params)
            rows = cur.fetchall()
        postgis_persons.append(sorted(str(r[0]) for r in rows))
        return len(rows)

    runs = [
        timed(engine, "who-was-near, store (search)", plan, search),
        timed(engine, "who-was-near, store (audited, committed)", audited_plan, audited),
        timed(engine, "who-was-near, PostGIS", plan, postgis),
    ]
    agree = sum(a == b for a, b in zip(persons, postgis_persons, strict=True))
    postgis_persons.clear()
    runs.append(timed(engine, "who-was-near, PostGIS, no parallel workers", plan, postgis, False))
    agree_serial = sum(a == b for a, b in zip(persons, postgis_persons, strict=True))
    runs += trails(url, engine, trail_n, seed)
    plans(url, plan[0])
    print(
        f"\n{len(plan)} who-was-near places (200 m, 2 h); PostGIS agrees with the store on "
        f"{agree}/{len(plan)} (without parallel workers {agree_serial}/{len(plan)})"
    )
    print("| query | n | p50 | p99 | CPU per query | persons / fixes | load avg |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for run in runs:
        print(run.row())
    engine.dispose()


def plans(url: str, place: Place) -> None:
    """Which indexes and partitions the store's and PostGIS's queries read (the first place)."""
    lat, lon, start, end = place
    reach = 200 + queries.DEFAULT_MAX_ACCURACY_M
    south, north, west, east = grid.bounding_box(lat, lon, reach)
    store = (grid.cells_covering(lat, lon, reach), to_micros(start), to_micros(end))
    box = (south, north, west, east, queries.DEFAULT_MAX_ACCURACY_M)
    postgis = postgis_params(lat, lon, start, end)
    with psycopg.connect(url) as conn:
        for name, sql, params in (
            (
                "store",
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + trail_reads._PG_NEAR,
                (*store, *box),
            ),
            ("postgis", "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + POSTGIS_NEAR, postgis),
        ):
            lines = [r[0] for r in conn.execute(sql, params).fetchall()]
            print(f"\n{name} plan (first place):\n  " + "\n  ".join(lines))


def trails(url: str, engine: Any, n: int, seed: int) -> list[Run]:
    rng = np.random.default_rng(seed + 2_000_000)
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT min(fix_time), max(fix_time) FROM fixes").fetchone()
        who = [r[0] for r in conn.execute("SELECT person_id FROM bench_wearers").fetchall()]
    assert row is not None
    first, last = from_micros(int(row[0])), from_micros(int(row[1]))
    runs = []
    for name, length in (("trail, a day", timedelta(days=1)), ("trail, a week", timedelta(days=7))):
        room = max(0, int((last - first - length).total_seconds() // 60))
        items = [
            (str(rng.choice(who)), first + timedelta(minutes=int(rng.integers(0, room + 1))))
            for _ in range(n)
        ]

        def one(uow: UnitOfWork, item: tuple[str, datetime], length: timedelta = length) -> int:
            found = queries.trail(
                uow, OPERATOR, item[0], item[1], item[1] + length, "benchmark", scope=all_ok
            )
            uow.commit()
            return len(found.fixes)

        runs.append(timed(engine, f"{name} (queries.trail, audited)", items, one))
    return runs


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("action", choices=("build", "measure", "sizes"))
    parser.add_argument("--postgres", default=DEFAULT_URL)
    parser.add_argument("--fixes", type=int, default=2_000_000)
    parser.add_argument("--wearers", type=int, default=8_000)
    parser.add_argument("--jobs", type=int, default=2, help="INSERT statements at once")
    parser.add_argument(
        "--gist",
        choices=("geom", "geom-time", "both", "none"),
        default="geom",
        help="PostGIS index: on geom alone (sorted build) or on (geom, fix_time) (btree_gist)",
    )
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--trail-queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026, help="query places; new one per run")
    args = parser.parse_args()
    if args.action == "build":
        build(args.postgres, args.fixes, args.wearers, args.jobs, args.gist)
    elif args.action == "sizes":
        sizes(args.postgres)
    else:
        measure(args.postgres, args.queries, args.trail_queries, args.seed)
