"""The trail store: raw fixes appended in batches, never altered.

Append API (what the engine worker and ``vigil replay`` call)::

    from vigil.tracking import store
    ids = store.append(uow, fixes, person_ids)            # or a SQLAlchemy Connection
    ids = store.append(uow, fixes, person_ids, flags)     # with the engine's own quality flags

- ``fixes``: ``list[vigil.tracking.model.Fix]``; ``person_ids``: the registry's person id (str or
  int, stored as text) each fix's device was allocated to at fix time, or None for a device
  allocated to nobody (kept, and listed by ``unknown_devices`` for an administrator).
- ``flags``: optional ``list[QualityFlags]``. Without them the store judges each fix against the
  previous plausible fix of the same device *within this batch* (``quality.QualityTracker``); the
  engine, which keeps history across batches, should pass its own.
- Returns the new fix ids, in the order of ``fixes`` (violations and evidence cite them).
- Runs in the caller's transaction and does not commit: the engine commits fixes, violations and
  alerts together. SQLite: one ``executemany``; PostgreSQL: ``COPY``. Throughput is in
  docs/performance.md, "Trail store"; for a bulk load into a store nobody queries yet, wrap the
  appends in ``suspend_near_index`` / ``restore_near_index``.

Deletion happens only through ``apply_retention`` (fixes older than the cut-off and not under a
legal hold); the database refuses every other UPDATE or DELETE on ``fixes``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Index, and_, delete, func, insert, select, update

from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.security import audit
from vigil.tracking.grid import bounding_box, cell_of, cells_covering
from vigil.tracking.model import Fix, QualityFlags, StoredFix
from vigil.tracking.quality import QualityTracker
from vigil.tracking.tables import (
    fix_legal_holds,
    fix_retention,
    fixes,
    from_micros,
    to_micros,
)

# Column order of the raw inserts below (id first); ``_row`` builds values in this order.
_COLUMNS = (
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
    "speed_mps",
    "heading",
    "altitude_m",
    "satellites",
    "battery_pct",
    "charging",
    "alarms",
    "protocol",
    "raw",
    "attributes",
)
_COLUMN_LIST = ", ".join(_COLUMNS)
_SQLITE_INSERT_NO_ID = (
    "INSERT INTO fixes (device_id, person_id, fix_time, receive_time, lat, lon, accuracy_m, "
    "cell, valid, approximate, implausible, invalid_position, speed_mps, heading, altitude_m, "
    "satellites, battery_pct, charging, alarms, protocol, raw, attributes) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_PG_COPY = f"COPY fixes ({_COLUMN_LIST}) FROM STDIN"
MAX_ID_LENGTH = 64
NEAR_INDEX = "ix_fixes_cell_time"

Target = UnitOfWork | Connection


def _connection(target: Target) -> Connection:
    return target.connection if isinstance(target, UnitOfWork) else target


# Per-connection page cache for the trail store (SQLite's default is 2 MB). Appends touch a page
# of each index per person and per cell, and queries the interior pages of both: with the
# default cache, each batch and each query re-reads them from the OS. Grows only as used.
SQLITE_CACHE_KIB = 65_536


def _tune_sqlite(connection: Connection) -> None:
    info = connection.connection.info
    if not info.get("vigil.tracking.tuned"):
        connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        info["vigil.tracking.tuned"] = True


def _check(fixes_in: Sequence[Fix], person_ids: Sequence[str | int | None]) -> None:
    if len(person_ids) != len(fixes_in):
        raise ValidationError(
            "person_ids", f"has {len(person_ids)} entries for {len(fixes_in)} fixes"
        )
    for index, fix in enumerate(fixes_in):
        if fix.fix_time.tzinfo is None or fix.receive_time.tzinfo is None:
            raise ValidationError(f"fixes[{index}].fix_time", "must be timezone-aware UTC")
        if not fix.device_id or len(fix.device_id) > MAX_ID_LENGTH:
            raise ValidationError(f"fixes[{index}].device_id", "must be 1 to 64 characters")
        if fix.accuracy_m is not None and not fix.accuracy_m >= 0:
            raise ValidationError(f"fixes[{index}].accuracy_m", "must be 0 or more")


def _default_flags(fixes_in: Sequence[Fix]) -> list[QualityFlags]:
    tracker = QualityTracker()
    flags: list[QualityFlags] = [QualityFlags()] * len(fixes_in)
    for index in sorted(range(len(fixes_in)), key=lambda i: fixes_in[i].fix_time):
        flags[index] = tracker.assess(fixes_in[index])
    return flags


def _row(fix: Fix, person_id: str | int | None, flags: QualityFlags) -> tuple[Any, ...]:
    lat, lon = fix.lat, fix.lon
    cell = (
        cell_of(lat, lon)
        if lat is not None and lon is not None and fix.valid and flags.usable
        else None
    )
    alarms = fix.alarms
    attributes = fix.attributes
    return (
        fix.device_id,
        None if person_id is None else str(person_id),
        to_micros(fix.fix_time),
        to_micros(fix.receive_time),
        lat,
        lon,
        fix.accuracy_m,
        cell,
        fix.valid,
        fix.approximate or flags.approximate,
        flags.implausible,
        flags.invalid_position,
        fix.speed_mps,
        fix.heading,
        fix.altitude_m,
        fix.satellites,
        fix.battery_pct,
        fix.charging,
        ",".join(sorted(alarm.value for alarm in alarms)) if alarms else "",
        fix.protocol,
        fix.raw,
        json.dumps(attributes, sort_keys=True, default=str) if attributes else "{}",
    )


def append(
    target: Target,
    fixes_in: Sequence[Fix],
    person_ids: Sequence[str | int | None],
    flags: Sequence[QualityFlags] | None = None,
) -> list[int]:
    """Store a batch of fixes in the caller's transaction; returns their ids in input order."""
    if not fixes_in:
        return []
    _check(fixes_in, person_ids)
    if flags is None:
        flags = _default_flags(fixes_in)
    elif len(flags) != len(fixes_in):
        raise ValidationError("flags", f"has {len(flags)} entries for {len(fixes_in)} fixes")
    rows = [_row(f, p, q) for f, p, q in zip(fixes_in, person_ids, flags, strict=True)]
    connection = _connection(target)
    if connection.dialect.name == "sqlite":
        return _append_sqlite(connection, rows)
    if connection.dialect.name == "postgresql":
        return _append_postgres(connection, rows)
    raise NotImplementedError(f"no trail store for {connection.dialect.name}")


def _near_index() -> Index:
    return next(ix for ix in fixes.indexes if ix.name == NEAR_INDEX)


def suspend_near_index(connection: Connection) -> None:
    """Drop the near-point index before a bulk load into a store nobody is querying yet (a
    replay into a new file, an import), so each append skips its most expensive part; call
    ``restore_near_index`` after, which builds it in one sorted pass — several times cheaper than
    growing it fix by fix. No fix is touched. Until restored, near queries stay correct but scan
    the whole table. Idempotent.
    """
    _near_index().drop(bind=connection, checkfirst=True)


def restore_near_index(connection: Connection) -> None:
    """Build the near-point index again (exactly as migration tracking_0001 defines it) if it was
    suspended; does nothing if it is there."""
    _near_index().create(bind=connection, checkfirst=True)


def _append_sqlite(connection: Connection, rows: list[tuple[Any, ...]]) -> list[int]:
    _tune_sqlite(connection)
    driver = connection.connection.driver_connection
    assert driver is not None
    if driver.isolation_level is None:
        # Autocommit would let another writer take ids between these rows: refuse up front.
        raise ValidationError("connection", "must be in a transaction (not autocommit)")
    cursor = driver.cursor()
    try:
        # The first insert takes SQLite's write lock for the rest of the transaction, so no other
        # writer can insert between these rows: AUTOINCREMENT gives them consecutive ids, the
        # last of which is the connection's last insert rowid.
        cursor.executemany(_SQLITE_INSERT_NO_ID, rows)
        inserted = cursor.rowcount
        last = int(cursor.execute("SELECT last_insert_rowid()").fetchone()[0])
    finally:
        cursor.close()
    if inserted != len(rows):
        raise RuntimeError(f"stored {inserted} of {len(rows)} fixes")
    return list(range(last - len(rows) + 1, last + 1))


def _append_postgres(connection: Connection, rows: list[tuple[Any, ...]]) -> list[int]:
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('fixes', 'id')) FROM generate_series(1, %s)",
            (len(rows),),
        )
        ids = sorted(int(r[0]) for r in cursor.fetchall())
        with cursor.copy(_PG_COPY) as copy:
            for fix_id, row in zip(ids, rows, strict=True):
                copy.write_row((fix_id, *row))
    return ids


# ---------------------------------------------------------------------------------------------
# Reading (no audit here: these serve the system itself; people read through tracking.queries)


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


def raw_messages(
    connection: Connection, ids: Iterable[int]
) -> dict[int, tuple[str, dict[str, Any]]]:
    """The message each fix came from, as received, and its decoded extra attributes (evidence)."""
    wanted = sorted(set(ids))
    out: dict[int, tuple[str, dict[str, Any]]] = {}
    for offset in range(0, len(wanted), 500):
        chunk = wanted[offset : offset + 500]
        query = select(fixes.c.id, fixes.c.raw, fixes.c.attributes).where(fixes.c.id.in_(chunk))
        for row in connection.execute(query):
            out[int(row.id)] = (row.raw, json.loads(row.attributes))
    return out


# One near-point candidate: (id, person_id, fix_time in microseconds, lat, lon, accuracy_m).
NearRow = tuple[int, str, int, float, float, float | None]
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
        _tune_sqlite(connection)
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


# ---------------------------------------------------------------------------------------------
# Retention and legal hold


def place_legal_hold(uow: UnitOfWork, fix_ids: Iterable[int], reference: str, actor: str) -> int:
    """Protect fixes from retention (an evidence pack or a case cites them). Idempotent."""
    reference = reference.strip()
    if not reference or len(reference) > 120:
        raise ValidationError("reference", "must be 1 to 120 characters")
    wanted = sorted(set(fix_ids))
    held = set(
        uow.connection.execute(
            select(fix_legal_holds.c.fix_id).where(
                fix_legal_holds.c.reference == reference, fix_legal_holds.c.fix_id.in_(wanted)
            )
        ).scalars()
    )
    new = [fid for fid in wanted if fid not in held]
    now = uow.clock.now()
    if new:
        uow.connection.execute(
            insert(fix_legal_holds),
            [
                {"fix_id": fid, "reference": reference, "placed_at": now, "placed_by": actor}
                for fid in new
            ],
        )
    audit.record(
        uow.connection,
        at=now,
        actor=actor,
        action="fixes.legal_hold",
        subject_type="legal_hold",
        subject_id=reference,
        detail={"fixes": len(wanted), "new": len(new)},
    )
    return len(new)


def retention_cutoff(uow: UnitOfWork) -> datetime | None:
    """Fixes before this may have been deleted; None until retention first ran."""
    query = select(fix_retention.c.cutoff).where(fix_retention.c.id == 1)
    found: datetime | None = uow.connection.execute(query).scalar_one_or_none()
    return found


def apply_retention(uow: UnitOfWork, cutoff: datetime, actor: str) -> int:
    """Move the retention cut-off forward and delete the fixes it releases (not those on hold).

    Returns how many fixes were deleted. The cut-off never moves back (the database refuses).
    """
    if cutoff.tzinfo is None:
        raise ValidationError("cutoff", "must be timezone-aware UTC")
    if cutoff > uow.clock.now():
        raise ValidationError("cutoff", "cannot be in the future")
    connection = uow.connection
    now = uow.clock.now()
    current = connection.execute(select(fix_retention.c.cutoff).where(fix_retention.c.id == 1))
    existing = current.scalar_one_or_none()
    if existing is None:
        connection.execute(
            insert(fix_retention).values(id=1, cutoff=cutoff, set_at=now, set_by=actor)
        )
    elif cutoff < existing:
        raise ValidationError("cutoff", "is earlier than the current retention cut-off")
    else:
        connection.execute(
            update(fix_retention)
            .where(fix_retention.c.id == 1)
            .values(cutoff=cutoff, set_at=now, set_by=actor)
        )
    held = select(fix_legal_holds.c.fix_id)
    deleted = connection.execute(
        delete(fixes).where(and_(fixes.c.fix_time < cutoff, fixes.c.id.not_in(held)))
    ).rowcount
    audit.record(
        connection,
        at=now,
        actor=actor,
        action="fixes.retention",
        subject_type="fixes",
        detail={"cutoff": cutoff.isoformat(), "deleted": deleted},
    )
    return int(deleted)
