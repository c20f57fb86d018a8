"""Shared test data for the trail store: fixes built by hand and the real Liverpool bus day."""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text

from tests.conftest import DEFAULT_POSTGRES_URL, FIXTURES, require_service
from vigil.security.model import Principal, Role
from vigil.tracking.model import Fix

LIVERPOOL = FIXTURES / "trajectories" / "liverpool_bus_route14_outbound.csv"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
OPERATOR = Principal(id=7, name="operator", role=Role.MONITORING_OPERATOR)


def fix(
    device: str = "T1",
    at: datetime = T0,
    lat: float | None = 52.4862,
    lon: float | None = -1.8904,
    accuracy_m: float | None = 10.0,
    **extra: object,
) -> Fix:
    return Fix(
        device_id=device,
        fix_time=at,
        receive_time=at + timedelta(seconds=2),
        lat=lat,
        lon=lon,
        protocol="test",
        accuracy_m=accuracy_m,
        **extra,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class BusFix:
    person: str
    fix: Fix


def liverpool_buses() -> list[BusFix]:
    """Each bus is a "person"; accuracies 5–65 m are assigned by row so accuracy matters."""
    out: list[BusFix] = []
    with LIVERPOOL.open(newline="") as handle:
        for n, row in enumerate(csv.DictReader(handle)):
            at = datetime.strptime(row["timestamp"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            vehicle = row["vehicle_id"]
            out.append(
                BusFix(
                    f"bus-{vehicle}",
                    Fix(
                        device_id=f"BUS{vehicle}",
                        fix_time=at,
                        receive_time=at,
                        lat=float(row["latitude"]),
                        lon=float(row["longitude"]),
                        protocol="bods",
                        accuracy_m=5.0 + (n * 7) % 61,
                        raw=row["id"],
                    ),
                )
            )
    return out


def postgres_schema(prefix: str) -> Iterator[str]:
    """A schema of its own on the test PostgreSQL; fails under CI=true when unreachable."""
    base = os.environ.get("VIGIL_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:
        admin.dispose()
        require_service("PostgreSQL", False, str(exc))
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()
