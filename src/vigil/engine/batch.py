"""A micro-batch of fixes as columns, and the grouping sort every pass of the engine shares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

INF = float("inf")


@dataclass
class FixBatch:
    """Columns of a micro-batch of fixes, in arrival order.

    ``lon``/``lat`` NaN means no position; ``acc`` NaN means unknown accuracy. ``arrival`` is the
    engine's clock when each row arrived; None means "the latest fix time seen so far".
    """

    device_codes: IntArray
    device_names: list[str]
    t: FloatArray
    lon: FloatArray
    lat: FloatArray
    acc: FloatArray
    fix_id: IntArray
    arrival: FloatArray | None = None
    battery: FloatArray | None = None
    alarms: list[str] | None = None  # per row, ";"-separated, "" for none
    has_alarm: BoolArray | None = None
    approximate: BoolArray | None = None
    valid: BoolArray | None = None
    alcohol: FloatArray | None = None

    def __len__(self) -> int:
        return int(self.t.shape[0])


@dataclass
class EngineStats:
    """Counts for the replay summary and the benchmarks."""

    fixes: int = 0
    unknown_devices: int = 0
    late_fixes: int = 0
    rewinds: int = 0
    too_late: int = 0
    stepped_pairs: int = 0


def group_order(keys: IntArray) -> IntArray:
    """A stable argsort of small non-negative integers, by 16-bit radix passes (numpy's stable
    sort is a radix sort for 16-bit keys, several times faster than for wider ones)."""
    if keys.size == 0 or int(keys.max()) < 1 << 16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    low = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    high = np.argsort((keys[low] >> 16).astype(np.uint16), kind="stable")
    return low[high]


def json_number(value: object) -> float | int | bool | None:
    """A state column's value as JSON: NaN and infinity become null."""
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer | int):
        return int(value)
    number = float(value)  # type: ignore[arg-type]
    return number if np.isfinite(number) else None
