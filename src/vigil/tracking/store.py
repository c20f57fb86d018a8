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
legal hold); the database refuses every other UPDATE or DELETE on ``fixes``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Index

from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.tracking.grid import cell_of
from vigil.tracking.model import Fix, QualityFlags
from vigil.tracking.quality import QualityTracker
from vigil.tracking.tables import (
    fixes,
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


# One near-point candidate: (id, person_id, fix_time in microseconds, lat, lon, accuracy_m).
NearRow = tuple[int, str, int, float, float, float | None]
