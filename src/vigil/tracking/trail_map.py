"""A trail as the maps draw it: fixes thinned for display, never dropping zone or gap-edge fixes."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.orders.model import ConditionType
from vigil.tracking.queries import TrailArrays
from vigil.tracking.thinning import gap_ends, thin_trail, zone_mask

# A trail drawn on a page needs no more detail than a few metres; a week of minute fixes thins
# to a few hundred points, zone and gap points always kept.
THIN_TOLERANCE_M = 15.0


def trail_json(
    found: TrailArrays,
    zones: list[dict[str, Any]],
    *,
    gap_s: float = 900.0,
    thin: bool = True,
) -> dict[str, Any]:
    """Fixes for the map: thinned for display, never dropping zone or gap-edge fixes.

    Works on the trail's columns: a week of minute fixes is 10,080 rows, and one Python object
    per row cost more than the rest of the page (docs/performance.md, "Monitoring pages")."""
    usable = np.flatnonzero(~(np.isnan(found.lats) | np.isnan(found.lons)))
    if usable.size == 0:
        return {"points": [], "total": len(found), "shown": 0}
    lat, lon = found.lats[usable], found.lons[usable]
    seconds = found.times_us[usable] // 1_000_000
    in_zone = zone_mask(lat, lon, [z for z in zones if z["type"] != ConditionType.CURFEW])
    pinned = in_zone | gap_ends(seconds.astype(np.float64), gap_s)
    keep = (
        thin_trail(lat, lon, THIN_TOLERANCE_M, pinned)
        if thin
        else np.arange(usable.size, dtype=np.int64)
    )
    points = _points(found, usable, keep, in_zone, seconds)
    return {"points": points, "total": len(found), "shown": len(points)}


def _points(
    found: TrailArrays,
    usable: npt.NDArray[np.int64],
    keep: npt.NDArray[np.int64],
    in_zone: npt.NDArray[np.bool_],
    seconds: npt.NDArray[np.int64],
) -> list[list[float | int]]:
    """The kept fixes as [lat, lon, accuracy, time, in a zone, flagged] rows for the map."""
    rows = usable[keep]
    accuracy = np.nan_to_num(found.accuracies_m[rows], nan=0.0)
    flagged = found.implausible[rows] | found.invalid_position[rows]
    # Python's round on the few hundred kept points: numpy's rounding can leave long decimals.
    return [
        [round(a, 6), round(o, 6), round(c, 1), t, z, g]
        for a, o, c, t, z, g in zip(
            found.lats[rows].tolist(),
            found.lons[rows].tolist(),
            accuracy.tolist(),
            seconds[keep].tolist(),
            in_zone[keep].astype(np.int8).tolist(),
            flagged.astype(np.int8).tolist(),
            strict=True,
        )
    ]


def map_json(value: Any) -> str:
    """The data a page's map draws, for a ``<script type="application/json">`` element."""
    # Safe inside the element: no "</" can close it early.
    return json.dumps(value, separators=(",", ":"), default=str).replace("</", "<\\/")
