"""Reading the trail store: stored fixes by person, by id and near a place (cell candidates
for the near-point queries), raw messages, and devices no one holds.

No audit here: these serve the system itself; people read through ``tracking.queries`` and
``tracking.near_queries``, which scope and audit each read."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from vigil.tracking.grid import bounding_box, cells_covering
from vigil.tracking.model import StoredFix
from vigil.tracking.store import NearRow, tune_sqlite
from vigil.tracking.tables import (
    fixes,
    from_micros,
    to_micros,
)

STORED_COLUMNS = (
    fixes.c.id,
    fixes.c.person_id,
    fixes.c.device_id,
    fixes.c.fix_time,
    fixes.c.receive_time,
    fixes.c.lat,
    fixes.c.lon,
    fixes.c.accuracy_m,
    fixes.c.valid,
    fixes.c.approximate,
    fixes.c.implausible,
    fixes.c.invalid_position,
    fixes.c.protocol,
    fixes.c.battery_pct,
    fixes.c.alarms,
)


def stored_fix(row: Any) -> StoredFix:
    return StoredFix(
        id=int(row.id),
        person_id=row.person_id,
        device_id=row.device_id,
        fix_time=row.fix_time,
        receive_time=row.receive_time,
        lat=row.lat,
        lon=row.lon,
        accuracy_m=row.accuracy_m,
        valid=bool(row.valid),
        approximate=bool(row.approximate),
        implausible=bool(row.implausible),
        invalid_position=bool(row.invalid_position),
        protocol=row.protocol,
        battery_pct=row.battery_pct,
        alarms=tuple(a for a in row.alarms.split(",") if a),
    )


def person_fixes(
    connection: Connection, person_id: str | int, start: datetime, end: datetime
) -> list[StoredFix]:
    """A person's fixes with start <= fix time <= end, in fix-time order (arrival order on ties)."""
    rows = connection.execute(
        select(*STORED_COLUMNS)
        .where(
            fixes.c.person_id == str(person_id),
            fixes.c.fix_time >= start,
            fixes.c.fix_time <= end,
        )
        .order_by(fixes.c.fix_time, fixes.c.id)
    )
    return [stored_fix(row) for row in rows]


_STORED_SELECT = (
    "SELECT id, person_id, device_id, fix_time, receive_time, lat, lon, accuracy_m, valid, "
    "approximate, implausible, invalid_position, protocol, battery_pct, alarms FROM fixes "
    "WHERE id IN "
)


def _stored_from_driver(row: tuple[Any, ...]) -> StoredFix:
    return StoredFix(
        id=int(row[0]),
        person_id=row[1],
        device_id=row[2],
        fix_time=from_micros(row[3]),
        receive_time=from_micros(row[4]),
        lat=row[5],
        lon=row[6],
        accuracy_m=row[7],
        valid=bool(row[8]),
        approximate=bool(row[9]),
        implausible=bool(row[10]),
        invalid_position=bool(row[11]),
        protocol=row[12],
        battery_pct=row[13],
        alarms=tuple(a for a in row[14].split(",") if a),
    )


def fixes_by_id(connection: Connection, ids: Iterable[int]) -> dict[int, StoredFix]:
    wanted = sorted(set(ids))
    found: dict[int, StoredFix] = {}
    driver = connection.connection.driver_connection
    assert driver is not None
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    # The driver's cursor directly: called on every near-point query, where building the
    # statement through SQLAlchemy cost more than the few primary-key lookups themselves.
    cursor = driver.cursor()
    try:
        for offset in range(0, len(wanted), 500):
            chunk = wanted[offset : offset + 500]
            sql = _STORED_SELECT + "(" + ", ".join([mark] * len(chunk)) + ")"
            cursor.execute(sql, chunk)
            for row in cursor.fetchall():
                found[int(row[0])] = _stored_from_driver(row)
    finally:
        cursor.close()
    return found


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """A stored fix as it arrived: the device's message as received and the decoded attributes
    Vigil kept beside it (their JSON, whatever the protocol carried)."""

    raw: str
    attributes_json: dict[str, Any]


def raw_messages(connection: Connection, ids: Iterable[int]) -> dict[int, ReceivedMessage]:
    """The message each fix came from, as received, and its decoded extra attributes (evidence)."""
    wanted = sorted(set(ids))
    out: dict[int, ReceivedMessage] = {}
    for offset in range(0, len(wanted), 500):
        chunk = wanted[offset : offset + 500]
        query = select(fixes.c.id, fixes.c.raw, fixes.c.attributes).where(fixes.c.id.in_(chunk))
        for row in connection.execute(query):
            out[int(row.id)] = ReceivedMessage(row.raw, json.loads(row.attributes))
    return out


# Only placeholders are ever put into these statements (one "?" per cell on SQLite).
_NEAR_SELECT = "SELECT id, person_id, fix_time, lat, lon, accuracy_m FROM fixes WHERE cell "
_NEAR_FILTER = (
    " AND fix_time >= {p} AND fix_time <= {p} AND lat >= {p} AND lat <= {p} AND lon >= {p} "
    "AND lon <= {p} AND person_id IS NOT NULL AND coalesce(accuracy_m, 0) <= {p}"
)
_PG_NEAR = _NEAR_SELECT + "= ANY(%s)" + _NEAR_FILTER.format(p="%s")


def _sqlite_near_sql(cell_count: int) -> str:
    # One statement text per number of cells (9 to 16 for usual radii), so sqlite3's statement
    # cache keeps each prepared.
    marks = ", ".join("?" * cell_count)
    return _NEAR_SELECT + "IN (" + marks + ")" + _NEAR_FILTER.format(p="?")


def near_candidates(
    connection: Connection,
    lat: float,
    lon: float,
    reach_m: float,
    start: datetime,
    end: datetime,
    max_accuracy_m: float,
) -> list[NearRow]:
    """Allocated, usable fixes in the cells and bounding box round a point, with start <= fix
    time <= end and accuracy no worse than ``max_accuracy_m`` (a superset of those within
    ``reach_m``: the caller measures distances).

    Read from the covering ``(cell, fix_time, lat, lon, accuracy_m, person_id, id)`` index alone,
    one short range scan per cell, through the driver's own cursor: at a few hundred candidates
    per query, building SQLAlchemy rows and converting times cost more than the search itself.
    """
    cells = cells_covering(lat, lon, reach_m)
    south, north, west, east = bounding_box(lat, lon, reach_m)
    params = (to_micros(start), to_micros(end), south, north, west, east, max_accuracy_m)
    driver = connection.connection.driver_connection
    assert driver is not None
    if connection.dialect.name == "sqlite":
        tune_sqlite(connection)
        cursor = driver.cursor()
        try:
            return list(cursor.execute(_sqlite_near_sql(len(cells)), (*cells, *params)))
        finally:
            cursor.close()
    with driver.cursor() as pg_cursor:
        pg_cursor.execute(_PG_NEAR, (cells, *params))
        return list(pg_cursor.fetchall())


@dataclass(frozen=True, slots=True)
class UnknownDevice:
    """A device that sent fixes while allocated to nobody."""

    device_id: str
    fixes: int
    first_fix_time: datetime
    last_fix_time: datetime


def unknown_devices(connection: Connection) -> list[UnknownDevice]:
    """Devices whose fixes were kept without a person, most recently heard first."""
    rows = connection.execute(
        select(
            fixes.c.device_id,
            func.count().label("n"),
            func.min(fixes.c.fix_time).label("first"),
            func.max(fixes.c.fix_time).label("last"),
        )
        .where(fixes.c.person_id.is_(None))
        .group_by(fixes.c.device_id)
    ).all()
    found = [UnknownDevice(row.device_id, int(row.n), row.first, row.last) for row in rows]
    return sorted(found, key=lambda d: (d.last_fix_time, d.device_id), reverse=True)
