"""Crime matching: which wearers' fixes place them at a crime scene during its time window.

Pure functions over plain lists of fixes, so the same core runs on the trail store's answers, on
a replay, and in tests that check it against an independent brute force.

The rule, per crime and per person:

* Fixes count from ``window_from - padding_before`` to ``window_to + padding_after``.
* A fix is a disc (its reported accuracy, or ``default_accuracy_m`` when the device gave none),
  not a point. Against the scene's radius R and the geodesic distance d from fix to scene:
  ``certain``  when d + accuracy ≤ R (the whole disc is inside),
  ``likely``   when d ≤ R (the reported position is inside),
  ``possible`` when d − accuracy ≤ R (only the disc reaches the radius).
  Fixes whose accuracy is worse than ``max_accuracy_m`` place nobody anywhere and are ignored.
* A fix's confidence is its spatial weight (1.0 / 0.7 / 0.4) times its time weight (1.0 inside
  the window, 0.6 in the padding only); a person's confidence is their best fix's. Labels:
  high ≥ 0.7, medium ≥ 0.4, low otherwise. So a fix in the padding is worth at most 0.6 and
  never makes a match high; ``match_confidence.py`` puts the deciding fix's reasons in words.
* The closest approach is the least d over the person's fixes in the padded window.

``ALGORITHM_VERSION`` is stored with every run; change it whenever this rule changes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import Geod

from vigil.errors import ErrorCollector

ALGORITHM_VERSION = "vigil-crime-match/1.0"
_GEOD = Geod(ellps="WGS84")
# Metres per degree of latitude is at least this anywhere; used only for a generous pre-filter.
_MIN_METRES_PER_DEGREE = 110_000.0


class SpatialClass(StrEnum):
    CERTAIN = "certain"
    LIKELY = "likely"
    POSSIBLE = "possible"


class ConfidenceLabel(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


SPATIAL_WEIGHT = {SpatialClass.CERTAIN: 1.0, SpatialClass.LIKELY: 0.7, SpatialClass.POSSIBLE: 0.4}
IN_WINDOW_WEIGHT = 1.0
PADDING_WEIGHT = 0.6


def confidence_label(value: float) -> ConfidenceLabel:
    if value >= 0.7:
        return ConfidenceLabel.HIGH
    if value >= 0.4:
        return ConfidenceLabel.MEDIUM
    return ConfidenceLabel.LOW


@dataclass(frozen=True)
class MatchParameters:
    radius_m: float = 100.0
    padding_before: timedelta = timedelta(minutes=15)
    padding_after: timedelta = timedelta(minutes=15)
    max_accuracy_m: float = 250.0
    default_accuracy_m: float = 30.0

    def validate(self) -> None:
        errors = ErrorCollector()
        errors.check(1.0 <= self.radius_m <= 5_000.0, "radius_m", "must be 1..5000 metres")
        for name in ("padding_before", "padding_after"):
            value: timedelta = getattr(self, name)
            errors.check(timedelta(0) <= value <= timedelta(hours=6), name, "must be 0..6 hours")
        errors.check(
            0.0 < self.max_accuracy_m <= 5_000.0, "max_accuracy_m", "must be 0..5000 metres"
        )
        errors.check(
            0.0 <= self.default_accuracy_m <= self.max_accuracy_m,
            "default_accuracy_m",
            "must be 0..max_accuracy_m",
        )
        errors.raise_if_any()

    def as_dict(self) -> dict[str, Any]:
        return {
            "radius_m": self.radius_m,
            "padding_before_s": self.padding_before.total_seconds(),
            "padding_after_s": self.padding_after.total_seconds(),
            "max_accuracy_m": self.max_accuracy_m,
            "default_accuracy_m": self.default_accuracy_m,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchParameters:
        return cls(
            radius_m=float(data["radius_m"]),
            padding_before=timedelta(seconds=float(data["padding_before_s"])),
            padding_after=timedelta(seconds=float(data["padding_after_s"])),
            max_accuracy_m=float(data["max_accuracy_m"]),
            default_accuracy_m=float(data["default_accuracy_m"]),
        )


@dataclass(frozen=True)
class TrackPoint:
    """One stored fix as the matcher needs it."""

    fix_id: int
    person_id: str
    time: datetime
    lat: float
    lon: float
    accuracy_m: float | None = None


@dataclass(frozen=True)
class Scene:
    reference: str
    lat: float
    lon: float
    window_from: datetime
    window_to: datetime


@dataclass(frozen=True)
class FixWithin:
    fix_id: int
    time: datetime
    lat: float
    lon: float
    accuracy_m: float | None
    distance_m: float
    spatial: SpatialClass
    in_window: bool
    confidence: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "fix_id": self.fix_id,
            "time": self.time.isoformat(),
            "lat": self.lat,
            "lon": self.lon,
            "accuracy_m": self.accuracy_m,
            "distance_m": round(self.distance_m, 2),
            "spatial": self.spatial.value,
            "in_window": self.in_window,
            "confidence": round(self.confidence, 3),
        }


@dataclass(frozen=True)
class PersonMatch:
    person_id: str
    closest_distance_m: float
    closest_time: datetime
    closest_fix_id: int
    confidence: float
    fixes: tuple[FixWithin, ...] = field(default=())

    @property
    def label(self) -> ConfidenceLabel:
        return confidence_label(self.confidence)


@dataclass(frozen=True)
class _Track:
    fix_ids: NDArray[np.int64]
    seconds: NDArray[np.float64]
    lats: NDArray[np.float64]
    lons: NDArray[np.float64]
    accuracy: NDArray[np.float64]  # NaN where the device gave none
    times: tuple[datetime, ...]


class TrackIndex:
    """Fixes grouped by person and sorted by time, ready for repeated window look-ups."""

    def __init__(self, points: Iterable[TrackPoint]) -> None:
        by_person: dict[str, list[TrackPoint]] = {}
        for point in points:
            by_person.setdefault(point.person_id, []).append(point)
        self._tracks: dict[str, _Track] = {}
        for person_id, items in by_person.items():
            items.sort(key=lambda p: (p.time, p.fix_id))
            self._tracks[person_id] = _Track(
                fix_ids=np.array([p.fix_id for p in items], dtype=np.int64),
                seconds=np.array([p.time.timestamp() for p in items], dtype=np.float64),
                lats=np.array([p.lat for p in items], dtype=np.float64),
                lons=np.array([p.lon for p in items], dtype=np.float64),
                accuracy=np.array(
                    [math.nan if p.accuracy_m is None else p.accuracy_m for p in items],
                    dtype=np.float64,
                ),
                times=tuple(p.time for p in items),
            )

    @property
    def persons(self) -> list[str]:
        return sorted(self._tracks)

    def __len__(self) -> int:
        return sum(len(track.fix_ids) for track in self._tracks.values())

    def track(self, person_id: str) -> _Track | None:
        return self._tracks.get(person_id)


def geodesic_distances(
    lat: float, lon: float, lats: NDArray[np.float64], lons: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Metres on the WGS84 ellipsoid from one point to many."""
    if len(lats) == 0:
        return np.empty(0, dtype=np.float64)
    _, _, dist = _GEOD.inv(np.full(len(lats), lon), np.full(len(lats), lat), lons, lats)
    return np.asarray(dist, dtype=np.float64)


def _in_box(scene: Scene, lats: Any, lons: Any, reach: float) -> Any:
    """A generous box around the scene, so the exact geodesic runs only near it."""
    dlat = reach / _MIN_METRES_PER_DEGREE
    dlon = dlat / max(math.cos(math.radians(min(abs(scene.lat) + dlat, 89.0))), 1e-6)
    return (np.abs(lats - scene.lat) <= dlat) & (np.abs(lons - scene.lon) <= dlon)


def _spatial_class(distance_m: float, accuracy_m: float, radius_m: float) -> SpatialClass:
    """Certain when the whole accuracy disc lies within the radius, likely when its centre
    does, possible when only its edge reaches."""
    if distance_m + accuracy_m <= radius_m:
        return SpatialClass.CERTAIN
    if distance_m <= radius_m:
        return SpatialClass.LIKELY
    return SpatialClass.POSSIBLE


def match_person(
    scene: Scene, person_id: str, track: _Track, params: MatchParameters
) -> PersonMatch | None:
    start = (scene.window_from - params.padding_before).timestamp()
    end = (scene.window_to + params.padding_after).timestamp()
    lo = int(np.searchsorted(track.seconds, start, side="left"))
    hi = int(np.searchsorted(track.seconds, end, side="right"))
    if lo >= hi:
        return None
    accuracy = track.accuracy[lo:hi]
    accuracy = np.where(np.isnan(accuracy), params.default_accuracy_m, accuracy)
    usable = accuracy <= params.max_accuracy_m
    lats = track.lats[lo:hi]
    lons = track.lons[lo:hi]
    near = usable & _in_box(scene, lats, lons, params.radius_m + params.max_accuracy_m)
    if not near.any():
        return None
    idx = np.nonzero(near)[0]
    dist = geodesic_distances(scene.lat, scene.lon, lats[idx], lons[idx])
    acc = accuracy[idx]
    within = dist - acc <= params.radius_m
    if not within.any():
        return None
    window_start = scene.window_from.timestamp()
    window_end = scene.window_to.timestamp()
    fixes: list[FixWithin] = []
    for k in np.nonzero(within)[0]:
        i = lo + int(idx[k])
        d = float(dist[k])
        a = float(acc[k])
        spatial = _spatial_class(d, a, params.radius_m)
        in_window = window_start <= track.seconds[i] <= window_end
        weight = IN_WINDOW_WEIGHT if in_window else PADDING_WEIGHT
        raw_accuracy = track.accuracy[i]
        fixes.append(
            FixWithin(
                fix_id=int(track.fix_ids[i]),
                time=track.times[i],
                lat=float(track.lats[i]),
                lon=float(track.lons[i]),
                accuracy_m=None if math.isnan(raw_accuracy) else float(raw_accuracy),
                distance_m=d,
                spatial=spatial,
                in_window=bool(in_window),
                confidence=SPATIAL_WEIGHT[spatial] * weight,
            )
        )
    best = int(np.argmin(dist))
    closest = lo + int(idx[best])
    return PersonMatch(
        person_id=person_id,
        closest_distance_m=float(dist[best]),
        closest_time=track.times[closest],
        closest_fix_id=int(track.fix_ids[closest]),
        confidence=max(f.confidence for f in fixes),
        fixes=tuple(fixes),
    )


def match_scene(scene: Scene, index: TrackIndex, params: MatchParameters) -> list[PersonMatch]:
    """Every person placed at the scene, most confident (then closest) first."""
    found: list[PersonMatch] = []
    for person_id in index.persons:
        track = index.track(person_id)
        assert track is not None
        match = match_person(scene, person_id, track, params)
        if match is not None:
            found.append(match)
    found.sort(key=lambda m: (-m.confidence, m.closest_distance_m, m.person_id))
    return found


def match_scenes(
    scenes: Sequence[Scene], points: Iterable[TrackPoint], params: MatchParameters
) -> dict[str, list[PersonMatch]]:
    params.validate()
    index = TrackIndex(points)
    return {scene.reference: match_scene(scene, index, params) for scene in scenes}


def search_reach_m(params: MatchParameters) -> float:
    """How far from a scene a stored fix can be and still matter (radius plus worst accuracy)."""
    return params.radius_m + params.max_accuracy_m
