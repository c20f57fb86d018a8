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
from sqlalchemy import event

from vigil.db import migrate
from vigil.db.engine import build_engine
from vigil.engine.model import Plan
from vigil.engine.replay import FixTable
from vigil.tracking import store
from vigil.tracking.model import Alarm, Fix, QualityFlags

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


class SqliteTrail:
    """A trail store in a new SQLite file (created and migrated) that replay appends to.

    The near-point index is suspended while loading and built once at the end (the trail store's
    bulk-load path): nobody queries a replay's trail until the replay is done.

    The store is idempotent, so a file that already holds some of the CSV's fixes (the same
    replay run again) gains no rows for them, and the events cite the rows already there. The
    engine still evaluates every row: a replay starts from a fresh engine, which has not seen
    them (the live engine skips resends because its saved state already has).
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
        # fails part-way leaves no fixes behind (the file stays empty and migrated).
        self.connection = self.database.connect()
        self.transaction = self.connection.begin()
        store.suspend_near_index(self.connection)

    def __call__(self, table: FixTable, lo: int, hi: int) -> npt.NDArray[np.int64]:
        fixes = fixes_from_table(table, lo, hi)
        owner = self.owner
        people: list[str | int | None] = [owner.get(fix.device_id) for fix in fixes]
        variants = self.variants
        flags = [variants[(fix.lat is None, fix.approximate)] for fix in fixes]
        ids = store.append(self.connection, fixes, people, flags)
        return np.asarray(ids, dtype=np.int64)

    def close(self) -> None:
        try:
            store.restore_near_index(self.connection)
            self.transaction.commit()
        finally:
            self.connection.close()
            self.database.dispose()


def sqlite_sink(path: Path, plan: Plan) -> SqliteTrail:
    return SqliteTrail(path, plan)
