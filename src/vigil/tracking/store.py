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
- Returns the fix ids, in the order of ``fixes`` (violations and evidence cite them).
- **Idempotent**: a fix is stored once per report (device, fix time and the raw message's hash;
  ``tracking.fix_keys``). A fix already stored — by an earlier append, or earlier in the same
  batch — is not stored again and gets the existing row's id. ``append_new`` also says which
  fixes were new: the engine evaluates only those, so a resent batch raises nothing twice.
- Runs in the caller's transaction and does not commit: the engine commits fixes, violations and
  alerts together. SQLite: one ``executemany``; PostgreSQL: ``COPY``; both inside a savepoint,
  optimistically: only when the unique index refuses a fix is the batch looked up and the rest
  stored (a second writer of the same new fix on PostgreSQL waits for the first, is refused,
  and finds it). Throughput is in
  docs/performance.md, "Trail store"; for a bulk load into a store nobody queries yet, wrap the
  appends in ``suspend_near_index`` / ``restore_near_index``.

Deletion happens only through ``apply_retention`` (fixes older than the cut-off and not under a
legal hold); the database refuses every other UPDATE or DELETE on ``fixes``."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Index

from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.tracking import fix_keys
from vigil.tracking.grid import cell_of
from vigil.tracking.model import Alarm, Fix, QualityFlags
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
    "frame_key",
)
_COLUMN_LIST = ", ".join(_COLUMNS)
_SQLITE_INSERT_NO_ID = (
    "INSERT INTO fixes (device_id, person_id, fix_time, receive_time, lat, lon, accuracy_m, "
    "cell, valid, approximate, implausible, invalid_position, speed_mps, heading, altitude_m, "
    "satellites, battery_pct, charging, alarms, protocol, raw, attributes, frame_key) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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


def tune_sqlite(connection: Connection) -> None:
    """Give this connection the trail store's page cache (once)."""
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


# json.dumps with options builds an encoder per call; the text is the same (sorted keys, values
# JSON cannot hold as text), and frame keys of fixes without a raw message depend on it.
_ATTRIBUTES = json.JSONEncoder(sort_keys=True, default=str)


def _row(fix: Fix, person_id: str | int | None, flags: QualityFlags) -> tuple[Any, ...]:
    lat, lon, valid = fix.lat, fix.lon, fix.valid
    usable = valid and flags.usable
    cell = cell_of(lat, lon) if lat is not None and lon is not None and usable else None
    alarms = alarm_text(fix.alarms)
    attributes = fix.attributes
    attribute_text = _ATTRIBUTES.encode(attributes) if attributes else "{}"
    fix_time = to_micros(fix.fix_time)
    # A replay's fixes were received when they were taken: one datetime, converted once.
    received = fix_time if fix.receive_time is fix.fix_time else to_micros(fix.receive_time)
    raw = fix.raw
    key = (
        fix_keys.raw_key(raw)
        if raw
        else fix_keys.decoded_key(
            lat,
            lon,
            fix.accuracy_m,
            fix.speed_mps,
            fix.heading,
            fix.altitude_m,
            fix.battery_pct,
            valid,
            fix.satellites,
            fix.charging,
            alarms,
            fix.protocol,
            attribute_text,
        )
    )
    return (
        fix.device_id,
        None if person_id is None else str(person_id),
        fix_time,
        received,
        lat,
        lon,
        fix.accuracy_m,
        cell,
        valid,
        fix.approximate or flags.approximate,
        flags.implausible,
        flags.invalid_position,
        fix.speed_mps,
        fix.heading,
        fix.altitude_m,
        fix.satellites,
        fix.battery_pct,
        fix.charging,
        alarms,
        fix.protocol,
        raw,
        attribute_text,
        key,
    )


@dataclass(frozen=True, slots=True)
class Appended:
    """What one append did. ``ids``: each input fix's row id, in input order — a fix stored
    before (by an earlier append or earlier in the same batch) gets that row's id. ``new``: the
    input indexes of the fixes this append stored; the rest were resends."""

    ids: list[int]
    new: list[int]


def append(
    target: Target,
    fixes_in: Sequence[Fix],
    person_ids: Sequence[str | int | None],
    flags: Sequence[QualityFlags] | None = None,
) -> list[int]:
    """Store a batch of fixes in the caller's transaction; returns their ids in input order."""
    return append_new(target, fixes_in, person_ids, flags).ids


def append_new(
    target: Target,
    fixes_in: Sequence[Fix],
    person_ids: Sequence[str | int | None],
    flags: Sequence[QualityFlags] | None = None,
) -> Appended:
    """``append``, also saying which fixes were new (the engine evaluates only those)."""
    if not fixes_in:
        return Appended([], [])
    _check(fixes_in, person_ids)
    if flags is None:
        flags = _default_flags(fixes_in)
    elif len(flags) != len(fixes_in):
        raise ValidationError("flags", f"has {len(flags)} entries for {len(fixes_in)} fixes")
    rows = [_row(f, p, q) for f, p, q in zip(fixes_in, person_ids, flags, strict=True)]
    connection = _connection(target)
    insert = _inserter(connection)
    known: dict[fix_keys.Key, int] = {}
    if fix_keys.may_meet_rows_without_key(connection, rows):
        known = fix_keys.stored(connection, rows)
    ids, new = _sort_out_resends(rows, known)
    # Optimistic: a batch is almost always all new, and the unique index checks that as it
    # grows. Only when it refuses a fix is the batch looked up, and then only the rest stored.
    stored = _insert_or_refused(connection, insert, [rows[i] for i in new])
    if stored is None:
        ids, new = _sort_out_resends(rows, fix_keys.stored(connection, rows))
        stored = insert(connection, [rows[i] for i in new])
    if len(new) == len(rows):
        return Appended(stored, new)
    for index, fix_id in zip(new, stored, strict=True):
        ids[index] = fix_id
    for index, fix_id in enumerate(ids):
        if fix_id < 0:  # a copy of the fix at input index -fix_id - 1, stored just now
            ids[index] = ids[-fix_id - 1]
    return Appended(ids, new)


Inserter = Callable[[Connection, list[tuple[Any, ...]]], list[int]]


def _inserter(connection: Connection) -> Inserter:
    if connection.dialect.name == "sqlite":
        tune_sqlite(connection)
        driver = connection.connection.driver_connection
        assert driver is not None
        if driver.isolation_level is None:
            # Autocommit would let another writer take ids between these rows: refuse up front.
            raise ValidationError("connection", "must be in a transaction (not autocommit)")
        return _append_sqlite
    if connection.dialect.name == "postgresql":
        return _append_postgres
    raise NotImplementedError(f"no trail store for {connection.dialect.name}")


def _insert_or_refused(
    connection: Connection, insert: Inserter, rows: list[tuple[Any, ...]]
) -> list[int] | None:
    """Insert the rows inside a savepoint; None, with nothing inserted, if the unique index
    refused one (a resend), so the caller can look the batch up and insert the rest."""
    driver = connection.connection.driver_connection
    assert driver is not None
    # A savepoint opened outside a transaction would be one, and its release would commit the
    # caller's work so far.
    begin_for_sqlite(connection)
    driver.execute("SAVEPOINT trail_append")
    try:
        ids = insert(connection, rows)
    except Exception as exc:
        if not fix_keys.is_resend(exc):
            raise
        driver.execute("ROLLBACK TO SAVEPOINT trail_append")
        driver.execute("RELEASE SAVEPOINT trail_append")
        return None
    driver.execute("RELEASE SAVEPOINT trail_append")
    return ids


def _sort_out_resends(
    rows: Sequence[tuple[Any, ...]], known: dict[fix_keys.Key, int]
) -> tuple[list[int], list[int]]:
    """Row ids so far (a stored fix's id; -(i + 1) for a copy of input i; 0 for a new fix) and
    the indexes of the new fixes, each report once."""
    if not known and len({row[-1] for row in rows}) == len(rows):
        # The usual batch: nothing stored before, and no frame key twice, so no fix twice.
        # (Asked of the keys alone: a set of ints makes no objects for the garbage collector.)
        return [0] * len(rows), list(range(len(rows)))
    keys = [(row[0], row[2], row[-1]) for row in rows]
    ids: list[int] = []
    new: list[int] = []
    first: dict[fix_keys.Key, int] = {}
    for index, key in enumerate(keys):
        if key in known:
            ids.append(known[key])
        elif key in first:
            ids.append(-first[key] - 1)
        else:
            first[key] = index
            new.append(index)
            ids.append(0)
    return ids, new


def begin_for_sqlite(connection: Connection) -> None:
    """Open the caller's transaction on SQLite now: pysqlite opens it only at the first insert,
    so schema changes and savepoints before it would be committed on their own."""
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    if not driver.in_transaction:
        driver.execute("BEGIN")


def _near_index() -> Index:
    return next(ix for ix in fixes.indexes if ix.name == NEAR_INDEX)


def suspend_near_index(connection: Connection) -> None:
    """Drop the near-point index before a bulk load into a store nobody is querying yet (a
    replay into a new file, an import), so each append skips its most expensive part; call
    ``restore_near_index`` after, which builds it in one sorted pass — several times cheaper than
    growing it fix by fix. No fix is touched. Until restored, near queries stay correct but scan
    the whole table. Idempotent.
    """
    begin_for_sqlite(connection)  # so that a load rolled back brings the index back
    _near_index().drop(bind=connection, checkfirst=True)


def restore_near_index(connection: Connection) -> None:
    """Build the near-point index again (exactly as migration tracking_0001 defines it) if it was
    suspended; does nothing if it is there."""
    _near_index().create(bind=connection, checkfirst=True)


def insert_numbered(
    connection: Connection, statement: str, rows: Iterable[tuple[Any, ...]], count: int
) -> range:
    """Insert ``count`` rows into ``fixes`` on SQLite through the driver's own cursor (at a
    batch of fixes, SQLAlchemy's statement handling costs more than the insert); their ids.

    The first insert takes SQLite's write lock for the rest of the transaction, so no other
    writer can insert between these rows: AUTOINCREMENT gives them consecutive ids, the last of
    which is the connection's last insert rowid."""
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    cursor = driver.cursor()
    try:
        cursor.executemany(statement, rows)
        inserted = cursor.rowcount
        last = int(cursor.execute("SELECT last_insert_rowid()").fetchone()[0])
    finally:
        cursor.close()
    if inserted != count:
        raise RuntimeError(f"stored {inserted} of {count} fixes")
    return range(last - count + 1, last + 1)


def alarm_text(alarms: frozenset[Alarm]) -> str:
    """Alarms as stored: their values sorted and comma-joined, "" for none."""
    return ",".join(sorted(alarm.value for alarm in alarms)) if alarms else ""


def _append_sqlite(connection: Connection, rows: list[tuple[Any, ...]]) -> list[int]:
    if not rows:
        return []
    return list(insert_numbered(connection, _SQLITE_INSERT_NO_ID, rows, len(rows)))


def _append_postgres(connection: Connection, rows: list[tuple[Any, ...]]) -> list[int]:
    if not rows:
        return []
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
