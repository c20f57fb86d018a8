"""The spatial cell index of the trail store: a fixed latitude/longitude grid of ~200 m cells.

Every usable fix stores the integer id of its cell; an index on (cell, fix time) turns "who was
near this point between these times" into a handful of short index range scans, the same on
SQLite and PostgreSQL, with no spatial extension. Cells are 0.002° of latitude (222 m) by 0.003°
of longitude (200 m at 53°N, 215 m at 50°N, 167 m at 60°N). ``cells_covering`` is exact whatever
the latitude: only how many cells a query touches changes.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

CELL_LAT_DEG = 0.002
CELL_LON_DEG = 0.003
_LAT_OFFSET = 45_000  # 90° / 0.002°: row indexes start at 0 at the south pole
_LON_OFFSET = 60_000  # 180° / 0.003°
_ROW_STRIDE = 1_000_000
# Fewest metres in a degree of latitude (at the equator) and of longitude on the equator: dividing
# a distance by these never under-estimates its extent in degrees.
_MIN_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_319.0


def cell_of(lat: float, lon: float) -> int:
    row = math.floor(lat / CELL_LAT_DEG) + _LAT_OFFSET
    col = math.floor(lon / CELL_LON_DEG) + _LON_OFFSET
    return row * _ROW_STRIDE + col


def cells_of(lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """``cell_of`` for whole columns (a bulk load): the same floor of the same IEEE quotient,
    so each element equals ``cell_of`` of its pair. Positions must be finite."""
    row = np.floor(lat / CELL_LAT_DEG).astype(np.int64) + _LAT_OFFSET
    col = np.floor(lon / CELL_LON_DEG).astype(np.int64) + _LON_OFFSET
    return row * _ROW_STRIDE + col


def bounding_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) in degrees, holding every point within ``radius_m`` of
    (lat, lon): the latitude extent uses the fewest metres a degree of latitude ever has, the
    longitude extent is computed at the box's edge furthest from the equator, where degrees are
    shortest. Never smaller than the circle; clipped to ±90° and ±180° (no monitored area is near
    the antimeridian).
    """
    dlat = radius_m / _MIN_M_PER_DEG_LAT
    south = max(-90.0, lat - dlat)
    north = min(90.0, lat + dlat)
    widest = max(abs(south), abs(north))
    cos_lat = math.cos(math.radians(min(widest, 89.999)))
    dlon = radius_m / (_M_PER_DEG_LON_EQUATOR * cos_lat)
    return south, north, max(-180.0, lon - dlon), min(180.0, lon + dlon)


def cells_covering(lat: float, lon: float, radius_m: float) -> list[int]:
    """Every cell that holds any point within ``radius_m`` of (lat, lon): the cells of its
    ``bounding_box``. Exact whatever the latitude: only how many cells a query touches changes.
    """
    south, north, west, east = bounding_box(lat, lon, radius_m)
    row0 = math.floor(south / CELL_LAT_DEG) + _LAT_OFFSET
    row1 = math.floor(north / CELL_LAT_DEG) + _LAT_OFFSET
    col0 = math.floor(west / CELL_LON_DEG) + _LON_OFFSET
    col1 = math.floor(east / CELL_LON_DEG) + _LON_OFFSET
    return [
        row * _ROW_STRIDE + col for row in range(row0, row1 + 1) for col in range(col0, col1 + 1)
    ]
