"""Every zone condition of a plan, grouped by person, with each zone machine's state in columns.

The exclusion and inclusion machines, the zone timers and the vectorised pass all read and write
these columns; a checkpoint copies them whole. Keeping them in arrays (not one object per zone)
is what lets the pass classify every (fix, zone) pair at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape as shapely_shape
from shapely.ops import polylabel

from vigil.engine.batch import INF, json_number
from vigil.engine.model import FixClass, PersonPlan, ZoneCondition, ZoneKind
from vigil.engine.timetable import Timetable
from vigil.geo.kernels import ZoneShape, compile_zones

# Exclusion machine states.
IDLE, PENDING, VIOLATION = 0, 1, 2
# Inclusion presence.
UNKNOWN, PRESENT, ABSENT = 0, 1, 2

# Quiet states: which classes leave a machine exactly as it is (see ZoneTable.qstate).
Q_IDLE_ARMED, Q_IDLE_NO_BUFFER, Q_IDLE_DISARMED, Q_PENDING = 0, 1, 2, 3
Q_VIOLATION, Q_EXITING, Q_INACTIVE = 4, 5, 6
Q_PRESENT, Q_PRESENT_LEAVING, Q_ABSENT, Q_UNKNOWN = 7, 8, 9, 10
F = FixClass
# Plain ints for the per-step Python (enum attribute look-ups cost more than the rule itself).
C_FAR, C_EDGE, C_BUFFER, C_UNSURE_OUT, C_LIKELY_IN, C_IN, C_NEUTRAL = (int(c) for c in FixClass)
_QUIET_CLASSES: dict[int, set[int]] = {
    Q_IDLE_ARMED: {F.FAR, F.EDGE, F.NEUTRAL},
    Q_IDLE_NO_BUFFER: {F.FAR, F.EDGE, F.BUFFER, F.UNSURE_OUT, F.NEUTRAL},
    Q_IDLE_DISARMED: {F.EDGE, F.BUFFER, F.UNSURE_OUT, F.NEUTRAL},
    Q_PENDING: {F.NEUTRAL},
    Q_VIOLATION: {F.IN, F.LIKELY_IN, F.UNSURE_OUT, F.NEUTRAL},
    Q_EXITING: {F.UNSURE_OUT, F.NEUTRAL},
    Q_INACTIVE: set(F),
    Q_PRESENT: {F.IN, F.LIKELY_IN, F.UNSURE_OUT, F.NEUTRAL},
    Q_PRESENT_LEAVING: {F.UNSURE_OUT, F.NEUTRAL},
    Q_ABSENT: {F.FAR, F.EDGE, F.BUFFER, F.UNSURE_OUT, F.NEUTRAL},
    Q_UNKNOWN: {F.NEUTRAL},
}
# Per quiet state, a bit mask of its quiet classes (bit c set: class c changes nothing).
QUIET_MASK = np.zeros(11, dtype=np.int8)
for _state, _classes in _QUIET_CLASSES.items():
    QUIET_MASK[_state] = sum(1 << int(_cls) for _cls in _classes)

# Per-zone state columns and their dtypes; snapshots copy exactly these.
ZONE_STATE: dict[str, tuple[Any, float]] = {
    "st": (np.int8, 0),
    "armed": (np.bool_, 1),
    "active": (np.bool_, 1),
    "n_pts": (np.int32, 0),
    "n_out": (np.int32, 0),
    "evid": (np.float64, 0.0),
    # The strongest single fix's share of ``evid``: confirmation needs the rest to corroborate it.
    "ev_max": (np.float64, 0.0),
    "t_first": (np.float64, np.nan),
    "t_entry": (np.float64, np.nan),
    "t_ev": (np.float64, np.nan),
    "t_leave": (np.float64, np.nan),
    "t_exit": (np.float64, np.nan),
    "ep": (np.int64, -1),
    "warn_ep": (np.int64, -1),
    "t_last": (np.float64, np.nan),
    "d_last": (np.float64, np.nan),
    "c_last": (np.int8, int(F.NEUTRAL)),
    "deadline": (np.float64, INF),
    "dkind": (np.int8, 0),
    "w_start": (np.float64, np.nan),
    "w_end": (np.float64, np.nan),
    "qs": (np.int8, Q_IDLE_ARMED),
}
EPISODE_COLUMNS = ("ep", "warn_ep")
EVIDENCE = 4  # the fixes a zone episode cites, newest last


def zone_depth_m(zone: ZoneShape) -> float:
    """How deep a point can be inside a zone: a circle's radius, a polygon's inradius (the
    distance from its pole of inaccessibility to the boundary, in a local metric plane)."""
    if zone.geometry.get("type") == "Point":
        return float(zone.radius_m or 0.0)
    geometry = shapely_shape(zone.geometry)
    centre = geometry.centroid
    kx = 111_320.0 * math.cos(math.radians(centre.y))
    origin = np.array([centre.x, centre.y])
    scale = np.array([kx, 111_250.0])
    local = shapely.transform(geometry, lambda xy: (xy - origin) * scale)
    parts = getattr(local, "geoms", [local])
    return max(float(polylabel(part, 1.0).distance(part.boundary)) for part in parts)


def interpolate_crossing(t0: float, d0: float, t1: float, d1: float) -> float:
    """When the straight track between two fixes crossed the zone's edge (d = 0)."""
    if not np.isfinite(t0) or not np.isfinite(d0):
        return t1
    if d0 >= 0 > d1 or d0 < 0 <= d1:
        return t0 + (t1 - t0) * (d0 / (d0 - d1))
    return t0 if (d0 >= 0 and d1 >= 0) else t1


class ZoneTable:
    """Zone conditions laid out so each person's zones are contiguous (``zstart``, ``zcount``)."""

    def __init__(self, persons: Sequence[PersonPlan]) -> None:
        zones: list[ZoneCondition] = []
        self.zstart = np.zeros(len(persons), dtype=np.int64)
        self.zcount = np.zeros(len(persons), dtype=np.int64)
        for p_index, person in enumerate(persons):
            self.zstart[p_index] = len(zones)
            self.zcount[p_index] = len(person.zones)
            zones.extend(person.zones)
        self.zones = zones
        self.compiled = compile_zones([zone.shape for zone in zones])
        self.z_person = np.repeat(np.arange(len(persons), dtype=np.int64), self.zcount)
        self.z_kind = np.array([int(zone.kind) for zone in zones], dtype=np.int8)
        self.z_buffer = np.array([zone.buffer_m for zone in zones], dtype=np.float64)
        self.z_depth = np.array([zone_depth_m(zone.shape) for zone in zones], dtype=np.float64)
        self.z_timetable: list[Timetable | None] = [zone.timetable for zone in zones]
        self.zs: dict[str, npt.NDArray[Any]] = {
            name: np.full(len(zones), default, dtype=dtype)
            for name, (dtype, default) in ZONE_STATE.items()
        }
        self.evidence = np.full((len(zones), EVIDENCE), -1, dtype=np.int64)
        # The earliest timer of each person's zones: fixes before it need no timer check.
        self.person_deadline = np.full(len(persons), INF)
        # Every machine starts idle and armed; without a buffer no warning is possible.
        self.zs["qs"][:] = np.where(self.z_buffer > 0, Q_IDLE_ARMED, Q_IDLE_NO_BUFFER)
        self.qmask = QUIET_MASK[self.zs["qs"]]

    def __len__(self) -> int:
        return len(self.zones)

    def span(self, person: int) -> range:
        begin = int(self.zstart[person])
        return range(begin, begin + int(self.zcount[person]))

    def grace_s(self, z: int) -> float:
        """How long into a window an inclusion zone waits before checking (exclusion: none)."""
        return self.zones[z].grace_s if self.z_kind[z] == ZoneKind.INCLUSION else 0.0

    def set_q(self, z: int) -> None:
        q = self.qstate(z)
        self.zs["qs"][z] = q
        self.qmask[z] = QUIET_MASK[q]

    def qstate(self, z: int) -> int:
        zs = self.zs
        state = int(zs["st"][z])
        if self.z_kind[z] == ZoneKind.EXCLUSION:
            if not zs["active"][z]:
                return Q_INACTIVE
            if state == PENDING:
                return Q_PENDING
            if state == VIOLATION:
                return Q_EXITING if zs["n_out"][z] > 0 else Q_VIOLATION
            if self.z_buffer[z] <= 0:
                return Q_IDLE_NO_BUFFER
            return Q_IDLE_ARMED if zs["armed"][z] else Q_IDLE_DISARMED
        if state == PRESENT:
            return Q_PRESENT_LEAVING if zs["n_out"][z] > 0 else Q_PRESENT
        if state == ABSENT:
            # Absent and inside an active window with no violation open must raise one: not quiet.
            if zs["active"][z] and zs["ep"][z] < 0:
                return Q_UNKNOWN
            return Q_ABSENT
        return Q_UNKNOWN

    def refresh_person(self, person: int) -> None:
        """Re-derive the per-person lookups after a person's rows changed wholesale."""
        begin = int(self.zstart[person])
        end = begin + int(self.zcount[person])
        if end > begin:
            self.qmask[begin:end] = QUIET_MASK[self.zs["qs"][begin:end]]
            self.person_deadline[person] = float(self.zs["deadline"][begin:end].min())

    def push_evidence(self, z: int, fid: int, reset: bool = False) -> None:
        row = self.evidence[z]
        if reset:
            row[:] = -1
        row[:-1] = row[1:]
        row[-1] = fid

    def evidence_of(self, z: int) -> list[int]:
        return [int(v) for v in self.evidence[z] if v >= 0]

    def next_due(self, person: int) -> float | None:
        span = self.span(person)
        deadlines = self.zs["deadline"][span.start : span.stop]
        due = float(deadlines.min()) if deadlines.size else INF
        return due if np.isfinite(due) else None

    def near_exclusion(self, person: int, within_m: float) -> bool:
        """Whether the person's last fix was within ``within_m`` (or the buffer) of a zone."""
        zs = self.zs
        return any(
            float(zs["d_last"][z]) <= max(within_m, self.z_buffer[z])
            for z in self.span(person)
            if self.z_kind[z] == ZoneKind.EXCLUSION and np.isfinite(zs["d_last"][z])
        )

    def person_state_json(self, person: int, ref: Callable[[int], str | None]) -> dict[str, Any]:
        """The person's zone machines as JSON-ready rows keyed by condition id."""
        rows: dict[str, Any] = {}
        for z in self.span(person):
            row: dict[str, Any] = {
                name: ref(int(self.zs[name][z]))
                if name in EPISODE_COLUMNS
                else json_number(self.zs[name][z])
                for name in ZONE_STATE
            }
            row["evidence"] = self.evidence_of(z)
            rows[self.zones[z].id] = row
        return rows

    def import_person(self, person: int, rows: dict[str, Any], index: Callable[[Any], int]) -> None:
        by_id = {self.zones[z].id: z for z in self.span(person)}
        for condition_id, row in rows.items():
            z = by_id.get(condition_id)
            if z is None:
                continue  # the condition has ended since
            for name, (_dtype, default) in ZONE_STATE.items():
                value = row.get(name)
                if name in EPISODE_COLUMNS:
                    self.zs[name][z] = index(value)
                else:
                    self.zs[name][z] = default if value is None else value
            evidence = [int(v) for v in row.get("evidence", [])][-EVIDENCE:]
            self.evidence[z] = -1
            if evidence:
                self.evidence[z, EVIDENCE - len(evidence) :] = evidence
            self.set_q(z)
