"""The columns the zone pass works on: fixes sorted by (person, time), and (fix, zone) pairs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.engine.batch import BoolArray, FloatArray, IntArray

# Fixes sorted by (person, fix time): p, t, lon, lat, acc, bad, arrival, fid.
Rows = dict[str, npt.NDArray[Any]]

_ROW_TYPES: dict[str, Any] = {
    "p": np.int64,
    "t": np.float64,
    "lon": np.float64,
    "lat": np.float64,
    "acc": np.float64,
    "bad": np.bool_,
    "arrival": np.float64,
    "fid": np.int64,
}


def empty_rows() -> Rows:
    return {name: np.zeros(0, dtype=dtype) for name, dtype in _ROW_TYPES.items()}


def select(rows: Rows, keep: slice | npt.NDArray[Any]) -> Rows:
    """The same columns at ``keep`` (a mask, a slice or an index order)."""
    return {key: value[keep] for key, value in rows.items()}


@dataclass
class PairArrays:
    """What a zone machine's step reads: each (fix, zone) pair's distance and class (indexed by
    pair ``j``) and its fix's columns (indexed by ``fi[j]``)."""

    t: FloatArray
    d: FloatArray
    acc: FloatArray
    cls: npt.NDArray[np.int8]
    fi: IntArray
    zi: IntArray
    fid: IntArray
    arrival: FloatArray
    first: BoolArray
    prev_t: FloatArray
    transit: BoolArray
    step: FloatArray
    prev_acc: FloatArray
    lon: FloatArray
    lat: FloatArray
    p: IntArray
    # The same zone's signed distance at the person's previous fix (set before each step).
    pd: float = float("nan")
