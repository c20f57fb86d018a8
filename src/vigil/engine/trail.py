"""Replay onto the trail store: fixes stored (SQLite file) as they are evaluated, ids as evidence.

Uses the tracking part's public append API, so a replayed trail is the same evidence a live one
is: raw fixes, never altered, each violation citing the stored fixes that prove it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
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
    """Rows of a replay table as tracking Fixes (receive time = fix time: the CSV has no other)."""
    t = table.t[lo:hi]
    lat = table.lat[lo:hi]
    lon = table.lon[lo:hi]
    acc = table.acc[lo:hi]
    has = np.isfinite(lat) & np.isfinite(lon)
    micros = np.round(t * 1e6).astype(np.int64).tolist()
    epoch = EPOCH
    names = table.device_names
    codes = table.device_codes[lo:hi].tolist()
    battery = table.battery[lo:hi].tolist() if table.battery is not None else None
    alarms = table.alarms[lo:hi] if table.alarms is not None else None
    approximate = table.approximate[lo:hi].tolist() if table.approximate is not None else None
    valid = table.valid[lo:hi].tolist() if table.valid is not None else None
    result = []
    for i, (code, us) in enumerate(zip(codes, micros, strict=True)):
        moment = epoch + timedelta(microseconds=us)
        position = bool(has[i])
        level = battery[i] if battery is not None else None
        result.append(
            Fix(
                device_id=names[code],
                fix_time=moment,
                receive_time=moment,
                lat=float(lat[i]) if position else None,
                lon=float(lon[i]) if position else None,
                protocol="replay",
                accuracy_m=float(acc[i]) if np.isfinite(acc[i]) else None,
                approximate=bool(approximate[i]) if approximate is not None else False,
                valid=bool(valid[i]) if valid is not None else True,
                battery_pct=None if level is None or level != level else float(level),
                alarms=_alarms(alarms[i]) if alarms is not None else frozenset(),
            )
        )
    return result


class SqliteTrail:
    """A trail store in a new SQLite file (created and migrated) that replay appends to.

    The near-point index is suspended while loading and built once at the end (the trail store's
    bulk-load path): nobody queries a replay's trail until the replay is done.
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
        with self.database.begin() as connection:
            store.suspend_near_index(connection)

    def __call__(self, table: FixTable, lo: int, hi: int) -> npt.NDArray[np.int64]:
        fixes = fixes_from_table(table, lo, hi)
        people: list[str | int | None] = [self.owner.get(fix.device_id) for fix in fixes]
        flags = [self.variants[(fix.lat is None, fix.approximate)] for fix in fixes]
        with self.database.begin() as connection:
            ids = store.append(connection, fixes, people, flags)
        return np.asarray(ids, dtype=np.int64)

    def close(self) -> None:
        with self.database.begin() as connection:
            store.restore_near_index(connection)
        self.database.dispose()


def sqlite_sink(path: Path, plan: Plan) -> SqliteTrail:
    return SqliteTrail(path, plan)
