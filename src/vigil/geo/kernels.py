"""Vectorised signed distance from fixes to zones (circles, polygons, multipolygons with holes).

Each zone gets its own local plane (see :mod:`vigil.geo.projection`). Circles are one ``hypot``.
Polygons are compiled to flat edge arrays — every ring of every part, holes included — padded to
a power-of-two edge count so a whole batch of (fix, polygon) pairs is one numpy expression:
distance to the nearest edge, and inside by the even-odd rule (which handles holes and
multipolygons without special cases). Pairs far from a polygon's bounding box only get the cheap
box distance, a lower bound, which is all a "certainly outside" decision needs.

Signed distance is negative inside, positive outside, in metres.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.geo.projection import FloatArray, metres_per_degree

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Padding edges sit far away and are horizontal, so they never win the minimum and never cross.
_PAD = 1e12
# Work in chunks of at most this many (pair, edge) cells to bound memory.
_CHUNK_CELLS = 1 << 21


@dataclass(frozen=True)
class ZoneShape:
    """A zone to compile: GeoJSON (Point, Polygon or MultiPolygon) and a radius for Points."""

    geometry: dict[str, Any]
    radius_m: float | None = None


@dataclass
class _Bucket:
    edges: FloatArray  # (polygons in bucket, E, 4): x1, y1, x2, y2 in each zone's plane


@dataclass
class CompiledZones:
    """Flat arrays, one row per zone."""

    lon0: FloatArray
    lat0: FloatArray
    kx: FloatArray
    ky: FloatArray
    radius: FloatArray  # NaN for polygons
    is_circle: BoolArray
    xmin: FloatArray
    ymin: FloatArray
    xmax: FloatArray
    ymax: FloatArray
    bucket: IntArray  # -1 for circles
    slot: IntArray  # row in the bucket's edge array
    buckets: list[_Bucket] = field(default_factory=list)
    # The radius, or 0 for polygons (one gather tells both which kind and how big).
    circle_radius: FloatArray = field(default_factory=lambda: np.zeros(0))

    @property
    def size(self) -> int:
        return int(self.lon0.shape[0])


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return [list(ring) for ring in geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return [list(ring) for polygon in geometry["coordinates"] for ring in polygon]
    raise ValueError(f"not a polygon: {geometry['type']}")


def compile_zones(shapes: Sequence[ZoneShape]) -> CompiledZones:
    """One row per shape: circles as centre and radius, polygons as padded edge buckets."""
    zones = _empty(len(shapes))
    pending: dict[int, list[tuple[int, FloatArray]]] = {}
    for index, shape in enumerate(shapes):
        if shape.geometry["type"] == "Point":
            _place_circle(zones, index, shape)
            continue
        flat = _place_polygon(zones, index, shape.geometry)
        size = 1 << max(2, int(np.ceil(np.log2(flat.shape[0]))))
        pending.setdefault(size, []).append((index, flat))
    for size in sorted(pending):
        members = pending[size]
        edges_array = np.empty((len(members), size, 4))
        edges_array[:, :, :] = (_PAD, _PAD, _PAD + 1.0, _PAD)
        for row, (index, flat) in enumerate(members):
            edges_array[row, : flat.shape[0]] = flat
            zones.bucket[index] = len(zones.buckets)
            zones.slot[index] = row
        zones.buckets.append(_Bucket(edges_array))
    zones.circle_radius = np.where(zones.is_circle, zones.radius, 0.0)
    return zones


def _empty(n: int) -> CompiledZones:
    return CompiledZones(
        lon0=np.zeros(n),
        lat0=np.zeros(n),
        kx=np.zeros(n),
        ky=np.zeros(n),
        radius=np.full(n, np.nan),
        is_circle=np.zeros(n, dtype=bool),
        xmin=np.zeros(n),
        ymin=np.zeros(n),
        xmax=np.zeros(n),
        ymax=np.zeros(n),
        bucket=np.full(n, -1, dtype=np.int64),
        slot=np.full(n, -1, dtype=np.int64),
    )


def _place_circle(zones: CompiledZones, index: int, shape: ZoneShape) -> None:
    geometry = shape.geometry
    if shape.radius_m is None:
        raise ValueError("a Point zone needs a radius")
    lon, lat = float(geometry["coordinates"][0]), float(geometry["coordinates"][1])
    zones.lon0[index], zones.lat0[index] = lon, lat
    zones.kx[index], zones.ky[index] = metres_per_degree(lat)
    zones.radius[index] = shape.radius_m
    zones.is_circle[index] = True
    r = shape.radius_m
    zones.xmin[index], zones.ymin[index], zones.xmax[index], zones.ymax[index] = -r, -r, r, r


def _place_polygon(zones: CompiledZones, index: int, geometry: dict[str, Any]) -> FloatArray:
    """Set the polygon's plane and bounds; return its edges (x1, y1, x2, y2) in that plane."""
    rings = [np.asarray(ring, dtype=np.float64)[:, :2] for ring in _rings(geometry)]
    outer = rings[0]  # holes lie inside the outer ring, so it alone gives the bounds
    lon_mid = (float(outer[:, 0].min()) + float(outer[:, 0].max())) / 2
    lat_mid = (float(outer[:, 1].min()) + float(outer[:, 1].max())) / 2
    scale_x, scale_y = metres_per_degree(lat_mid)
    zones.lon0[index], zones.lat0[index] = lon_mid, lat_mid
    zones.kx[index], zones.ky[index] = scale_x, scale_y
    count = sum(ring.shape[0] - 1 for ring in rings)
    flat = np.empty((count, 4))
    row = 0
    for ring in rings:
        x = (ring[:, 0] - lon_mid) * scale_x
        y = (ring[:, 1] - lat_mid) * scale_y
        m = ring.shape[0] - 1
        flat[row : row + m, 0] = x[:-1]
        flat[row : row + m, 1] = y[:-1]
        flat[row : row + m, 2] = x[1:]
        flat[row : row + m, 3] = y[1:]
        row += m
    zones.xmin[index], zones.xmax[index] = flat[:, 0].min(), flat[:, 0].max()
    zones.ymin[index], zones.ymax[index] = flat[:, 1].min(), flat[:, 1].max()
    return flat


def project(
    zones: CompiledZones, zi: IntArray, lon: FloatArray, lat: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Fix positions in each paired zone's own plane (metres)."""
    return (lon - zones.lon0[zi]) * zones.kx[zi], (lat - zones.lat0[zi]) * zones.ky[zi]


def edges_signed_distance(edges: FloatArray, x: FloatArray, y: FloatArray) -> FloatArray:
    """Signed distance of points to polygons: per-point edges ``(m, E, 4)`` or shared ``(E, 4)``."""
    if edges.ndim == 2:
        edges = edges[None, :, :]
    x1, y1, x2, y2 = edges[..., 0], edges[..., 1], edges[..., 2], edges[..., 3]
    px = x[:, None]
    py = y[:, None]
    vx = x2 - x1
    vy = y2 - y1
    wx = px - x1
    wy = py - y1
    length2 = vx * vx + vy * vy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip((wx * vx + wy * vy) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
    dx = wx - t * vx
    dy = wy - t * vy
    nearest = np.sqrt((dx * dx + dy * dy).min(axis=1))
    straddles = (y1 > py) != (y2 > py)
    with np.errstate(invalid="ignore", divide="ignore"):
        x_cross = x1 + (py - y1) * vx / np.where(vy != 0, vy, 1.0)
    crossings = np.count_nonzero(straddles & (px < x_cross), axis=1)
    inside = (crossings & 1).astype(bool)
    signed: FloatArray = np.where(inside, -nearest, nearest)
    return signed


def signed_distance(
    zones: CompiledZones,
    zi: IntArray,
    lon: FloatArray,
    lat: FloatArray,
    exact_within: FloatArray | float = np.inf,
) -> tuple[FloatArray, BoolArray]:
    """Signed distance (m) from each fix to its paired zone, and whether it is exact.

    Polygon pairs whose bounding-box distance exceeds ``exact_within`` get that box distance, a
    lower bound on the true distance; everything else (and every circle) is exact.
    """
    # Gathers from contiguous per-zone columns (``take`` is the fastest gather numpy has).
    x = (lon - zones.lon0.take(zi)) * zones.kx.take(zi)
    y = (lat - zones.lat0.take(zi)) * zones.ky.take(zi)
    radius = zones.circle_radius.take(zi)
    circle = radius > 0
    d = np.sqrt(x * x + y * y) - radius
    exact = np.ones(zi.shape[0], dtype=bool)
    polygon = np.flatnonzero(~circle)
    if polygon.size == 0:
        return d, exact
    pz = zi[polygon]
    px = x[polygon]
    py = y[polygon]
    bx = np.maximum(np.maximum(zones.xmin[pz] - px, px - zones.xmax[pz]), 0.0)
    by = np.maximum(np.maximum(zones.ymin[pz] - py, py - zones.ymax[pz]), 0.0)
    box = np.hypot(bx, by)
    d[polygon] = box
    limit = exact_within if np.isscalar(exact_within) else np.asarray(exact_within)[polygon]
    near = box <= limit
    exact[polygon] = near
    if not near.any():
        return d, exact
    todo = polygon[near]
    tz = zi[todo]
    buckets = zones.bucket[tz]
    for b in np.unique(buckets):
        members = todo[buckets == b]
        edges = zones.buckets[int(b)].edges
        width = edges.shape[1]
        step = max(1, _CHUNK_CELLS // width)
        for begin in range(0, members.size, step):
            chunk = members[begin : begin + step]
            rows = zones.slot[zi[chunk]]
            d[chunk] = edges_signed_distance(edges[rows], x[chunk], y[chunk])
    return d, exact
