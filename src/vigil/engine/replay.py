"""``vigil replay``: run the engine over recorded fixes, with no server and no database set-up.

Rows of FIXES.csv are in arrival order. They are fed to the engine in micro-batches cut wherever a
device's fix time goes backwards (a late upload starts), so a batch never knows more than the
stream would have at that point, and the result does not depend on the batch size.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import polars as pl

from vigil.engine.core import Engine, FixBatch
from vigil.engine.ledger import Episode
from vigil.engine.model import Plan
from vigil.engine.plan import parse_plan
from vigil.errors import ErrorCollector, ValidationError

REQUIRED_COLUMNS = ("device", "time", "lat", "lon", "accuracy_m")
NUMERIC_COLUMNS = ("lat", "lon", "accuracy_m", "battery", "alcohol")
DEFAULT_CHUNK = 65_536


@dataclass
class FixTable:
    """FIXES.csv as columns, in arrival order."""

    device_codes: npt.NDArray[np.int64]
    device_names: list[str]
    t: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    acc: npt.NDArray[np.float64]
    battery: npt.NDArray[np.float64] | None
    alarms: list[str] | None
    has_alarm: npt.NDArray[np.bool_] | None
    approximate: npt.NDArray[np.bool_] | None
    valid: npt.NDArray[np.bool_] | None
    alcohol: npt.NDArray[np.float64] | None
    fix_id: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def batch(self, lo: int, hi: int, fix_id: npt.NDArray[np.int64] | None = None) -> FixBatch:
        def part(column: Any) -> Any:
            return None if column is None else column[lo:hi]

        return FixBatch(
            device_codes=self.device_codes[lo:hi],
            device_names=self.device_names,
            t=self.t[lo:hi],
            lon=self.lon[lo:hi],
            lat=self.lat[lo:hi],
            acc=self.acc[lo:hi],
            fix_id=self.fix_id[lo:hi] if fix_id is None else fix_id,
            battery=part(self.battery),
            alarms=part(self.alarms),
            has_alarm=part(self.has_alarm),
            approximate=part(self.approximate),
            valid=part(self.valid),
            alcohol=part(self.alcohol),
        )


def _first_bad(mask: pl.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy())[0])


def _flag(column: pl.Series) -> npt.NDArray[np.bool_]:
    text = column.fill_null("").str.strip_chars().str.to_lowercase()
    return text.is_in(["1", "true", "yes", "y", "t"]).to_numpy()


def read_fixes(path: Path) -> FixTable:
    """Read and check FIXES.csv; a bad row is reported by its line number and column."""
    try:
        frame = pl.read_csv(path, infer_schema_length=0)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise ValidationError("FIXES.csv", f"cannot be read as CSV: {exc}") from exc
    errors = ErrorCollector()
    missing = [name for name in REQUIRED_COLUMNS if name not in frame.columns]
    if missing:
        errors.add("FIXES.csv", f"header lacks column(s) {', '.join(missing)}")
        errors.raise_if_any()
    device = _devices(frame, errors)
    parsed = _times(frame, errors)
    numbers = _numbers(frame, errors)
    errors.raise_if_any()
    names = [str(name) for name in device.unique(maintain_order=True).to_list()]
    codes = device.replace_strict(names, list(range(len(names))), return_dtype=pl.Int64)
    alarms: list[str] | None = None
    has_alarm = None
    if "alarm" in frame.columns:
        alarm = frame["alarm"].fill_null("").str.strip_chars()
        has_alarm = (alarm != "").to_numpy()
        alarms = alarm.to_list()
    return FixTable(
        device_codes=codes.to_numpy().astype(np.int64),
        device_names=names,
        t=parsed.dt.epoch("us").to_numpy().astype(np.float64) / 1e6,
        lat=numbers["lat"],
        lon=numbers["lon"],
        acc=numbers["accuracy_m"],
        battery=numbers.get("battery"),
        alarms=alarms,
        has_alarm=has_alarm,
        approximate=_flag(frame["approximate"]) if "approximate" in frame.columns else None,
        valid=~_flag(frame["invalid"]) if "invalid" in frame.columns else None,
        alcohol=numbers.get("alcohol"),
        fix_id=np.arange(1, frame.height + 1, dtype=np.int64),
    )


def _devices(frame: pl.DataFrame, errors: ErrorCollector) -> pl.Series:
    device = frame["device"].str.strip_chars()
    if device.is_null().any() or (device == "").any():
        row = _first_bad(device.is_null() | (device == ""))
        errors.add(f"FIXES.csv line {row + 2}: device", "is empty")
    return device


def _times(frame: pl.DataFrame, errors: ErrorCollector) -> pl.Series:
    raw_time = frame["time"].str.strip_chars()
    text = raw_time.str.replace(r"^(\d{4}-\d\d-\d\d) ", "${1}T").str.replace(r"[zZ]$", "+00:00")
    parsed = text.str.to_datetime(
        format="%Y-%m-%dT%H:%M:%S%.f%:z", strict=False, time_zone="UTC", time_unit="us"
    )
    if parsed.is_null().any():
        row = _first_bad(parsed.is_null())
        errors.add(
            f"FIXES.csv line {row + 2}: time",
            f"{raw_time[row]!r} is not ISO-8601 with Z or an offset",
        )
    return parsed


def _numbers(frame: pl.DataFrame, errors: ErrorCollector) -> dict[str, npt.NDArray[np.float64]]:
    numbers: dict[str, npt.NDArray[np.float64]] = {}
    for name in NUMERIC_COLUMNS:
        if name not in frame.columns:
            continue
        column = frame[name].str.strip_chars()
        present = column.is_not_null() & (column != "")
        values = column.cast(pl.Float64, strict=False)
        wrong = present & values.is_null()
        if wrong.any():
            row = _first_bad(wrong)
            errors.add(f"FIXES.csv line {row + 2}: {name}", f"{column[row]!r} is not a number")
        numbers[name] = values.fill_null(np.nan).to_numpy().astype(np.float64)
    half = np.isfinite(numbers["lat"]) != np.isfinite(numbers["lon"])
    if half.any():
        errors.add(
            f"FIXES.csv line {int(np.flatnonzero(half)[0]) + 2}: lat", "lat and lon go together"
        )
    return numbers


def read_scenario(path: Path) -> Plan:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationError("SCENARIO.json", f"cannot be read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ValidationError("SCENARIO.json", f"is not JSON: {exc}") from exc
    return parse_plan(raw)


def chunks(
    table: FixTable, size: int = DEFAULT_CHUNK, late_after_s: float = 120.0
) -> Iterator[tuple[int, int]]:
    """Batch boundaries: at most ``size`` rows, and a new batch where a device's time goes back
    or a late upload begins."""
    n = len(table)
    if n == 0:
        return
    order = np.argsort(table.device_codes, kind="stable")
    codes = table.device_codes[order]
    times = table.t[order]
    back = np.zeros(n, dtype=bool)
    same = codes[1:] == codes[:-1]
    back_sorted = np.zeros(n, dtype=bool)
    back_sorted[1:] = same & (times[1:] < times[:-1])
    back[order] = back_sorted
    # A run of rows far behind the clock (a buffered upload) starts a batch of its own too, so
    # timers the clock already passed fire before it, as they would have live.
    clock = np.maximum.accumulate(table.t)
    behind = np.zeros(n, dtype=bool)
    behind[1:] = table.t[1:] < clock[:-1] - late_after_s
    starts = behind.copy()
    starts[1:] &= ~behind[:-1]
    cuts = np.flatnonzero(back | starts).tolist()
    start = 0
    for cut in [*cuts, n]:
        while cut - start > size:
            yield start, start + size
            start += size
        if cut > start:
            yield start, cut
            start = cut


class TrailSink(Protocol):
    """Where replayed fixes are stored (the trail store); returns the stored fixes' ids."""

    def __call__(self, table: FixTable, lo: int, hi: int) -> npt.NDArray[np.int64]: ...

    def close(self) -> None:
        """Finish the store (build deferred indexes) once every fix is in."""


def replay(
    plan: Plan,
    table: FixTable,
    *,
    chunk: int = DEFAULT_CHUNK,
    sink: TrailSink | None = None,
    progress: Callable[[int], None] | None = None,
) -> Engine:
    """Run the engine over the table in arrival order; timers run up to the last fix seen."""
    engine = Engine(plan)
    for lo, hi in chunks(table, chunk, plan.settings.late_after_s):
        ids = sink(table, lo, hi) if sink is not None else None
        engine.process(table.batch(lo, hi, ids))
        if progress is not None:
            progress(hi - lo)
    if np.isfinite(engine.clock):
        engine.advance(engine.clock)
    if sink is not None:
        sink.close()
    return engine


def ordered(episodes: list[Episode]) -> list[Episode]:
    return sorted(
        episodes,
        key=lambda e: (e.raised_at, e.person, e.condition or "", e.kind.value, e.start),
    )


def write_events(episodes: list[Episode], out: Path) -> int:
    """Write EVENTS.jsonl atomically: a failed run leaves no half-written file behind."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".events-", dir=out.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            for episode in ordered(episodes):
                stream.write(json.dumps(episode.as_json(), sort_keys=False) + "\n")
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return len(episodes)
