"""Loading a whole recording into an empty trail store at once (``vigil engine replay --trail``).

A live append pays for four B-tree indexes on every fix (docs/performance.md, "Trail store"). A
store that is empty and that nobody queries until the load is done can do without them: the
load drops them, inserts the rows alone, and builds each index at the end in one sorted pass.
The unique one-row-per-report key is then enforced here instead, in memory (``_Reports``), so
the load stores each report once and gives a resent fix its first row's id, exactly as
``store.append`` would; building the unique index at the end proves it.

The rows are the ones ``store.append`` writes for the same fixes (tests pin this): the frame key
is ``fix_keys.decoded_key``'s, the cell ``grid.cell_of``'s, computed column-wise. Runs in the
caller's transaction; a load that fails is rolled back whole, indexes included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, exists, select

from vigil.errors import ValidationError
from vigil.tracking import fix_keys
from vigil.tracking.bulk_reports import Reports
from vigil.tracking.grid import cells_of
from vigil.tracking.store import MAX_ID_LENGTH, begin_for_sqlite, insert_numbered
from vigil.tracking.tables import fixes

# What a recording lacks is stored as store.append stores a Fix without it; the receive time is
# the fix time (parameter 3 twice).
_INSERT = (
    "INSERT INTO fixes (device_id, person_id, fix_time, receive_time, lat, lon, accuracy_m, "
    "cell, valid, approximate, implausible, invalid_position, speed_mps, heading, altitude_m, "
    "satellites, battery_pct, charging, alarms, protocol, raw, attributes, frame_key) "
    "VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, NULL, NULL, NULL, ?12, "
    "NULL, ?13, ?14, '', '{}', ?15)"
)


@dataclass(frozen=True)
class RecordedFixes:
    """A batch of fixes as columns, as a recording holds them (a replay's CSV): no raw message,
    speed, heading, altitude, satellites, charging or attributes, and received when taken. NaN
    stands for a number the fix lacks; a position is stored only when both halves are finite.
    ``approximate``, ``implausible`` and ``invalid_position`` are the quality flags as stored;
    ``alarms`` the stored text (alarm values sorted and comma-joined, "" for none)."""

    device_ids: Sequence[str]
    person_ids: Sequence[str | None]
    fix_time_us: npt.NDArray[np.int64]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    accuracy_m: npt.NDArray[np.float64]
    battery_pct: npt.NDArray[np.float64]
    valid: npt.NDArray[np.bool_]
    approximate: npt.NDArray[np.bool_]
    implausible: npt.NDArray[np.bool_]
    invalid_position: npt.NDArray[np.bool_]
    alarms: Sequence[str]
    protocol: str

    def __len__(self) -> int:
        return len(self.device_ids)


def _check(batch: RecordedFixes) -> None:
    n = len(batch)
    for name in ("person_ids", "fix_time_us", "lat", "lon", "accuracy_m", "battery_pct",
                 "valid", "approximate", "implausible", "invalid_position", "alarms"):  # fmt: skip
        if len(getattr(batch, name)) != n:
            raise ValidationError(name, f"has {len(getattr(batch, name))} entries for {n} fixes")
    for index, device in enumerate(batch.device_ids):
        if not device or len(device) > MAX_ID_LENGTH:
            raise ValidationError(f"device_ids[{index}]", "must be 1 to 64 characters")
    negative = np.flatnonzero(batch.accuracy_m < 0)
    if negative.size:
        raise ValidationError(f"accuracy_m[{int(negative[0])}]", "must be 0 or more")


def _or_none(values: npt.NDArray[np.float64], present: npt.NDArray[np.bool_]) -> list[float | None]:
    listed: list[float | None] = values.tolist()
    for index in np.flatnonzero(~present).tolist():
        listed[index] = None
    return listed


class BulkLoad:
    """Load recorded fixes into an empty SQLite trail store: ``append`` each batch (ids in
    input order, as ``store.append``), then ``finish`` to build the indexes."""

    def __init__(self, connection: Connection) -> None:
        if connection.dialect.name != "sqlite":
            raise ValidationError("connection", "bulk loads are into SQLite trail files")
        if connection.execute(select(exists().select_from(fixes))).scalar_one():
            raise ValidationError("fixes", "a bulk load needs an empty trail store")
        self.connection = connection
        self.reports = Reports(connection)
        begin_for_sqlite(connection)  # a load that fails is rolled back with its indexes' drop
        for index in fixes.indexes:
            index.drop(bind=connection, checkfirst=True)

    def append(self, batch: RecordedFixes) -> npt.NDArray[np.int64]:
        _check(batch)
        n = len(batch)
        positioned = np.isfinite(batch.lat) & np.isfinite(batch.lon)
        usable = positioned & batch.valid & ~batch.invalid_position & ~batch.implausible
        lat = np.where(positioned, batch.lat, np.nan)
        lon = np.where(positioned, batch.lon, np.nan)
        # Cells of usable positions only (the others' NaN would not convert to an integer).
        cells: list[int | None] = cells_of(
            np.where(usable, lat, 0.0), np.where(usable, lon, 0.0)
        ).tolist()
        for index in np.flatnonzero(~usable).tolist():
            cells[index] = None
        keys = self._frame_keys(batch, lat, lon)
        ids, new = self.reports.sort_out(batch.device_ids, batch.fix_time_us, keys)
        if new.size == 0:
            return ids
        rows = zip(
            batch.device_ids,
            batch.person_ids,
            batch.fix_time_us.tolist(),
            _or_none(lat, positioned),
            _or_none(lon, positioned),
            _or_none(batch.accuracy_m, np.isfinite(batch.accuracy_m)),
            cells,
            batch.valid.tolist(),
            batch.approximate.tolist(),
            batch.implausible.tolist(),
            batch.invalid_position.tolist(),
            _or_none(batch.battery_pct, np.isfinite(batch.battery_pct)),
            batch.alarms,
            [batch.protocol] * n,
            keys.tolist(),
            strict=True,
        )
        wanted = set(new.tolist())
        chosen = rows if new.size == n else (row for i, row in enumerate(rows) if i in wanted)
        numbered = insert_numbered(self.connection, _INSERT, chosen, int(new.size))
        stored = np.arange(numbered.start, numbered.stop, dtype=np.int64)
        return self.reports.stored(ids, new, stored)

    @staticmethod
    def _frame_keys(
        batch: RecordedFixes, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.int64]:
        none = np.full(len(batch), np.nan)
        numbers = np.column_stack((lat, lon, batch.accuracy_m, none, none, none, batch.battery_pct))
        # A fix's text part is set by its validity and alarms: few distinct ones a batch.
        texts: dict[tuple[bool, str], int] = {(True, ""): 0}
        text_of = np.zeros(len(batch), dtype=np.intp)
        if not batch.valid.all():
            text_of[~batch.valid] = texts.setdefault((False, ""), 1)
        for index, alarms in enumerate(batch.alarms):
            if alarms:
                valid = bool(batch.valid[index])
                text_of[index] = texts.setdefault((valid, alarms), len(texts))
        encoded = [
            fix_keys.decoded_text(valid, None, None, alarms, batch.protocol, "{}")
            for valid, alarms in texts
        ]
        return fix_keys.decoded_keys(numbers, encoded, text_of)

    def finish(self) -> None:
        """Build the indexes (exactly as migrated), each in one sorted pass."""
        for index in fixes.indexes:
            index.create(bind=self.connection, checkfirst=True)
