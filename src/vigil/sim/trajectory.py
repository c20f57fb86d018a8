"""True movement: piecewise-linear paths in a local metric plane, and routes that avoid a zone.

Positions are metres east (x) and north (y) of a wearer's home; times are seconds since the Unix
epoch (floats). A trajectory is a list of breakpoints; between two of them the person moves in a
straight line at constant speed (equal positions = staying put), so sampling thousands of fix
times is one ``numpy.interp`` per axis.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

WALK_MPS = 1.4
DRIVE_MPS = 9.0
M_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True)
class LocalFrame:
    """Equirectangular plane around (lat0, lon0): well under a metre off within 20 km."""

    lat0: float
    lon0: float

    def to_latlon(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lat = self.lat0 + y / M_PER_DEG_LAT
        lon = self.lon0 + x / (M_PER_DEG_LAT * math.cos(math.radians(self.lat0)))
        return lat, lon

    def to_xy(self, lat: float, lon: float) -> tuple[float, float]:
        y = (lat - self.lat0) * M_PER_DEG_LAT
        x = (lon - self.lon0) * M_PER_DEG_LAT * math.cos(math.radians(self.lat0))
        return x, y


Point = tuple[float, float]


@dataclass(frozen=True)
class Disc:
    centre: Point
    radius: float


def _segment_distance(a: Point, b: Point, c: Point) -> tuple[float, Point]:
    """Distance from c to segment ab, and the closest point on it."""
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((c[0] - ax) * dx + (c[1] - ay) * dy) / length2))
    px, py = ax + t * dx, ay + t * dy
    return math.hypot(c[0] - px, c[1] - py), (px, py)


def route(a: Point, b: Point, avoid: Disc | None, depth: int = 0) -> list[Point]:
    """Waypoints from a to b (excluding a, including b) that keep out of ``avoid``.

    A straight segment that would cross the disc is bent round it through a point beside the
    disc on the side the segment passes, like a street detour; up to three bends.
    """
    if avoid is None or depth >= 3:
        return [b]
    distance, closest = _segment_distance(a, b, avoid.centre)
    if distance >= avoid.radius:
        return [b]
    ux, uy = closest[0] - avoid.centre[0], closest[1] - avoid.centre[1]
    norm = math.hypot(ux, uy)
    if norm < 1e-6:  # heading straight through the centre: go round to the left
        ux, uy = -(b[1] - a[1]), b[0] - a[0]
        norm = math.hypot(ux, uy) or 1.0
    bend = (
        avoid.centre[0] + ux / norm * avoid.radius * 1.5,
        avoid.centre[1] + uy / norm * avoid.radius * 1.5,
    )
    return route(a, bend, avoid, depth + 1) + route(bend, b, avoid, depth + 1)


@dataclass
class Trajectory:
    """Breakpoints (time, x, y), appended in time order."""

    times: list[float] = field(default_factory=list)
    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)

    @classmethod
    def starting(cls, at: float, where: Point) -> Trajectory:
        return cls([at], [where[0]], [where[1]])

    @property
    def now(self) -> float:
        return self.times[-1]

    @property
    def here(self) -> Point:
        return self.xs[-1], self.ys[-1]

    def _add(self, at: float, where: Point) -> None:
        self.times.append(at)
        self.xs.append(where[0])
        self.ys.append(where[1])

    def stay_until(self, at: float) -> None:
        if at > self.now:
            self._add(at, self.here)

    def stay_for(self, seconds: float) -> None:
        self.stay_until(self.now + seconds)

    def go(self, waypoints: list[Point], speed_mps: float) -> None:
        for point in waypoints:
            distance = math.hypot(point[0] - self.xs[-1], point[1] - self.ys[-1])
            self._add(self.now + max(distance / speed_mps, 1.0), point)

    def travel(self, to: Point, avoid: Disc | None, speed_mps: float | None = None) -> None:
        """Go somewhere by a route round ``avoid``, walking short trips and driving long ones."""
        distance = math.hypot(to[0] - self.xs[-1], to[1] - self.ys[-1])
        speed = speed_mps or (WALK_MPS if distance < 2_000 else DRIVE_MPS)
        self.go(route(self.here, to, avoid), speed)

    def positions(self, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = np.asarray(self.times)
        return np.interp(at, t, np.asarray(self.xs)), np.interp(at, t, np.asarray(self.ys))

    def crossings(
        self,
        start: float,
        end: float,
        inside: Callable[[np.ndarray, np.ndarray], np.ndarray],
        step: float = 1.0,
    ) -> list[tuple[float, float]]:
        """Intervals in [start, end] during which ``inside(x, y)`` holds, to ``step`` seconds."""
        at = np.arange(start, end + step, step)
        x, y = self.positions(at)
        flags = inside(x, y)
        out: list[tuple[float, float]] = []
        entered: float | None = None
        for t, flag in zip(at.tolist(), flags.tolist(), strict=True):
            if flag and entered is None:
                entered = t
            elif not flag and entered is not None:
                out.append((entered, t))
                entered = None
        if entered is not None:
            out.append((entered, float(at[-1])))
        return out
