"""Replay onto the trail store: fixes stored (SQLite file) as they are evaluated, ids as evidence.

Uses the tracking part's public append API, so a replayed trail is the same evidence a live one
is: raw fixes, never altered, each violation citing the stored fixes that prove it.
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from sqlalchemy import event, exists, select

from vigil.db import migrate
from vigil.db.engine import build_engine
from vigil.engine.model import Plan
from vigil.engine.replay import FixTable
from vigil.tracking import store
from vigil.tracking.bulk_load import BulkLoad, RecordedFixes
from vigil.tracking.model import Alarm, Fix, QualityFlags
from vigil.tracking.tables import fixes

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ALARMS = {alarm.value: alarm for alarm in Alarm}
_ALARMS["battery_low"] = Alarm.LOW_BATTERY


def _alarms(text: str) -> frozenset[Alarm]:
    if not text:
        return frozenset()
    names = (part.strip().lower() for part in text.replace(",", ";").split(";"))
    return frozenset(_ALARMS.get(name, Alarm.GENERAL) for name in names if name)


def fixes_from_table(table: FixTable, lo: int, hi: int) -> list[Fix]:
    """Rows of a replay table as tracking Fixes (receive time = fix time: the CSV has no other).

    Built column-wise: numpy columns become Python lists once (indexing numpy scalars row by row
    costs more than the Fix itself), times become datetimes in one polars pass, and the Fixes are
    made positionally with the cycle collector paused (a batch of 65,536 new objects otherwise
    triggers several full collections that find nothing to free).
    """
    n = hi - lo
    micros = pl.Series(np.round(table.t[lo:hi] * 1e6).astype(np.int64))
    # polars gives zoneinfo's UTC; the trail store and the rest of Vigil use datetime.UTC.
    moments = [m.replace(tzinfo=UTC) for m in micros.cast(pl.Datetime("us", "UTC")).to_list()]
    lat_a = table.lat[lo:hi]
    lon_a = table.lon[lo:hi]
    has = np.isfinite(lat_a) & np.isfinite(lon_a)
    lat: list[float | None] = lat_a.tolist()
    lon: list[float | None] = lon_a.tolist()
    if not has.all():
        for i in np.flatnonzero(~has).tolist():
            lat[i] = lon[i] = None
    acc: list[float | None] = table.acc[lo:hi].tolist()
    for i in np.flatnonzero(~np.isfinite(table.acc[lo:hi])).tolist():
        acc[i] = None
    names = table.device_names
    devices = [names[code] for code in table.device_codes[lo:hi].tolist()]
    approximate = (
        table.approximate[lo:hi].tolist() if table.approximate is not None else [False] * n
    )
    valid = table.valid[lo:hi].tolist() if table.valid is not None else [True] * n
    battery: list[float | None] = [None] * n
    if table.battery is not None:
        levels = table.battery[lo:hi]
        for i in np.flatnonzero(np.isfinite(levels)).tolist():
            battery[i] = float(levels[i])
    none = frozenset[Alarm]()
    alarms: list[frozenset[Alarm]] = [none] * n
    if table.alarms is not None and table.has_alarm is not None:
        for i in np.flatnonzero(table.has_alarm[lo:hi]).tolist():
            alarms[i] = _alarms(table.alarms[lo + i])
    collecting = gc.isenabled()
    gc.disable()
    try:
        # Positional, in Fix's field order: device_id, fix_time, receive_time, lat, lon,
        # protocol, accuracy_m, approximate, valid, speed, heading, altitude, satellites,
        # battery_pct, charging, alarms.
        return [
            Fix(d, m, m, la, lo_, "replay", a, ap, v, None, None, None, None, b, None, al)
            for d, m, la, lo_, a, ap, v, b, al in zip(
                devices, moments, lat, lon, acc, approximate, valid, battery, alarms, strict=True
            )
        ]
    finally:
        if collecting:
            gc.enable()


def recorded_from_table(
    table: FixTable, lo: int, hi: int, person_of_code: list[str | None]
) -> RecordedFixes:
    """Rows of a replay table as the trail store's columns (what ``fixes_from_table`` makes
    Fixes of, stored the same: see tests/engine/test_trail_rows.py)."""
    n = hi - lo
    codes = table.device_codes[lo:hi].tolist()
    names = table.device_names
    missing = ~(np.isfinite(table.lat[lo:hi]) & np.isfinite(table.lon[lo:hi]))
    approximate = (
        table.approximate[lo:hi] if table.approximate is not None else np.zeros(n, dtype=bool)
    )
    alarms = [""] * n
    if table.alarms is not None and table.has_alarm is not None:
        for i in np.flatnonzero(table.has_alarm[lo:hi]).tolist():
            alarms[i] = store.alarm_text(_alarms(table.alarms[lo + i]))
    return RecordedFixes(
        device_ids=[names[code] for code in codes],
        person_ids=[person_of_code[code] for code in codes],
        fix_time_us=np.round(table.t[lo:hi] * 1e6).astype(np.int64),
        lat=table.lat[lo:hi],
        lon=table.lon[lo:hi],
        accuracy_m=table.acc[lo:hi],
        battery_pct=table.battery[lo:hi] if table.battery is not None else np.full(n, np.nan),
        valid=table.valid[lo:hi] if table.valid is not None else np.ones(n, dtype=bool),
        approximate=approximate,
        implausible=np.zeros(n, dtype=bool),
        invalid_position=missing,
        alarms=alarms,
        protocol="replay",
    )


class SqliteTrail:
    """A trail store in a SQLite file (created and migrated) that replay appends to.

    Into a new (empty) store the replay is a bulk load (``tracking.bulk_load``): rows inserted
    without their indexes, which are built once at the end — nobody queries a replay's trail
    until the replay is done.

    The store is idempotent, so a file that already holds fixes (the same replay run again)
    gains no rows for those it holds, and the events cite the rows already there; that replay
    appends through ``store.append`` with the near-point index suspended. The engine still
    evaluates every row: a replay starts from a fresh engine, which has not seen them (the live
    engine skips resends because its saved state already has).
    """

    def __init__(self, path: Path, plan: Plan) -> None:
        url = f"sqlite:///{Path(path).resolve()}"
        migrate.upgrade(url)
        self.database = build_engine(url)

        @event.listens_for(self.database, "connect")
        def _bulk(dbapi_connection: Any, _record: Any) -> None:
            # A what-if trail file, rebuilt from the CSV at will: trade durability on power loss
            # for bulk speed.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA temp_store=MEMORY")
            cursor.close()

        self.owner = {device: person.id for person in plan.persons for device in person.devices}
        # Frozen, so one instance per combination serves every fix.
        self.variants = {
            (missing, approximate): QualityFlags(invalid_position=missing, approximate=approximate)
            for missing in (False, True)
            for approximate in (False, True)
        }
        # One transaction for the whole replay: appends skip a commit each, and a replay that
        # fails part-way leaves no fixes behind (the file stays as it was).
        self.connection = self.database.connect()
        empty = not self.connection.execute(select(exists().select_from(fixes))).scalar_one()
        self.connection.rollback()
        if empty:
            # A bulk load writes a new file's pages once: through WAL they were written twice
            # (the log, then the checkpoint). The next connection turns WAL on again.
            self.connection.exec_driver_sql("PRAGMA journal_mode=DELETE")
            self.connection.rollback()
        self.transaction = self.connection.begin()
        self.bulk = BulkLoad(self.connection) if empty else None
        if self.bulk is None:
            store.suspend_near_index(self.connection)
        self.person_of_code: list[str | None] = []

    def __call__(self, table: FixTable, lo: int, hi: int) -> npt.NDArray[np.int64]:
        if self.bulk is not None:
            if len(self.person_of_code) != len(table.device_names):
                self.person_of_code = [
                    None if (p := self.owner.get(name)) is None else str(p)
                    for name in table.device_names
                ]
            return self.bulk.append(recorded_from_table(table, lo, hi, self.person_of_code))
        fixes_in = fixes_from_table(table, lo, hi)
        owner = self.owner
        people: list[str | int | None] = [owner.get(fix.device_id) for fix in fixes_in]
        variants = self.variants
        flags = [variants[(fix.lat is None, fix.approximate)] for fix in fixes_in]
        ids = store.append(self.connection, fixes_in, people, flags)
        return np.asarray(ids, dtype=np.int64)

    def close(self) -> None:
        try:
            if self.bulk is not None:
                self.bulk.finish()
            else:
                store.restore_near_index(self.connection)
            self.transaction.commit()
        finally:
            self.connection.close()
            self.database.dispose()


def sqlite_sink(path: Path, plan: Plan) -> SqliteTrail:
    return SqliteTrail(path, plan)
