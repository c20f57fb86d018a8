"""Fix quality: pure functions the trail store and the engine both use.

A flagged fix is never dropped or altered; it is evidence of what the device said. Flags only
decide whether a fix may, on its own, place a person somewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from vigil.tracking.model import Fix, QualityFlags

EARTH_RADIUS_M = 6_371_008.8
# Faster than anyone on the ground moves for long (a high-speed train or a car well over any
# limit): 60 m/s is 134 mph. The accuracies are subtracted first, so noise does not trip it.
MAX_PLAUSIBLE_SPEED_MPS = 60.0
# Positions closer than this to (0, 0) are the "null island" devices send before a lock.
NULL_ISLAND_DEGREES = 1e-6
# When a device reports no accuracy, assume this much so a jump is not judged against zero.
DEFAULT_ACCURACY_M = 0.0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance; within 0.5% of the geodesic, enough to judge plausibility."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def invalid_position(lat: float | None, lon: float | None) -> bool:
    """No position, not a number, out of range, or (0, 0)."""
    if lat is None or lon is None:
        return True
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return True
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return True
    return abs(lat) < NULL_ISLAND_DEGREES and abs(lon) < NULL_ISLAND_DEGREES


def implied_speed_mps(
    lat1: float,
    lon1: float,
    acc1: float | None,
    t1: datetime,
    lat2: float,
    lon2: float,
    acc2: float | None,
    t2: datetime,
) -> float:
    """The slowest speed that explains moving between two fixes, given both accuracies.

    The two discs may overlap (speed 0); otherwise the person covered at least the gap between
    them. Two fixes at the same instant with separate discs give an infinite speed.
    """
    gap = haversine_m(lat1, lon1, lat2, lon2)
    gap -= (DEFAULT_ACCURACY_M if acc1 is None else acc1) + (
        DEFAULT_ACCURACY_M if acc2 is None else acc2
    )
    if gap <= 0:
        return 0.0
    seconds = abs((t2 - t1).total_seconds())
    return math.inf if seconds == 0 else gap / seconds


# A run of implausible fixes is trusted only when no plausible fix has come for this long: the
# anchor itself was the odd one out, or the device really moved while it could not report.
SETTLE_S = 600.0


def off_track(
    to_anchor_mps: float,
    to_suspect_mps: float | None,
    since_anchor_s: float,
    max_speed_mps: float = MAX_PLAUSIBLE_SPEED_MPS,
    settle_s: float = SETTLE_S,
) -> bool:
    """The plausibility rule, shared by the trail store and the engine.

    A fix is implausible when reaching it from the last plausible fix (the anchor) needs more
    than ``max_speed_mps``, or when it continues a suspect track (an implausible fix since the
    anchor) more easily than it continues the anchor's, until ``settle_s`` has passed without a
    plausible fix. Without the second part a forged position sent again and again becomes
    "reachable" once enough seconds have passed, and then displaces the wearer's real track.
    """
    if to_anchor_mps > max_speed_mps:
        return True
    return (
        to_suspect_mps is not None and to_suspect_mps < to_anchor_mps and since_anchor_s < settle_s
    )


def _speed(a: Fix, b: Fix) -> float:
    """Callers check both fixes have a position first."""
    assert a.lat is not None
    assert a.lon is not None
    assert b.lat is not None
    assert b.lon is not None
    return implied_speed_mps(
        a.lat, a.lon, a.accuracy_m, a.fix_time, b.lat, b.lon, b.accuracy_m, b.fix_time
    )


def is_implausible(
    previous: Fix | None,
    fix: Fix,
    max_speed_mps: float = MAX_PLAUSIBLE_SPEED_MPS,
    suspect: Fix | None = None,
    settle_s: float = SETTLE_S,
) -> bool:
    """Is ``fix`` off the track of ``previous`` (the last plausible fix), given the suspect
    track that began after it, if any?"""
    if previous is None or previous.lat is None or previous.lon is None:
        return False
    if fix.lat is None or fix.lon is None:
        return False
    to_suspect = None if suspect is None or suspect.lat is None else _speed(suspect, fix)
    since = (fix.fix_time - previous.fix_time).total_seconds()
    return off_track(_speed(previous, fix), to_suspect, since, max_speed_mps, settle_s)


def assess(
    fix: Fix,
    previous: Fix | None,
    max_speed_mps: float = MAX_PLAUSIBLE_SPEED_MPS,
    suspect: Fix | None = None,
) -> QualityFlags:
    """Flags for one fix, judged against the device's previous plausible fix (or none) and the
    suspect track since it (or none)."""
    bad_position = invalid_position(fix.lat, fix.lon)
    return QualityFlags(
        invalid_position=bad_position,
        implausible=(not bad_position) and is_implausible(previous, fix, max_speed_mps, suspect),
        approximate=fix.approximate,
    )


@dataclass
class QualityTracker:
    """Assesses a stream of fixes, remembering each device's last plausible fix.

    A fix is judged against the plausible fix nearest before it in time among those seen (so a
    late upload is compared with where the device was then, not with where it is now). Only a
    bounded history per device is kept.
    """

    max_speed_mps: float = MAX_PLAUSIBLE_SPEED_MPS
    history: int = 64
    _recent: dict[str, list[Fix]] = field(default_factory=dict)
    _suspect: dict[str, Fix] = field(default_factory=dict)  # latest implausible fix per device

    def assess(self, fix: Fix) -> QualityFlags:
        recent = self._recent.setdefault(fix.device_id, [])
        previous = None
        for candidate in reversed(recent):
            if candidate.fix_time <= fix.fix_time:
                previous = candidate
                break
        if previous is None and recent:
            previous = recent[0]
        suspect = self._suspect.get(fix.device_id)
        if suspect is not None and not (
            previous is not None and previous.fix_time < suspect.fix_time <= fix.fix_time
        ):
            suspect = None  # it began before the anchor, or after this (late) fix
        flags = assess(fix, previous, self.max_speed_mps, suspect)
        if flags.implausible:
            self._suspect[fix.device_id] = fix
        elif flags.usable and fix.valid:
            # Keep the history in fix-time order; late fixes are few, so insertion is cheap.
            index = len(recent)
            while index > 0 and recent[index - 1].fix_time > fix.fix_time:
                index -= 1
            recent.insert(index, fix)
            if len(recent) > self.history:
                del recent[0]
        return flags
