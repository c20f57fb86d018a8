"""Thinning a trail for display: a week of minute fixes drawn in a few hundred points, never
dropping the fixes that matter (inside a zone or its buffer, or the ends of a gap). Plain numpy."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from shapely import contains_xy
from shapely.geometry import shape

from vigil.geo.projection import metres_per_degree

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def to_plane(lat0: float, lon0: float, lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, ...]:
    """Metres east/north of (lat0, lon0); equirectangular is well under a metre off at city size."""
    m_lat, m_lon = metres_per_degree(lat0)
    return (lon - lon0) * m_lon, (lat - lat0) * m_lat


def from_plane(lat0: float, lon0: float, x: float, y: float) -> tuple[float, float]:
    m_lat, m_lon = metres_per_degree(lat0)
    return lat0 + y / m_lat, lon0 + x / m_lon


def zone_mask(lat: FloatArray, lon: FloatArray, zones: Sequence[dict[str, Any]]) -> BoolArray:
    """Fixes inside any zone grown by its warning buffer (the fixes a reviewer must see)."""
    inside = np.zeros(lat.shape, dtype=bool)
    for zone in zones:
        geometry = zone.get("geometry") or {}
        reach = float(zone.get("buffer_m") or 0.0)
        if geometry.get("type") == "Point":
            lon0, lat0 = geometry["coordinates"][:2]
            x, y = to_plane(lat0, lon0, lat, lon)
            inside |= np.hypot(x, y) <= float(zone.get("radius_m") or 0.0) + reach
        elif geometry.get("type") in ("Polygon", "MultiPolygon"):
            poly = shape(geometry)
            lat0 = poly.centroid.y
            m_lat, m_lon = metres_per_degree(lat0)
            # Grow in degrees with the smaller scale so the buffer is never too thin.
            grown = poly.buffer(reach / min(m_lat, m_lon)) if reach else poly
            inside |= contains_xy(grown, lon, lat)
    return inside


# --- trail thinning --------------------------------------------------------------------------


def _douglas_peucker(x: FloatArray, y: FloatArray, tolerance: float, keep: BoolArray) -> None:
    """Mark in ``keep`` the points Douglas-Peucker needs between each pair of kept points."""
    stack: list[tuple[int, int]] = []
    kept = [int(i) for i in np.flatnonzero(keep)]
    for a, b in itertools.pairwise(kept):
        if b - a > 1:
            stack.append((a, b))
    while stack:
        a, b = stack.pop()
        xs, ys = x[a + 1 : b], y[a + 1 : b]
        dx, dy = x[b] - x[a], y[b] - y[a]
        length = math.hypot(dx, dy)
        if length == 0.0:
            distances = np.hypot(xs - x[a], ys - y[a])
        else:
            distances = np.abs(dy * (xs - x[a]) - dx * (ys - y[a])) / length
        worst = int(np.argmax(distances))
        if distances[worst] > tolerance:
            middle = a + 1 + worst
            keep[middle] = True
            if middle - a > 1:
                stack.append((a, middle))
            if b - middle > 1:
                stack.append((middle, b))


def thin_trail(
    lat: FloatArray,
    lon: FloatArray,
    tolerance_m: float,
    pinned: BoolArray | None = None,
) -> npt.NDArray[np.int64]:
    """Indices of the points to draw: Douglas-Peucker within ``tolerance_m`` metres, plus every
    pinned point (inside a zone, a gap's ends), plus the first and last."""
    n = len(lat)
    if n <= 2:
        return np.arange(n, dtype=np.int64)
    keep = np.zeros(n, dtype=bool) if pinned is None else pinned.astype(bool).copy()
    keep[0] = keep[-1] = True
    x, y = to_plane(float(lat[0]), float(lon[0]), lat, lon)
    _douglas_peucker(x, y, tolerance_m, keep)
    return np.flatnonzero(keep).astype(np.int64)


def gap_ends(times: Sequence[float] | FloatArray, gap_s: float) -> BoolArray:
    """The fixes on either side of a silence longer than ``gap_s``: a gap must stay visible."""
    t = np.asarray(times, dtype=np.float64)
    out = np.zeros(len(t), dtype=bool)
    if len(t) < 2:
        return out
    long = np.flatnonzero(np.diff(t) > gap_s)
    out[long] = True
    out[long + 1] = True
    return out
