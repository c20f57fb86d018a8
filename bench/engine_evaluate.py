"""Evaluation alone: compiled, vectorised Vigil engine vs a per-fix shapely loop vs PostGIS per fix.

10,000 wearers with 3 exclusion zones each (circles and 6-15-sided polygons, mixed), 100 fixes
per wearer every 10 s (accuracy 5-60 m), 2% of wearers walking through a zone. The engine runs
on one core (CPU affinity pinned). The peers classify a sample of the same fixes the way a team
would otherwise build it, and are scaled to fixes per second.

    .venv/bin/python bench/engine_evaluate.py [--wearers 10000] [--per-wearer 100]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import shapely
from rich.console import Console
from rich.table import Table
from shapely.geometry import Point, shape
from shapely.prepared import prep

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.engine_common import make_fixes, make_world, slice_batch

from vigil.engine.core import Engine
from vigil.engine.plan import parse_plan
from vigil.geo.projection import LocalPlane

POSTGRES = os.environ.get("VIGIL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def vigil(plan, fixes, batch: int) -> tuple[float, Engine]:
    engine = Engine(plan)
    began = time.perf_counter()
    for lo in range(0, len(fixes), batch):
        engine.process(slice_batch(fixes, lo, lo + batch))
    return time.perf_counter() - began, engine


def shapely_loop(world, fixes, sample: int) -> tuple[float, int]:
    """Per fix, per zone: project, build a Point, prepared contains and a boundary distance."""
    zones = []
    for person in world.scenario["persons"]:
        mine = []
        for condition in person["conditions"]:
            geometry = condition["geometry"]
            lon0, lat0 = (
                geometry["coordinates"]
                if geometry["type"] == "Point"
                else np.asarray(geometry["coordinates"][0])[:-1].mean(axis=0)
            )
            plane = LocalPlane(float(lon0), float(lat0))
            if geometry["type"] == "Point":
                shaped = Point(0, 0).buffer(condition["radius_m"], 32)
            else:
                shaped = shapely.transform(
                    shape(geometry),
                    lambda c, plane=plane: np.column_stack(plane.forward(c[:, 0], c[:, 1])),
                )
            mine.append(
                (plane, shaped, prep(shaped), shaped.boundary, condition.get("buffer_m", 0.0))
            )
        zones.append(mine)
    codes = fixes.device_codes[:sample].tolist()
    lons, lats, accs = (
        fixes.lon[:sample].tolist(),
        fixes.lat[:sample].tolist(),
        fixes.acc[:sample].tolist(),
    )
    inside = 0
    began = time.perf_counter()
    for code, lon, lat, acc in zip(codes, lons, lats, accs, strict=True):
        for plane, _shaped, prepared, boundary, _buffer in zones[code]:
            x = (lon - plane.lon0) * plane.kx
            y = (lat - plane.lat0) * plane.ky
            point = Point(x, y)
            d = boundary.distance(point)
            if prepared.contains(point):
                d = -d
            inside += d <= -acc
    return time.perf_counter() - began, inside


def postgis(world, fixes, sample: int) -> tuple[float, str]:
    try:
        import psycopg
    except ImportError:
        return float("nan"), "psycopg missing"
    schema = f"bench_engine_{uuid.uuid4().hex[:8]}"
    try:
        connection = psycopg.connect(POSTGRES, autocommit=True)
    except Exception as exc:  # report, do not fail the other columns
        return float("nan"), f"unreachable: {exc}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
        if cursor.fetchone() is None:
            # Debian packages PostGIS per server version, e.g. postgresql-15-postgis-3.
            cursor.execute("SHOW server_version_num")
            major = int(cursor.fetchone()[0]) // 10_000
            connection.close()
            install = f"apt-get install -y postgresql-{major}-postgis-3"
            return float("nan"), f"skipped: PostGIS is not installed ({install})"
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA {schema}")
            cursor.execute(f"SET search_path TO {schema}, public")
            cursor.execute(f"CREATE EXTENSION IF NOT EXISTS postgis SCHEMA {schema}")
            cursor.execute(
                "CREATE TABLE zones (person int, zone int, buffer_m float8, geom geography)"
            )
            rows = []
            for p_index, person in enumerate(world.scenario["persons"]):
                for z_index, condition in enumerate(person["conditions"]):
                    rows.append((p_index, z_index, condition.get("buffer_m", 0.0), condition))
            with cursor.copy("COPY zones (person, zone, buffer_m, geom) FROM STDIN") as copy:
                for p_index, z_index, buffer_m, condition in rows:
                    geometry = condition["geometry"]
                    if geometry["type"] == "Point":
                        lon, lat = geometry["coordinates"]
                        ewkt = f"SRID=4326;POINT({lon} {lat})"
                    else:
                        ring = ", ".join(f"{x} {y}" for x, y in geometry["coordinates"][0])
                        ewkt = f"SRID=4326;POLYGON(({ring}))"
                    copy.write_row((p_index, z_index, buffer_m, ewkt))
            # Circles become real discs (geodesic buffer) so both kinds are polygons in PostGIS.
            radius = {
                (p, z): c["radius_m"]
                for p, person in enumerate(world.scenario["persons"])
                for z, c in enumerate(person["conditions"])
                if c["geometry"]["type"] == "Point"
            }
            cursor.execute("CREATE TEMP TABLE radii (person int, zone int, r float8)")
            with cursor.copy("COPY radii FROM STDIN") as copy:
                for (p, z), r in radius.items():
                    copy.write_row((p, z, r))
            cursor.execute(
                "UPDATE zones SET geom = ST_Buffer(zones.geom, radii.r) FROM radii "
                "WHERE radii.person = zones.person AND radii.zone = zones.zone"
            )
            cursor.execute("CREATE INDEX zones_geom ON zones USING gist (geom)")
            cursor.execute("CREATE INDEX zones_person ON zones (person)")
            cursor.execute("ANALYZE zones")
            query = (
                "SELECT zone, ST_Distance(geom, pt), ST_Covers(geom, pt) FROM zones, "
                "(SELECT ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography AS pt) AS q "
                "WHERE person = %s AND ST_DWithin(geom, pt, buffer_m + %s)"
            )
            codes = fixes.device_codes[:sample].tolist()
            lons, lats = fixes.lon[:sample].tolist(), fixes.lat[:sample].tolist()
            accs = fixes.acc[:sample].tolist()
            began = time.perf_counter()
            for code, lon, lat, acc in zip(codes, lons, lats, accs, strict=True):
                cursor.execute(query, (lon, lat, code, acc), prepare=True)
                cursor.fetchall()
            elapsed = time.perf_counter() - began
            return elapsed, "GiST on geography, one prepared query per fix"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wearers", type=int, default=10_000)
    parser.add_argument("--per-wearer", type=int, default=100)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--shapely-sample", type=int, default=20_000)
    parser.add_argument("--postgis-sample", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    console = Console(width=150)
    world = make_world(args.wearers)
    plan = parse_plan(world.scenario)
    fixes = make_fixes(world, args.per_wearer)
    n = len(fixes)
    best = float("inf")
    engine = None
    for _ in range(args.runs):
        elapsed, engine = vigil(plan, fixes, args.batch)
        best = min(best, elapsed)
    assert engine is not None
    small_batch = max(1, args.batch // 10)
    small = min(vigil(plan, fixes, small_batch)[0] for _ in range(args.runs))
    shapely_s, _ = shapely_loop(world, fixes, args.shapely_sample)
    postgis_s, postgis_note = postgis(world, fixes, args.postgis_sample)
    vigil_rate = n / best
    table = Table(
        title=f"Evaluation alone: {args.wearers:,} wearers x 3 zones, {n:,} fixes, one core"
    )
    for column in ("method", "fixes", "seconds", "fixes/s", "Vigil is x faster"):
        table.add_column(column, justify="right" if column != "method" else "left")
    table.add_row(
        f"Vigil engine, batches of {args.batch:,}",
        f"{n:,}",
        f"{best:.2f}",
        f"{vigil_rate:,.0f}",
        "1",
    )
    table.add_row(
        f"Vigil engine, batches of {small_batch:,}",
        f"{n:,}",
        f"{small:.2f}",
        f"{n / small:,.0f}",
        f"{vigil_rate / (n / small):.2f}",
    )
    shapely_rate = args.shapely_sample / shapely_s
    table.add_row(
        "per-fix shapely loop (prepared, projected)",
        f"{args.shapely_sample:,}",
        f"{shapely_s:.2f}",
        f"{shapely_rate:,.0f}",
        f"{vigil_rate / shapely_rate:,.0f}",
    )
    if np.isfinite(postgis_s):
        postgis_rate = args.postgis_sample / postgis_s
        table.add_row(
            "PostGIS per fix (" + postgis_note + ")",
            f"{args.postgis_sample:,}",
            f"{postgis_s:.2f}",
            f"{postgis_rate:,.0f}",
            f"{vigil_rate / postgis_rate:,.0f}",
        )
    else:
        table.add_row("PostGIS per fix", "-", "-", postgis_note, "-")
    console.print(table)
    stats = engine.stats
    console.print(
        f"episodes raised: {len(engine.ledger.episodes):,}; zone machines stepped in Python: "
        f"{stats.stepped_pairs:,} of {n * 3:,} (fix, zone) pairs"
    )


if __name__ == "__main__":
    main()
