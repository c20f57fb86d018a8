"""Ground truth of the scripted incidents: when a wearer really was in the zone or near her."""

from __future__ import annotations

import numpy as np

from vigil.sim.model import PROXIMITY_M, ZONE_BUFFER_M, IncidentKind, Truth, utc_at
from vigil.sim.trajectory import Trajectory
from vigil.sim.wearers import Wearer


def zone_truth(
    wearer: Wearer, path: Trajectory, start: float, end: float, truth: list[Truth], late: bool
) -> None:
    """Record each entry into the zone and the first approach into its buffer."""
    cx, cy = wearer.zone_centre
    radius = wearer.zone_radius

    def in_zone(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.asarray(np.hypot(x - cx, y - cy) < radius)

    def in_buffer(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.asarray(np.hypot(x - cx, y - cy) < radius + ZONE_BUFFER_M)

    for entered, left in path.crossings(start, end, in_zone):
        at = np.arange(entered, left, 1.0)
        x, y = path.positions(at)
        depth = float(np.max(radius - np.hypot(x - cx, y - cy))) if at.size else 0.0
        detail = {"dwell_s": round(left - entered), "max_depth_m": round(depth, 1)}
        truth.append(
            Truth(
                wearer.person,
                "Z1",
                "exclusion_zone",
                utc_at(entered),
                utc_at(left),
                IncidentKind.EXCLUSION_ENTRY.value,
                {**detail, "late_upload": late},
            )
        )
    approaches = path.crossings(start, end, in_buffer)
    if approaches:
        warned = utc_at(approaches[0][0])
        incident = IncidentKind.EXCLUSION_ENTRY.value
        truth.append(Truth(wearer.person, "Z1", "approach_warning", warned, None, incident))


def proximity_truth(
    wearer: Wearer,
    path: Trajectory,
    victim: Trajectory,
    start: float,
    end: float,
    truth: list[Truth],
) -> tuple[float, float] | None:
    """Record when the wearer came within reach of the protected person; return that span."""
    at = np.arange(start, end, 1.0)
    wx, wy = path.positions(at)
    vx, vy = victim.positions(at)
    close = np.hypot(wx - vx, wy - vy) < PROXIMITY_M
    edges = np.flatnonzero(np.diff(close.astype(np.int8)))
    if not close.any():
        return None
    first = int(np.argmax(close))
    after = [int(e) + 1 for e in edges if int(e) + 1 > first and not close[int(e) + 1]]
    last = after[0] if after else len(at) - 1
    met, parted = float(at[first]), float(at[last])
    detail = {"distance_m": PROXIMITY_M}
    incident = IncidentKind.PROXIMITY.value
    truth.append(
        Truth(wearer.person, "X1", "proximity", utc_at(met), utc_at(parted), incident, detail)
    )
    return met, parted


# ---------------------------------------------------------------------------------------------
# GPS
