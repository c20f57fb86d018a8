"""Per-person state columns: how far each person's machines have got, and their last fixes."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.engine.batch import INF, json_number

PersonColumns = dict[str, npt.NDArray[Any]]

PERSON_STATE: dict[str, tuple[Any, float]] = {
    "p_time": (np.float64, -INF),
    "since": (np.float64, -INF),  # when watching this person began (kept across restarts)
    "pl_t": (np.float64, np.nan),
    "pl_lon": (np.float64, np.nan),
    "pl_lat": (np.float64, np.nan),
    "pl_acc": (np.float64, np.nan),
    # The latest implausible fix after the last plausible one: the start of a track that may be
    # forged or multipath (see plausibility.implausible); NaN when there is none.
    "su_t": (np.float64, np.nan),
    "su_lon": (np.float64, np.nan),
    "su_lat": (np.float64, np.nan),
    "su_acc": (np.float64, np.nan),
}

TrackPoint = tuple[float, float, float, float]  # time, lon, lat, accuracy


def person_columns(count: int) -> PersonColumns:
    return {name: np.full(count, value, dtype=kind) for name, (kind, value) in PERSON_STATE.items()}


def track_point(ps: PersonColumns, prefix: str, person: int) -> TrackPoint:
    """The last plausible ("pl") or suspect ("su") fix remembered for a person."""
    t, lon, lat, acc = (float(ps[f"{prefix}_{k}"][person]) for k in ("t", "lon", "lat", "acc"))
    return t, lon, lat, acc


def person_state_json(ps: PersonColumns, person: int) -> dict[str, Any]:
    return {name: json_number(ps[name][person]) for name in PERSON_STATE}


def import_person(ps: PersonColumns, person: int, row: dict[str, Any]) -> None:
    for name, (_dtype, default) in PERSON_STATE.items():
        value = row.get(name)
        ps[name][person] = default if value is None else value
