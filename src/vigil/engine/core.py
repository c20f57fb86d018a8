"""The evaluation core: compiled conditions, the vectorised pass, state machines, timers, rewind.

One call to :meth:`Engine.process` takes a micro-batch of fixes (any order) and:

1. updates device health (communication, alarms, battery, GPS, alcohol) — Python only for the
   few rows that carry something (an alarm, a low battery, a gap, no position);
2. checks proximity conditions against a fresh position of the other device;
3. for zone conditions, sorts fixes by (person, fix time), pairs every fix with its person's
   zones, computes signed distances for all pairs at once (:mod:`vigil.geo.kernels`), classifies
   each pair by the accuracy disc (:class:`FixClass`), and steps the per-(person, zone) state
   machines in Python only from the first pair whose class matters in the machine's current state
   (a lookup table of "quiet" classes per state). Almost every fix changes nothing;
4. fires timers (curfew windows, no-communication deadlines) up to the engine's clock.

A fix older than what its person's machines have already seen is *late*: the person is rewound to
the newest checkpoint before it and their fixes since are evaluated again, in fix-time order. The
ledger (:mod:`vigil.engine.ledger`) recognises episodes already raised, so nothing is duplicated,
and what the late data reveals is raised as retrospective.

Times are float seconds since the epoch, UTC.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape as shapely_shape
from shapely.ops import polylabel

from vigil.engine.events import EventKind
from vigil.engine.ledger import Ledger
from vigil.engine.model import (
    EngineSettings,
    FixClass,
    Plan,
    ProximityCondition,
    ZoneCondition,
    ZoneKind,
)
from vigil.engine.timetable import Timetable
from vigil.geo.kernels import ZoneShape, compile_zones, signed_distance
from vigil.geo.projection import step_metres
from vigil.tracking.quality import off_track

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

INF = float("inf")
_SQRT2 = math.sqrt(2.0)
ALARM_KINDS = {
    "strap_removed": EventKind.STRAP_REMOVED,
    "tamper": EventKind.TAMPER,
    "sos": EventKind.SOS,
}

# Exclusion machine states.
IDLE, PENDING, VIOLATION = 0, 1, 2
# Inclusion presence.
UNKNOWN, PRESENT, ABSENT = 0, 1, 2
# Timer kinds.
CHECK, END = 1, 2

# Quiet states: which classes leave a machine exactly as it is (see _qstate).
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


def group_order(keys: IntArray) -> IntArray:
    """A stable argsort of small non-negative integers, by 16-bit radix passes (numpy's stable
    sort is a radix sort for 16-bit keys, several times faster than for wider ones)."""
    if keys.size == 0 or int(keys.max()) < 1 << 16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    low = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    high = np.argsort((keys[low] >> 16).astype(np.uint16), kind="stable")
    return low[high]


def interpolate_crossing(t0: float, d0: float, t1: float, d1: float) -> float:
    """When the straight track between two fixes crossed the zone's edge (d = 0)."""
    if not np.isfinite(t0) or not np.isfinite(d0):
        return t1
    if d0 >= 0 > d1 or d0 < 0 <= d1:
        return t0 + (t1 - t0) * (d0 / (d0 - d1))
    return t0 if (d0 >= 0 and d1 >= 0) else t1


@dataclass
class FixBatch:
    """Columns of a micro-batch of fixes, in arrival order.

    ``lon``/``lat`` NaN means no position; ``acc`` NaN means unknown accuracy. ``arrival`` is the
    engine's clock when each row arrived; None means "the latest fix time seen so far".
    """

    device_codes: IntArray
    device_names: list[str]
    t: FloatArray
    lon: FloatArray
    lat: FloatArray
    acc: FloatArray
    fix_id: IntArray
    arrival: FloatArray | None = None
    battery: FloatArray | None = None
    alarms: list[str] | None = None  # per row, ";"-separated, "" for none
    has_alarm: BoolArray | None = None
    approximate: BoolArray | None = None
    valid: BoolArray | None = None
    alcohol: FloatArray | None = None

    def __len__(self) -> int:
        return int(self.t.shape[0])


# Per-zone state columns and their dtypes; snapshots copy exactly these.
_ZONE_STATE: dict[str, tuple[Any, float]] = {
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
_PERSON_STATE: dict[str, tuple[Any, float]] = {
    "p_time": (np.float64, -INF),
    "since": (np.float64, -INF),  # when watching this person began (kept across restarts)
    "pl_t": (np.float64, np.nan),
    "pl_lon": (np.float64, np.nan),
    "pl_lat": (np.float64, np.nan),
    "pl_acc": (np.float64, np.nan),
    # The latest implausible fix after the last plausible one: the start of a track that may be
    # forged or multipath (see _implausible); NaN when there is none.
    "su_t": (np.float64, np.nan),
    "su_lon": (np.float64, np.nan),
    "su_lat": (np.float64, np.nan),
    "su_acc": (np.float64, np.nan),
}
EVIDENCE = 4


_TrackPoint = tuple[float, float, float, float]  # time, lon, lat, accuracy


def _track_point(ps: dict[str, npt.NDArray[Any]], prefix: str, person: int) -> _TrackPoint:
    t, lon, lat, acc = (float(ps[f"{prefix}_{k}"][person]) for k in ("t", "lon", "lat", "acc"))
    return t, lon, lat, acc


@dataclass
class _Snapshot:
    clock: float
    zones: dict[str, npt.NDArray[Any]]
    evidence: IntArray
    persons: dict[str, npt.NDArray[Any]]
    valid: BoolArray


@dataclass
class _History:
    clock: float
    rows: dict[str, npt.NDArray[Any]]  # sorted by (person, time)


@dataclass
class _DeviceState:
    person: int
    nocomm_ep: int = -1
    nogps_ep: int = -1
    battery_ep: int = -1
    alarm_eps: dict[str, int] = field(default_factory=dict)
    alcohol_run: dict[str, float] = field(default_factory=dict)
    alcohol_eps: dict[str, int] = field(default_factory=dict)

    @property
    def busy(self) -> bool:
        return (
            self.nocomm_ep >= 0
            or self.nogps_ep >= 0
            or self.battery_ep >= 0
            or bool(self.alarm_eps)
            or bool(self.alcohol_run)
        )


@dataclass
class EngineStats:
    fixes: int = 0
    unknown_devices: int = 0
    late_fixes: int = 0
    rewinds: int = 0
    too_late: int = 0
    stepped_pairs: int = 0


class Engine:
    """Watches every person of a plan. Feed it batches; read episodes and events from its ledger."""

    def __init__(self, plan: Plan, start: float | None = None) -> None:
        self.plan = plan
        self.settings: EngineSettings = plan.settings
        self.ledger = Ledger(self.settings.late_after_s, self.settings.max_gap_s)
        self.stats = EngineStats()
        # The stepped zone's signed distance at the person's previous fix (set per step).
        self._pd = float("nan")
        self.clock = -INF
        self.started = False
        self.persons = [person.id for person in plan.persons]
        self.person_index = {pid: index for index, pid in enumerate(self.persons)}
        self.device_index: dict[str, int] = {}
        self.device_names: list[str] = []
        self.device_person: list[int] = []
        for p_index, person in enumerate(plan.persons):
            for device in person.devices:
                self._add_device(device, p_index)
        # Zone conditions, grouped by person so each person's zones are contiguous.
        zones: list[ZoneCondition] = []
        zstart = np.zeros(len(self.persons), dtype=np.int64)
        zcount = np.zeros(len(self.persons), dtype=np.int64)
        for p_index, person in enumerate(plan.persons):
            zstart[p_index] = len(zones)
            zcount[p_index] = len(person.zones)
            zones.extend(person.zones)
        self.zones = zones
        self.zstart = zstart
        self.zcount = zcount
        self.compiled = compile_zones([zone.shape for zone in zones])
        self.z_person = np.repeat(np.arange(len(self.persons), dtype=np.int64), zcount)
        self.z_kind = np.array([int(zone.kind) for zone in zones], dtype=np.int8)
        self.z_buffer = np.array([zone.buffer_m for zone in zones], dtype=np.float64)
        self.z_depth = np.array([zone_depth_m(zone.shape) for zone in zones], dtype=np.float64)
        self.z_timetable: list[Timetable | None] = [zone.timetable for zone in zones]
        nz = len(zones)
        self.zs: dict[str, npt.NDArray[Any]] = {
            name: np.full(nz, default, dtype=dtype)
            for name, (dtype, default) in _ZONE_STATE.items()
        }
        self.evidence = np.full((nz, EVIDENCE), -1, dtype=np.int64)
        self.ps: dict[str, npt.NDArray[Any]] = {
            name: np.full(len(self.persons), default, dtype=dtype)
            for name, (dtype, default) in _PERSON_STATE.items()
        }
        self.qmask = np.zeros(nz, dtype=np.int8)
        # Adaptive reporting: persons whose tags were last asked to report faster.
        self.fast_wanted = np.zeros(len(self.persons), dtype=bool)
        self.fast_until = np.full(len(self.persons), -INF)
        self.person_deadline = np.full(len(self.persons), INF)
        # Every machine starts idle and armed; without a buffer no warning is possible.
        self.zs["qs"][:] = np.where(self.z_buffer > 0, Q_IDLE_ARMED, Q_IDLE_NO_BUFFER)
        self.qmask[:] = QUIET_MASK[self.zs["qs"]]
        # Proximity: conditions by wearer and by protected person's device.
        self.prox: list[ProximityCondition] = []
        self.prox_by_person: dict[int, list[int]] = {}
        self.prox_by_device: dict[str, list[int]] = {}
        for p_index, person in enumerate(plan.persons):
            for condition in person.proximity:
                self.prox_by_person.setdefault(p_index, []).append(len(self.prox))
                self.prox_by_device.setdefault(condition.device, []).append(len(self.prox))
                self.prox.append(condition)
                self._add_device(condition.device, -1)
        self.prox_ep = [-1] * len(self.prox)
        self.prox_last = [-INF] * len(self.prox)  # latest observation time per condition
        self.victim_track: dict[str, list[Position]] = {}
        self.wearer_track: dict[int, list[Position]] = {}
        self.alcohol = {
            p_index: list(person.alcohol)
            for p_index, person in enumerate(plan.persons)
            if person.alcohol
        }
        self.devices: list[_DeviceState] = []
        # Person of each device index, with -1 for the "unknown device" slot at the end.
        self.device_person_array = np.append(np.asarray(self.device_person, dtype=np.int64), -1)
        self._lookup_cache: tuple[list[str], int, IntArray] | None = None
        # Persons and devices whose machines moved since the state was last stored.
        self.dirty_persons: set[int] = set()
        self.dirty_devices: set[int] = set()
        self.snapshots: list[_Snapshot] = []
        self.history: list[_History] = []
        # Fixes that arrived up to this clock are no longer in the history.
        self.history_pruned_clock = -INF
        if start is not None:
            self.start(start)

    # ------------------------------------------------------------------ set-up

    def _add_device(self, name: str, person: int) -> None:
        if name not in self.device_index:
            self.device_index[name] = len(self.device_names)
            self.device_names.append(name)
            self.device_person.append(person)

    def start(self, at: float) -> None:
        """Begin watching at ``at``: arm timetables and communication deadlines from there."""
        if self.started:
            return
        self.started = True
        self.clock = max(self.clock, at)
        self.devices = [_DeviceState(person) for person in self.device_person]
        count = len(self.devices)
        # Hot per-device columns live in arrays (one spare slot for unknown devices).
        self.comm = np.full(count + 1, at)  # latest communication (engine clock)
        self.gps = np.full(count + 1, at)  # latest good position (fix time)
        self.busy = np.zeros(count + 1, dtype=bool)  # an episode open or a run in progress
        self.wearer_device = np.append(np.asarray(self.device_person, dtype=np.int64) >= 0, False)
        self.ps["since"][:] = at
        for z, timetable in enumerate(self.z_timetable):
            if timetable is None:
                continue
            grace = self.zones[z].grace_s if self.z_kind[z] == ZoneKind.INCLUSION else 0.0
            window = timetable.window_at(at)
            self.zs["active"][z] = False
            if window is not None:
                self._set_timer(
                    z, CHECK, max(window.start + grace, at + grace), window.start, window.end
                )
            else:
                self._schedule_next(z, at)
            self._set_q(z)
        self._take_snapshot(force=True)

    def _set_timer(self, z: int, kind: int, at: float, w_start: float, w_end: float) -> None:
        self.zs["deadline"][z] = at
        self.zs["dkind"][z] = kind
        self.zs["w_start"][z] = w_start
        self.zs["w_end"][z] = w_end
        self._refresh_person(int(self.z_person[z]))

    def _set_q(self, z: int) -> None:
        q = self._qstate(z)
        self.zs["qs"][z] = q
        self.qmask[z] = QUIET_MASK[q]

    def _refresh_person(self, person: int) -> None:
        """Re-derive the per-person lookups after a person's rows changed wholesale."""
        begin = int(self.zstart[person])
        end = begin + int(self.zcount[person])
        if end > begin:
            self.qmask[begin:end] = QUIET_MASK[self.zs["qs"][begin:end]]
            self.person_deadline[person] = float(self.zs["deadline"][begin:end].min())

    def _schedule_next(self, z: int, after: float) -> None:
        timetable = self.z_timetable[z]
        assert timetable is not None
        window = timetable.next_window(after)
        if window is None:
            self._set_timer(z, 0, INF, np.nan, np.nan)
            return
        grace = self.zones[z].grace_s if self.z_kind[z] == ZoneKind.INCLUSION else 0.0
        self._set_timer(z, CHECK, window.start + grace, window.start, window.end)

    def _qstate(self, z: int) -> int:
        zs = self.zs
        if self.z_kind[z] == ZoneKind.EXCLUSION:
            if not zs["active"][z]:
                return Q_INACTIVE
            state = int(zs["st"][z])
            if state == PENDING:
                return Q_PENDING
            if state == VIOLATION:
                return Q_EXITING if zs["n_out"][z] > 0 else Q_VIOLATION
            if self.z_buffer[z] <= 0:
                return Q_IDLE_NO_BUFFER
            return Q_IDLE_ARMED if zs["armed"][z] else Q_IDLE_DISARMED
        state = int(zs["st"][z])
        if state == PRESENT:
            return Q_PRESENT_LEAVING if zs["n_out"][z] > 0 else Q_PRESENT
        if state == ABSENT:
            # Absent and inside an active window with no violation open must raise one: not quiet.
            if zs["active"][z] and zs["ep"][z] < 0:
                return Q_UNKNOWN
            return Q_ABSENT
        return Q_UNKNOWN

    # ------------------------------------------------------------------ entry point

    def process(self, batch: FixBatch) -> None:
        """Evaluate one micro-batch (rows in arrival order)."""
        n = len(batch)
        if n == 0:
            return
        arrival = batch.arrival
        if arrival is None:
            seed = self.clock if np.isfinite(self.clock) else batch.t[0]
            arrival = np.maximum.accumulate(np.concatenate(([seed], batch.t)))[1:]
        if not self.started:
            self.start(float(arrival[0]))
        self.stats.fixes += n
        dev = self._lookup(batch.device_names)[batch.device_codes]
        known = dev >= 0
        self.stats.unknown_devices += int(n - np.count_nonzero(known))
        person = self.device_person_array[dev]
        has_pos = np.isfinite(batch.lon) & np.isfinite(batch.lat)
        acc = np.where(
            np.isfinite(batch.acc) & (batch.acc > 0), batch.acc, self.settings.default_accuracy_m
        )
        bad = ~has_pos | (np.abs(batch.lat) > 90) | (np.abs(batch.lon) > 180)
        bad |= (batch.lat == 0) & (batch.lon == 0)
        bad |= acc > self.settings.max_accuracy_m
        if batch.approximate is not None:
            bad |= batch.approximate
        if batch.valid is not None:
            bad |= ~batch.valid
        self.clock = max(self.clock, float(arrival.max()))

        zoned = (person >= 0) & has_pos
        if self.zs["st"].size:
            zoned &= self.zcount[np.maximum(person, 0)] > 0
        else:
            zoned[:] = False
        rows = np.flatnonzero(zoned)
        if rows.size:
            # Sorted by (person, fix time): a stable sort by person keeps arrival order, which is
            # time order unless something arrived out of order (then sort by time as well).
            rp = person[rows]
            rt = batch.t[rows]
            order = group_order(rp)
            sp = rp[order]
            st = rt[order]
            if np.any((sp[1:] == sp[:-1]) & (st[1:] < st[:-1])):
                order = np.lexsort((rt, rp))
            rows = rows[order]
            columns: dict[str, npt.NDArray[Any]] = {
                "p": person[rows],
                "t": batch.t[rows],
                "lon": batch.lon[rows],
                "lat": batch.lat[rows],
                "acc": acc[rows],
                "bad": bad[rows],
                "arrival": arrival[rows],
                "fid": batch.fix_id[rows],
            }
            self._zones(columns)
        # After the zones, so "no GPS near an exclusion zone" knows the last distances.
        self._device_health(batch, dev, person, arrival, bad)
        if self.prox:
            self._proximity(batch, dev, person, arrival, acc, bad)
        self._fire_timers(self.clock)
        self._device_timers(self.clock)
        self._take_snapshot()

    def _lookup(self, names: list[str]) -> IntArray:
        """Batch device codes to engine device indices (cached: callers reuse one name list)."""
        cached = self._lookup_cache
        if cached is not None and cached[0] is names and cached[1] == len(names):
            return cached[2]
        lookup = np.array(
            [self.device_index.get(name, -1) for name in names] + [-1], dtype=np.int64
        )
        self._lookup_cache = (names, len(names), lookup)
        return lookup

    def advance(self, now: float) -> None:
        """Move the clock with no fixes (live timer tick, or the end of a replay)."""
        if not self.started:
            self.start(now)
        self.clock = max(self.clock, now)
        self._fire_timers(self.clock)
        self._device_timers(self.clock)
        self._take_snapshot()

    def reporting_changes(self) -> list[tuple[str, bool]]:
        """Tags whose wanted reporting rate changed since the last call: (device, fast).

        A wearer's tag should report faster while any active exclusion zone of theirs has a
        visit pending (one fix inside, waiting for corroboration) or a violation open, or while
        their last fix was inside the zone's buffer (or within ``fast_report_within_m``): that
        is how a real entry is confirmed by two or more fixes within a minute without letting
        one fix decide. The caller turns these into device commands (see docs/engine.md).
        """
        if not self.zones:
            return []
        zs = self.zs
        near = np.maximum(self.z_buffer, self.settings.fast_report_within_m)
        with np.errstate(invalid="ignore"):
            want_zone = (
                (self.z_kind == ZoneKind.EXCLUSION)
                & zs["active"]
                & ((zs["st"] != IDLE) | (zs["d_last"] <= near))
            )
        want = np.bincount(self.z_person, weights=want_zone, minlength=len(self.persons)) > 0
        # Hold the faster rate for a while: a wearer living at a buffer's edge would otherwise
        # have his tag switched back and forth each time noise carries a fix across it.
        self.fast_until[want] = self.clock + self.settings.fast_report_hold_s
        want |= self.fast_wanted & (self.clock < self.fast_until)
        changed = np.flatnonzero(want != self.fast_wanted)
        self.fast_wanted[changed] = want[changed]
        return [
            (device, bool(want[person]))
            for person in changed.tolist()
            for device in self.plan.persons[person].devices
        ]

    # ------------------------------------------------------------------ stored state

    def _episode_ref(self, index: int) -> str | None:
        return self.ledger.episodes[index].id if index >= 0 else None

    def _episode_index(self, ref: Any) -> int:
        return self.ledger.index_of(ref) if isinstance(ref, str) else -1

    def export_person(self, person: int) -> dict[str, Any]:
        """A person's machines as JSON-ready data, keyed by condition id (survives plan changes)."""
        zones: dict[str, Any] = {}
        begin = int(self.zstart[person])
        for z in range(begin, begin + int(self.zcount[person])):
            row: dict[str, Any] = {}
            for name in _ZONE_STATE:
                value = self.zs[name][z]
                row[name] = (
                    self._episode_ref(int(value))
                    if name in ("ep", "warn_ep")
                    else _json_number(value)
                )
            row["evidence"] = self._evidence(z)
            zones[self.zones[z].id] = row
        proximity = {
            self.prox[c].id: self._episode_ref(self.prox_ep[c])
            for c in self.prox_by_person.get(person, ())
        }
        return {
            "person": {name: _json_number(self.ps[name][person]) for name in _PERSON_STATE},
            "zones": zones,
            "proximity": proximity,
        }

    def import_person(self, person: int, data: dict[str, Any]) -> None:
        begin = int(self.zstart[person])
        by_id = {self.zones[z].id: z for z in range(begin, begin + int(self.zcount[person]))}
        for condition_id, row in data.get("zones", {}).items():
            z = by_id.get(condition_id)
            if z is None:
                continue  # the condition has ended since
            for name, (_dtype, default) in _ZONE_STATE.items():
                value = row.get(name)
                if name in ("ep", "warn_ep"):
                    self.zs[name][z] = self._episode_index(value)
                else:
                    self.zs[name][z] = default if value is None else value
            evidence = [int(v) for v in row.get("evidence", [])][-EVIDENCE:]
            self.evidence[z] = -1
            if evidence:
                self.evidence[z, EVIDENCE - len(evidence) :] = evidence
            self._set_q(z)
        for name, (_dtype, default) in _PERSON_STATE.items():
            value = data.get("person", {}).get(name)
            self.ps[name][person] = default if value is None else value
        for c in self.prox_by_person.get(person, ()):
            self.prox_ep[c] = self._episode_index(data.get("proximity", {}).get(self.prox[c].id))
        self._refresh_person(person)

    def export_device(self, index: int) -> dict[str, Any]:
        device = self.devices[index]
        return {
            "last_comm": float(self.comm[index]),
            "last_gps": float(self.gps[index]),
            "nocomm": self._episode_ref(device.nocomm_ep),
            "nogps": self._episode_ref(device.nogps_ep),
            "battery": self._episode_ref(device.battery_ep),
            "alarms": {k: self._episode_ref(v) for k, v in device.alarm_eps.items()},
            "alcohol_run": dict(device.alcohol_run),
            "alcohol": {k: self._episode_ref(v) for k, v in device.alcohol_eps.items()},
        }

    def import_device(self, index: int, data: dict[str, Any]) -> None:
        device = self.devices[index]
        self.comm[index] = float(data.get("last_comm", self.comm[index]))
        self.gps[index] = float(data.get("last_gps", self.gps[index]))
        device.nocomm_ep = self._episode_index(data.get("nocomm"))
        device.nogps_ep = self._episode_index(data.get("nogps"))
        device.battery_ep = self._episode_index(data.get("battery"))
        device.alarm_eps = {
            k: i for k, v in data.get("alarms", {}).items() if (i := self._episode_index(v)) >= 0
        }
        device.alcohol_run = {k: float(v) for k, v in data.get("alcohol_run", {}).items()}
        device.alcohol_eps = {
            k: i for k, v in data.get("alcohol", {}).items() if (i := self._episode_index(v)) >= 0
        }
        self.busy[index] = device.busy

    def next_due(self, person: int) -> float | None:
        begin = int(self.zstart[person])
        deadlines = self.zs["deadline"][begin : begin + int(self.zcount[person])]
        due = float(deadlines.min()) if deadlines.size else INF
        return due if np.isfinite(due) else None

    def device_due(self, index: int) -> float | None:
        device = self.devices[index]
        if device.person < 0 or device.nocomm_ep >= 0:
            return None
        return float(self.comm[index]) + self.settings.no_communication_s

    def after_restore(self) -> None:
        """Stored state replaces what start-up assumed; checkpoints start again from here."""
        self.snapshots.clear()
        self._take_snapshot(force=True)

    # ------------------------------------------------------------------ zones

    def _zones(self, rows: dict[str, npt.NDArray[Any]]) -> None:
        p = rows["p"]
        late = rows["t"] < self.ps["p_time"][p]
        rewound = np.zeros(len(self.persons), dtype=bool)
        # What a rewound person's earlier fixes raise now is raised when their late fix arrived.
        floor = np.full(len(self.persons), -INF)
        if late.any():
            self.stats.late_fixes += int(np.count_nonzero(late))
            arrived = np.full(len(self.persons), INF)
            np.minimum.at(arrived, p, rows["arrival"])
            extra = []
            kept = np.ones(p.shape[0], dtype=bool)
            for person in np.unique(p[late]).tolist():
                mine = p == person
                history = self._rewind(person, float(rows["t"][mine].min()))
                if history is None:
                    # Older than every checkpoint: kept as evidence, it cannot move state.
                    self.stats.too_late += int(np.count_nonzero(mine & late))
                    kept &= ~(mine & late)
                    continue
                rewound[person] = True
                floor[person] = arrived[person]
                history["arrival"] = np.maximum(history["arrival"], arrived[person])
                extra.append(history)
            rows = {
                key: np.concatenate([rows[key][kept], *[h[key] for h in extra]]) for key in rows
            }
            order = np.lexsort((rows["t"], rows["p"]))
            rows = {key: value[order] for key, value in rows.items()}
        self._record_history(rows, rewound)
        self._evaluate(rows, floor)
        for person in np.flatnonzero(rewound).tolist():
            self._withdraw_orphans(person, float(floor[person]))

    def _withdraw_orphans(self, person: int, raised_at: float) -> None:
        """Close zone episodes the re-evaluation no longer finds (e.g. a curfew check that saw
        the wearer away, when late fixes show he was home): kept, never deleted, but ended at
        their start and marked withdrawn, so no alert stays open on evidence that fell away."""
        begin = int(self.zstart[person])
        end = begin + int(self.zcount[person])
        held = {int(i) for i in self.zs["ep"][begin:end] if i >= 0}
        for z in range(begin, end):
            zone = self.zones[z]
            kinds = (
                (EventKind.EXCLUSION_ZONE,)
                if self.z_kind[z] == ZoneKind.EXCLUSION
                else (EventKind.CURFEW, EventKind.INCLUSION_ZONE)
            )
            for kind in kinds:
                for index in self.ledger.open_indices(zone.person, zone.id, kind):
                    if index not in held:
                        self.ledger.withdraw(index, raised_at)

    def _rewind(self, person: int, earliest: float) -> dict[str, npt.NDArray[Any]] | None:
        """Restore ``person`` to the newest checkpoint before ``earliest``; return fixes since."""
        chosen = -1
        for index in range(len(self.snapshots) - 1, -1, -1):
            snap = self.snapshots[index]
            if snap.valid[person] and snap.persons["p_time"][person] <= earliest:
                chosen = index
                break
        if chosen < 0:
            return None
        snap = self.snapshots[chosen]
        since = float(snap.persons["p_time"][person])
        if since < self.history_pruned_clock:
            # Some fixes after that checkpoint have left the history: replaying would lose them.
            return None
        self.stats.rewinds += 1
        begin = int(self.zstart[person])
        end = begin + int(self.zcount[person])
        for name, column in self.zs.items():
            column[begin:end] = snap.zones[name][begin:end]
        self.evidence[begin:end] = snap.evidence[begin:end]
        for name, column in self.ps.items():
            column[person] = snap.persons[name][person]
        self._refresh_person(person)
        for later in self.snapshots[chosen + 1 :]:
            later.valid[person] = False
        parts = []
        for item in self.history:
            ps = item.rows["p"]
            lo = int(np.searchsorted(ps, person, side="left"))
            hi = int(np.searchsorted(ps, person, side="right"))
            if hi > lo:
                sl = {key: value[lo:hi] for key, value in item.rows.items()}
                keep = sl["t"] > since
                parts.append({key: value[keep] for key, value in sl.items()})
        if not parts:
            return {key: value[:0] for key, value in self._empty_rows().items()}
        return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}

    def _empty_rows(self) -> dict[str, npt.NDArray[Any]]:
        return {
            "p": np.zeros(0, dtype=np.int64),
            "t": np.zeros(0),
            "lon": np.zeros(0),
            "lat": np.zeros(0),
            "acc": np.zeros(0),
            "bad": np.zeros(0, dtype=bool),
            "arrival": np.zeros(0),
            "fid": np.zeros(0, dtype=np.int64),
        }

    def _record_history(self, rows: dict[str, npt.NDArray[Any]], rewound: BoolArray) -> None:
        """Keep evaluated fixes (sorted by person, time) so a late fix can replay its person.

        A rewound person's earlier fixes are in the history already; only their new ones are added.
        """
        if rewound.any():
            fresh = ~rewound[rows["p"]] | ~np.isin(rows["fid"], self._history_ids(rewound))
            rows = {key: value[fresh] for key, value in rows.items()}
        self.history.append(_History(self.clock, rows))
        horizon = self.clock - self.settings.history_s
        while self.history and self.history[0].clock < horizon:
            self.history_pruned_clock = max(self.history_pruned_clock, self.history.pop(0).clock)

    def _history_ids(self, persons: BoolArray) -> IntArray:
        ids = [item.rows["fid"][persons[item.rows["p"]]] for item in self.history]
        return np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)

    def _take_snapshot(self, force: bool = False) -> None:
        if (
            not force
            and self.snapshots
            and self.clock - self.snapshots[-1].clock < self.settings.checkpoint_every_s
        ):
            return
        self.snapshots.append(
            _Snapshot(
                self.clock,
                {name: column.copy() for name, column in self.zs.items()},
                self.evidence.copy(),
                {name: column.copy() for name, column in self.ps.items()},
                np.ones(len(self.persons), dtype=bool),
            )
        )
        horizon = self.clock - self.settings.history_s
        # Keep the first (start of watching) and those within the history horizon.
        while len(self.snapshots) > 2 and self.snapshots[1].clock < horizon:
            self.snapshots.pop(1)

    def _evaluate(self, rows: dict[str, npt.NDArray[Any]], floor: FloatArray) -> None:
        """The vectorised pass over fixes sorted by (person, time)."""
        s = self.settings
        zs = self.zs
        p = rows["p"]
        t = rows["t"]
        lon = rows["lon"]
        lat = rows["lat"]
        acc = rows["acc"]
        n = p.shape[0]
        if n == 0:
            return
        first = np.ones(n, dtype=bool)
        first[1:] = p[1:] != p[:-1]
        last = np.ones(n, dtype=bool)
        last[:-1] = first[1:]
        # The previous fix of the same person: in the batch, or remembered.
        prev_t = np.empty(n)
        prev_lon = np.empty(n)
        prev_lat = np.empty(n)
        prev_acc = np.empty(n)
        prev_t[1:], prev_lon[1:], prev_lat[1:], prev_acc[1:] = t[:-1], lon[:-1], lat[:-1], acc[:-1]
        pf = p[first]
        ps = self.ps
        prev_t[first] = ps["pl_t"][pf]
        prev_lon[first] = ps["pl_lon"][pf]
        prev_lat[first] = ps["pl_lat"][pf]
        prev_acc[first] = ps["pl_acc"][pf]
        step = step_metres(prev_lon, prev_lat, lon, lat)
        dt = np.maximum(t - prev_t, 1.0)
        with np.errstate(invalid="ignore"):
            jump1 = (step - acc - prev_acc) > s.max_speed_mps * dt
        # A jump from the previous fix may be an outlier, or the good fix after one: walk each
        # (rare) jump in Python against the last trusted fix.
        implausible = self._implausible(jump1 & ~rows["bad"], rows, first)
        neutral = rows["bad"] | implausible

        # Pairs: each fix with each of its person's zones; a person's pairs are contiguous and
        # laid out fix by fix, so the same zone's previous pair is ``nz`` places back.
        nz_f = self.zcount[p]
        total = int(nz_f.sum())
        fi = np.repeat(np.arange(n, dtype=np.int64), nz_f)
        fix_pair_start = np.cumsum(nz_f) - nz_f
        zi = np.arange(total, dtype=np.int64) + np.repeat(self.zstart[p] - fix_pair_start, nz_f)
        buffer = self.z_buffer[zi]
        pacc = acc[fi]
        d, _exact = signed_distance(self.compiled, zi, lon[fi], lat[fi], buffer + pacc + 1.0)
        # Classes (see FixClass): clear of the zone -> FAR/EDGE/BUFFER by the buffer; otherwise
        # UNSURE_OUT/LIKELY_IN/IN by the disc.
        inner = d < pacc
        cls = np.where(
            inner,
            3 + (d < 0).view(np.int8) + (d <= -pacc).view(np.int8),
            (d <= buffer + pacc).view(np.int8) + (d <= buffer).view(np.int8),
        ).astype(np.int8)
        cls[neutral[fi]] = F.NEUTRAL
        # A disc wider than a share of the zone's depth says almost nothing about being inside
        # it (DESIGN: a fix counts as inside only when its disc is): no inside evidence.
        coarse = (
            (cls >= F.LIKELY_IN)
            & (cls != F.NEUTRAL)
            & (self.z_kind[zi] == ZoneKind.EXCLUSION)
            & (pacc > s.inside_accuracy_share * self.z_depth[zi])
        )
        cls[coarse] = F.NEUTRAL

        loud = ((self.qmask[zi] >> cls) & 1) == 0
        # Timers due before a fix: checked per person first (almost always nobody).
        due_f = t >= self.person_deadline[p]
        if due_f.any():
            pairs = np.flatnonzero(due_f[fi])
            loud[pairs] |= t[fi[pairs]] >= zs["deadline"][zi[pairs]]
        # Possible transit: two consecutive outside fixes whose straight track could pass
        # through the zone deeper than either fix's accuracy. The cheap necessary condition
        # (the step is longer than the two distances plus twice the margin) leaves few pairs.
        transit = np.zeros(total, dtype=bool)
        margin2 = 2 * np.maximum(pacc, prev_acc[fi])
        with np.errstate(invalid="ignore"):
            maybe = np.flatnonzero((step[fi] >= d + margin2) & (cls <= F.UNSURE_OUT))
        if maybe.size:
            in_batch = ~first[fi[maybe]]
            back = np.where(in_batch, maybe - nz_f[fi[maybe]], 0)
            pd = np.where(in_batch, d[back], zs["d_last"][zi[maybe]])
            pc = np.where(in_batch, cls[back], zs["c_last"][zi[maybe]])
            with np.errstate(invalid="ignore"):
                hit = (
                    (self.z_kind[zi[maybe]] == ZoneKind.EXCLUSION)
                    & (pc <= F.UNSURE_OUT)
                    & (step[fi[maybe]] >= pd + d[maybe] + margin2[maybe])
                )
            transit[maybe[hit]] = True
            loud |= transit
        if loud.any():
            loud_idx = np.flatnonzero(loud)
            zones_loud, first_loud = np.unique(zi[loud_idx], return_index=True)
            self.stats.stepped_pairs += int(zones_loud.size)
            arrays = _PairArrays(
                t=t,
                d=d,
                acc=acc,
                cls=cls,
                fi=fi,
                zi=zi,
                fid=rows["fid"],
                arrival=rows["arrival"],
                first=first,
                prev_t=prev_t,
                transit=transit,
                step=step,
                prev_acc=prev_acc,
                lon=lon,
                lat=lat,
                p=p,
            )
            last_fix_index = self._last_fix_of_person(last, n)
            for z, start_pos in zip(
                zones_loud.tolist(), loud_idx[first_loud].tolist(), strict=True
            ):
                person = int(self.z_person[z])
                nz = int(self.zcount[person])
                end_fix = int(last_fix_index[int(fi[start_pos])])
                end_pos = int(fix_pair_start[end_fix]) + (
                    start_pos - int(fix_pair_start[int(fi[start_pos])])
                )
                self._step_zone(
                    z, arrays, range(start_pos, end_pos + 1, nz), nz, float(floor[person])
                )
        # Vectorised bookkeeping for every zone touched: its last fix's time, distance, class.
        last_pairs = np.flatnonzero(last[fi])
        lz = zi[last_pairs]
        zs["t_last"][lz] = t[fi[last_pairs]]
        zs["d_last"][lz] = d[last_pairs]
        zs["c_last"][lz] = cls[last_pairs]
        # Remember each person's last good fix (for speed and transit checks).
        good = np.flatnonzero(~neutral)
        if good.size:
            gp = p[good]
            lastgood = np.ones(good.size, dtype=bool)
            lastgood[:-1] = gp[1:] != gp[:-1]
            g = good[lastgood]
            pp = p[g]
            ps["pl_t"][pp] = t[g]
            ps["pl_lon"][pp] = lon[g]
            ps["pl_lat"][pp] = lat[g]
            ps["pl_acc"][pp] = acc[g]
        pl = p[last]
        ps["p_time"][pl] = np.maximum(ps["p_time"][pl], t[last])

    def _implausible(
        self, jumps: BoolArray, rows: dict[str, npt.NDArray[Any]], first: BoolArray
    ) -> BoolArray:
        """Flag fixes a person could not have reached from their last plausible fix.

        A flagged fix starts a suspect track, and later fixes that continue it (nearer to it, in
        the speed needed, than to the last plausible fix) are flagged too: otherwise a forged
        position sent again and again becomes "reachable" once enough seconds have passed. The
        track is trusted again when a fix rejoins the plausible one, or when no plausible fix
        has come for ``implausible_settle_s`` (the anchor itself was the odd one out, or the
        device really moved while silent). Only persons with a jump in this batch, or a suspect
        track from an earlier one, are walked in Python.
        """
        n = jumps.shape[0]
        flagged = np.zeros(n, dtype=bool)
        p, t, lon, lat, acc, bad = (
            rows["p"],
            rows["t"],
            rows["lon"],
            rows["lat"],
            rows["acc"],
            rows["bad"],
        )
        ps = self.ps
        suspect_before = ~np.isnan(ps["su_t"][p]) & first
        starts = np.flatnonzero(first)
        walk = set(p[jumps | suspect_before].tolist())
        if not walk:
            return flagged
        vmax = self.settings.max_speed_mps
        settle = self.settings.implausible_settle_s

        def speed(a: _TrackPoint, j: int) -> float:
            step = float(
                step_metres(np.array([a[1]]), np.array([a[2]]), lon[j : j + 1], lat[j : j + 1])[0]
            )
            return max(step - a[3] - float(acc[j]), 0.0) / max(float(t[j]) - a[0], 1.0)

        ends = np.append(starts[1:], n)
        for begin, end in zip(starts.tolist(), ends.tolist(), strict=True):
            person = int(p[begin])
            if person not in walk:
                continue
            anchor = _track_point(ps, "pl", person)
            suspect = _track_point(ps, "su", person)
            for j in range(begin, end):
                if bad[j]:
                    continue
                here = (float(t[j]), float(lon[j]), float(lat[j]), float(acc[j]))
                if math.isnan(anchor[0]):
                    anchor = here
                    continue
                to_suspect = None if math.isnan(suspect[0]) else speed(suspect, j)
                if off_track(speed(anchor, j), to_suspect, here[0] - anchor[0], vmax, settle):
                    flagged[j] = True
                    suspect = here
                else:
                    anchor = here
                    suspect = (math.nan, math.nan, math.nan, math.nan)
            for key, value in zip(("su_t", "su_lon", "su_lat", "su_acc"), suspect, strict=True):
                ps[key][person] = value
        return flagged

    @staticmethod
    def _last_fix_of_person(last: BoolArray, n: int) -> IntArray:
        """For each fix, the index of its person's last fix in the batch."""
        marks = np.where(last, np.arange(n), n)
        return np.minimum.accumulate(marks[::-1])[::-1].astype(np.int64)

    # ------------------------------------------------------------------ state machines

    def _step_zone(self, z: int, a: _PairArrays, positions: range, nz: int, floor: float) -> None:
        kind = self.z_kind[z]
        self.dirty_persons.add(int(self.z_person[z]))
        for j in positions:
            t = float(a.t[a.fi[j]])
            # The same zone's distance at the person's previous fix (before this one is stored).
            self._pd = float(self.zs["d_last"][z]) if a.first[a.fi[j]] else float(a.d[j - nz])
            self._fire_zone_timers(z, t, floor)
            if kind == ZoneKind.EXCLUSION:
                self._step_exclusion(z, a, j, t)
            else:
                self._step_inclusion(z, a, j, t)
            self._set_q(z)
            self.zs["t_last"][z] = t
            self.zs["d_last"][z] = a.d[j]
            self.zs["c_last"][z] = a.cls[j]

    def _push_evidence(self, z: int, fid: int, reset: bool = False) -> None:
        row = self.evidence[z]
        if reset:
            row[:] = -1
        row[:-1] = row[1:]
        row[-1] = fid

    def _evidence(self, z: int) -> list[int]:
        return [int(v) for v in self.evidence[z] if v >= 0]

    def _step_exclusion(self, z: int, a: _PairArrays, j: int, t: float) -> None:
        s = self.settings
        zs = self.zs
        cls = int(a.cls[j])
        if cls == C_NEUTRAL:
            return
        zone = self.zones[z]
        fid = int(a.fid[a.fi[j]])
        arrival = float(a.arrival[a.fi[j]])
        d = float(a.d[j])
        acc = float(a.acc[a.fi[j]])
        if not zs["active"][z]:
            zs["armed"][z] = True
            return
        state = int(zs["st"][z])
        if state == PENDING and t - float(zs["t_ev"][z]) > s.max_gap_s:
            state = IDLE
            zs["st"][z] = IDLE
        if state == IDLE:
            if cls == C_FAR and self._far_enough(z, d, acc):
                zs["armed"][z] = True
            if (
                self.z_buffer[z] > 0
                and zs["armed"][z]
                and cls in (C_BUFFER, C_UNSURE_OUT, C_LIKELY_IN, C_IN)
            ):
                zs["armed"][z] = False
                # When the straight track crossed into the buffer (the first fix may be deeper).
                prev_t = float(a.prev_t[a.fi[j]])
                buffer = float(self.z_buffer[z])
                entered = t
                if np.isfinite(prev_t) and t - prev_t <= s.max_gap_s and np.isfinite(self._pd):
                    entered = interpolate_crossing(prev_t, self._pd - buffer, t, d - buffer)
                zs["warn_ep"][z] = self.ledger.open(
                    person=zone.person,
                    condition=zone.id,
                    kind=EventKind.APPROACH_WARNING,
                    start=entered,
                    trigger=t,
                    raised_at=max(arrival, t),
                    fix_ids=[fid],
                    detail={"distance_m": round(max(d, 0.0), 1)},
                )
            if a.transit[j]:
                self._check_transit(z, a, j, t, arrival)
            if cls >= C_LIKELY_IN:
                zs["st"][z] = PENDING
                zs["armed"][z] = False
                zs["n_pts"][z] = 1
                zs["evid"][z] = self._fix_llr(d, acc, t, float(a.prev_t[a.fi[j]]))
                zs["ev_max"][z] = zs["evid"][z]
                zs["t_first"][z] = t
                zs["t_ev"][z] = t
                prev_t = float(a.prev_t[a.fi[j]])
                gap_ok = np.isfinite(prev_t) and t - prev_t <= s.max_gap_s
                zs["t_entry"][z] = interpolate_crossing(prev_t, self._pd, t, d) if gap_ok else t
                self._push_evidence(z, fid, reset=True)
                self._maybe_confirm(z, t, arrival, d, acc)
            return
        if state == PENDING:
            score = self._fix_llr(d, acc, t, float(a.prev_t[a.fi[j]]))
            if cls >= C_LIKELY_IN:
                zs["n_pts"][z] += 1
                zs["evid"][z] += score
                zs["ev_max"][z] = max(float(zs["ev_max"][z]), score)
                zs["t_ev"][z] = t
                self._push_evidence(z, fid)
                self._maybe_confirm(z, t, arrival, d, acc)
            elif cls == C_UNSURE_OUT:
                # Evidence against: a point outside with a disc overlapping the edge.
                zs["evid"][z] += score
                if zs["evid"][z] < 0:
                    zs["st"][z] = IDLE
            else:
                zs["st"][z] = IDLE
                zs["armed"][z] = cls == C_FAR and self._far_enough(z, d, acc)
            return
        # VIOLATION
        if cls >= C_LIKELY_IN:
            zs["n_out"][z] = 0
            zs["t_ev"][z] = t
        elif cls <= C_BUFFER:
            zs["n_out"][z] += 1
            if zs["n_out"][z] == 1:
                zs["t_exit"][z] = interpolate_crossing(float(a.prev_t[a.fi[j]]), self._pd, t, d)
            if zs["n_out"][z] >= s.exit_fixes:
                self.ledger.close(int(zs["ep"][z]), float(zs["t_exit"][z]), max(arrival, t), [fid])
                zs["st"][z] = IDLE
                zs["ep"][z] = -1
                zs["n_out"][z] = 0
                zs["armed"][z] = cls == C_FAR and self._far_enough(z, d, acc)

    def _fix_llr(self, d: float, acc: float, t: float, prev_t: float) -> float:
        """One fix's weight of evidence that the wearer is inside (positive) or outside.

        The log-likelihood ratio of inside against outside for a Gaussian error disc against a
        locally straight edge, capped, and scaled down for a fix that follows the previous one
        closer than the error's correlation time (it repeats much of the same error).
        """
        s = self.settings
        sigma = acc / s.accuracy_sigmas
        z = max(-8.0, min(8.0, -d / sigma))
        # log(Phi(z) / Phi(-z)) with Phi(x) = erfc(-x / sqrt 2) / 2; erfc keeps the tails exact.
        llr = math.log(math.erfc(-z / _SQRT2)) - math.log(math.erfc(z / _SQRT2))
        llr = max(-s.evidence_cap, min(s.evidence_cap, llr))
        if s.evidence_correlation_s > 0 and math.isfinite(prev_t):
            llr *= min(1.0, max(t - prev_t, 0.0) / s.evidence_correlation_s)
        return llr

    def _far_enough(self, z: int, d: float, acc: float) -> bool:
        """Clear of the buffer by a margin: the next time in the buffer is a new approach.

        Without the margin, a wearer living at the buffer's edge would be warned each time GPS
        noise carried a fix just outside and back in.
        """
        return d - acc > float(self.z_buffer[z]) + self.settings.approach_rearm_m

    def _maybe_confirm(self, z: int, t: float, arrival: float, d: float, acc: float) -> None:
        """Confirm a pending visit only on corroborated evidence, never on one fix alone.

        A lone fix, however deep and however small its reported accuracy, leaves the visit
        pending (and the tag asked to report faster): multipath outliers look exactly like that.
        """
        s = self.settings
        zs = self.zs
        n_pts = int(zs["n_pts"][z])
        llr = float(zs["evid"][z])
        strongest = float(zs["ev_max"][z])
        others = llr - strongest
        dwell = t - float(zs["t_first"][z])
        rule = ""
        if (
            n_pts >= max(2, s.confirm_fixes)
            and llr >= s.confirm_llr
            and others >= s.corroborate_llr
        ):
            rule = "sequential"
            reason = (
                f"{n_pts} fixes inside; evidence {llr:.2f} reached {s.confirm_llr:g} "
                f"(odds about {math.exp(min(llr, 30.0)):.1f} to 1 that the wearer is inside), "
                f"and without its strongest fix still {others:.2f}, so no single fix decided it"
            )
        elif n_pts >= max(3, s.confirm_fixes) and dwell >= s.confirm_dwell_s and others > 0:
            rule = "dwell"
            reason = f"{n_pts} fixes inside over {dwell:.0f} s with the evidence still for inside"
        if not rule:
            return
        zone = self.zones[z]
        zs["ep"][z] = self.ledger.open(
            person=zone.person,
            condition=zone.id,
            kind=EventKind.EXCLUSION_ZONE,
            start=float(zs["t_entry"][z]),
            trigger=t,
            raised_at=max(arrival, t),
            fix_ids=self._evidence(z),
            detail={
                "rule": rule,
                "reason": reason,
                "fixes_inside": n_pts,
                "evidence": round(llr, 3),
                "strongest_fix_evidence": round(strongest, 3),
                "corroborating_evidence": round(others, 3),
                "depth_m": round(-d, 1),
                "accuracy_m": round(acc, 1),
            },
        )
        zs["st"][z] = VIOLATION
        zs["n_out"][z] = 0

    def _check_transit(self, z: int, a: _PairArrays, j: int, t: float, arrival: float) -> None:
        """Sample the straight track between the two fixes and measure how deep it goes."""
        f = int(a.fi[j])
        prev_t = float(a.prev_t[f])
        ps = self.ps
        zone = self.zones[z]
        person = int(self.z_person[z])
        # The previous fix is the one before in the batch, or the remembered one.
        if f > 0 and int(a.p[f - 1]) == person:
            lon0, lat0 = float(a.lon[f - 1]), float(a.lat[f - 1])
        else:
            lon0, lat0 = float(ps["pl_lon"][person]), float(ps["pl_lat"][person])
        lon1, lat1 = float(a.lon[f]), float(a.lat[f])
        length = float(a.step[f])
        samples = int(min(400, max(8, length / 5.0)))
        frac = np.linspace(0.0, 1.0, samples)
        zi = np.full(samples, z, dtype=np.int64)
        d, _ = signed_distance(
            self.compiled, zi, lon0 + (lon1 - lon0) * frac, lat0 + (lat1 - lat0) * frac
        )
        depth = -float(d.min())
        margin = max(float(a.acc[f]), float(a.prev_acc[f]))
        if depth < margin:
            return
        inside = frac[d < 0]
        self.ledger.open(
            person=zone.person,
            condition=zone.id,
            kind=EventKind.POSSIBLE_TRANSIT,
            start=prev_t + (t - prev_t) * float(inside.min()),
            end=prev_t + (t - prev_t) * float(inside.max()),
            trigger=t,
            raised_at=max(arrival, t),
            fix_ids=[int(a.fid[f])],
            detail={"depth_m": round(depth, 1), "gap_s": round(t - prev_t, 1)},
        )

    def _step_inclusion(self, z: int, a: _PairArrays, j: int, t: float) -> None:
        s = self.settings
        zs = self.zs
        cls = int(a.cls[j])
        if cls == C_NEUTRAL:
            return
        fid = int(a.fid[a.fi[j]])
        arrival = float(a.arrival[a.fi[j]])
        d = float(a.d[j])
        if cls >= C_LIKELY_IN:
            if zs["st"][z] != PRESENT and zs["ep"][z] >= 0:
                back = interpolate_crossing(float(a.prev_t[a.fi[j]]), self._pd, t, d)
                self.ledger.close(int(zs["ep"][z]), back, max(arrival, t), [fid])
                zs["ep"][z] = -1
            zs["st"][z] = PRESENT
            zs["n_out"][z] = 0
            return
        if cls == C_UNSURE_OUT:
            return
        # Clearly outside.
        zs["n_out"][z] += 1
        if zs["n_out"][z] == 1:
            zs["t_leave"][z] = interpolate_crossing(float(a.prev_t[a.fi[j]]), self._pd, t, d)
            self._push_evidence(z, fid, reset=True)
        else:
            self._push_evidence(z, fid)
        if zs["n_out"][z] >= s.absence_fixes:
            zs["st"][z] = ABSENT
            if zs["active"][z] and zs["ep"][z] < 0:
                start = float(zs["t_leave"][z])
                if np.isfinite(zs["w_start"][z]):
                    start = max(start, float(zs["w_start"][z]))
                self._open_inclusion(z, start, t, max(arrival, t))

    def _open_inclusion(self, z: int, start: float, trigger: float, raised_at: float) -> None:
        zone = self.zones[z]
        kind = EventKind.CURFEW if zone.event_kind == "curfew" else EventKind.INCLUSION_ZONE
        self.zs["ep"][z] = self.ledger.open(
            person=zone.person,
            condition=zone.id,
            kind=kind,
            start=start,
            trigger=trigger,
            raised_at=raised_at,
            fix_ids=self._evidence(z),
        )

    # ------------------------------------------------------------------ timers

    def _fire_zone_timers(self, z: int, until: float, floor: float) -> None:
        zs = self.zs
        if zs["deadline"][z] <= until:
            self.dirty_persons.add(int(self.z_person[z]))
        while zs["deadline"][z] <= until:
            at = float(zs["deadline"][z])
            kind = int(zs["dkind"][z])
            raised_at = max(at, floor)
            person = int(self.z_person[z])
            self.ps["p_time"][person] = max(float(self.ps["p_time"][person]), at)
            w_start, w_end = float(zs["w_start"][z]), float(zs["w_end"][z])
            if kind == CHECK:
                zs["active"][z] = True
                self._set_timer(z, END, w_end, w_start, w_end)
                if (
                    self.z_kind[z] == ZoneKind.INCLUSION
                    and zs["st"][z] != PRESENT
                    and zs["ep"][z] < 0
                ):
                    start = max(w_start, float(self.ps["since"][person]))
                    if zs["st"][z] == ABSENT and np.isfinite(zs["t_leave"][z]):
                        start = max(start, float(zs["t_leave"][z]))
                    self._open_inclusion(z, min(start, at), at, raised_at)
            else:
                zs["active"][z] = False
                if zs["ep"][z] >= 0:
                    self.ledger.close(int(zs["ep"][z]), at, raised_at)
                    zs["ep"][z] = -1
                if self.z_kind[z] == ZoneKind.EXCLUSION:
                    zs["st"][z] = IDLE
                    zs["n_out"][z] = 0
                    zs["armed"][z] = True
                self._schedule_next(z, at)
            self._set_q(z)

    def _fire_timers(self, now: float) -> None:
        due = np.flatnonzero(self.zs["deadline"] <= now)
        for z in due.tolist():
            self._fire_zone_timers(z, now, -INF)

    def _device_timers(self, now: float) -> None:
        s = self.settings
        silent = self.wearer_device & (now - self.comm >= s.no_communication_s)
        for index in np.flatnonzero(silent).tolist():
            device = self.devices[index]
            if device.nocomm_ep >= 0:
                continue
            self.dirty_devices.add(index)
            last = float(self.comm[index])
            device.nocomm_ep = self.ledger.open(
                person=self.persons[device.person],
                condition=None,
                kind=EventKind.NO_COMMUNICATION,
                start=last,
                trigger=last + s.no_communication_s,
                raised_at=last + s.no_communication_s,
                device=self.device_names[index],
            )
            self.busy[index] = True

    # ------------------------------------------------------------------ device health

    def _device_health(
        self,
        batch: FixBatch,
        dev: IntArray,
        person: IntArray,
        arrival: FloatArray,
        bad: BoolArray,
    ) -> None:
        s = self.settings
        wearer = person >= 0
        busy = self.busy[dev]
        interesting = wearer & (busy | bad)
        if batch.has_alarm is not None:
            interesting |= wearer & batch.has_alarm
        if batch.battery is not None:
            with np.errstate(invalid="ignore"):
                interesting |= wearer & (batch.battery <= s.battery_recover_pct)
        if batch.alcohol is not None and self.alcohol:
            interesting |= wearer & np.isfinite(batch.alcohol)
        # Communication gaps within the batch (rows are in arrival order).
        last_comm = self.comm
        order = group_order(np.where(dev >= 0, dev, len(self.devices)))
        sd = dev[order]
        sa = arrival[order]
        prev = np.empty_like(sa)
        prev[1:] = sa[:-1]
        head = np.ones(sd.shape[0], dtype=bool)
        head[1:] = sd[1:] != sd[:-1]
        prev[head] = last_comm[sd[head]]
        gap = np.zeros(dev.shape[0], dtype=bool)
        gap[order] = sa - prev > s.no_communication_s
        interesting |= wearer & gap
        # From a device's first interesting row on, all its rows go through Python in order, so
        # an episode opened mid-batch is also closed mid-batch; rows before it only move times.
        slots = len(self.devices) + 1
        dev_slot = np.where(dev >= 0, dev, slots - 1)
        first_row = np.full(slots, dev.shape[0], dtype=np.int64)
        np.minimum.at(first_row, dev_slot[interesting], np.flatnonzero(interesting))
        python_rows = np.arange(dev.shape[0]) >= first_row[dev_slot]
        known = dev >= 0
        plain = known & ~python_rows
        if plain.any():
            # Rows are in arrival order, so the last row of a device has its latest arrival.
            # Fancy assignment keeps the last row of each device: its latest arrival (the clock
            # only moves forward) and, for positions, its latest fix in arrival order.
            self.comm[dev[plain]] = arrival[plain]
            good = plain & ~bad
            gd = dev[good]
            self.gps[gd] = np.maximum(self.gps[gd], batch.t[good])
        for r in np.flatnonzero(python_rows & known).tolist():
            if person[r] >= 0:
                self._device_row(batch, r, int(dev[r]), float(arrival[r]), bool(bad[r]))
            else:
                self.comm[int(dev[r])] = max(float(self.comm[int(dev[r])]), float(arrival[r]))

    def _device_row(self, batch: FixBatch, r: int, index: int, now: float, bad: bool) -> None:
        s = self.settings
        device = self.devices[index]
        name = self.device_names[index]
        self.dirty_devices.add(index)
        person = self.persons[device.person]
        t = float(batch.t[r])
        fid = int(batch.fix_id[r])
        ledger = self.ledger
        if device.nocomm_ep >= 0:
            ledger.close(device.nocomm_ep, now, now, [fid])
            device.nocomm_ep = -1
        elif now - float(self.comm[index]) > s.no_communication_s:
            episode = ledger.open(
                person=person,
                condition=None,
                kind=EventKind.NO_COMMUNICATION,
                start=float(self.comm[index]),
                trigger=float(self.comm[index]) + s.no_communication_s,
                raised_at=float(self.comm[index]) + s.no_communication_s,
                device=name,
            )
            ledger.close(episode, now, now, [fid])
        self.comm[index] = max(float(self.comm[index]), now)
        alarms: set[str] = set()
        if batch.alarms is not None and batch.alarms[r]:
            alarms = {item.strip().lower() for item in batch.alarms[r].replace(",", ";").split(";")}
        for alarm, kind in ALARM_KINDS.items():
            if alarm in alarms and alarm not in device.alarm_eps:
                device.alarm_eps[alarm] = ledger.open(
                    person=person,
                    condition=None,
                    kind=kind,
                    start=t,
                    trigger=t,
                    raised_at=max(now, t),
                    device=name,
                    fix_ids=[fid],
                )
            elif alarm not in alarms and alarm in device.alarm_eps:
                # Devices repeat an alarm while it lasts, or send it once: either way the event
                # is a moment (ended by people, not by the tag); a row without it re-arms it.
                device.alarm_eps.pop(alarm)
        if batch.battery is not None and np.isfinite(batch.battery[r]):
            level = float(batch.battery[r])
            if level <= s.battery_low_pct and device.battery_ep < 0:
                device.battery_ep = ledger.open(
                    person=person,
                    condition=None,
                    kind=EventKind.BATTERY_LOW,
                    start=t,
                    trigger=t,
                    raised_at=max(now, t),
                    device=name,
                    fix_ids=[fid],
                    detail={
                        "battery_pct": level,
                        "severity": "critical" if level <= s.battery_critical_pct else "low",
                    },
                )
            elif level >= s.battery_recover_pct and device.battery_ep >= 0:
                ledger.close(device.battery_ep, t, max(now, t), [fid])
                device.battery_ep = -1
        if not bad:
            self.gps[index] = max(float(self.gps[index]), t)
            if device.nogps_ep >= 0:
                ledger.close(device.nogps_ep, t, max(now, t), [fid])
                device.nogps_ep = -1
        elif device.nogps_ep < 0 and t - float(self.gps[index]) >= s.no_gps_s:
            near = self._near_exclusion(device.person)
            device.nogps_ep = ledger.open(
                person=person,
                condition=None,
                kind=EventKind.NO_GPS,
                start=float(self.gps[index]),
                trigger=t,
                raised_at=max(now, t),
                device=name,
                fix_ids=[fid],
                detail={"severity": "high" if near else "medium", "near_exclusion_zone": near},
            )
        if batch.alcohol is not None and np.isfinite(batch.alcohol[r]):
            reading = float(batch.alcohol[r])
            for condition in self.alcohol.get(device.person, ()):
                if reading >= condition.threshold:
                    run = device.alcohol_run.setdefault(condition.id, t)
                    if t - run >= condition.sustained_s and condition.id not in device.alcohol_eps:
                        device.alcohol_eps[condition.id] = ledger.open(
                            person=person,
                            condition=condition.id,
                            kind=EventKind.ALCOHOL,
                            start=run,
                            trigger=t,
                            raised_at=max(now, t),
                            device=name,
                            fix_ids=[fid],
                            detail={"reading": reading},
                        )
                else:
                    device.alcohol_run.pop(condition.id, None)
                    if condition.id in device.alcohol_eps:
                        ledger.close(device.alcohol_eps.pop(condition.id), t, max(now, t), [fid])
        self.busy[index] = device.busy

    def _near_exclusion(self, person: int) -> bool:
        begin = int(self.zstart[person])
        end = begin + int(self.zcount[person])
        near = [
            float(self.zs["d_last"][z]) <= max(self.settings.no_gps_near_m, self.z_buffer[z])
            for z in range(begin, end)
            if self.z_kind[z] == ZoneKind.EXCLUSION and np.isfinite(self.zs["d_last"][z])
        ]
        return any(near)

    # ------------------------------------------------------------------ proximity

    def _proximity(
        self,
        batch: FixBatch,
        dev: IntArray,
        person: IntArray,
        arrival: FloatArray,
        acc: FloatArray,
        bad: BoolArray,
    ) -> None:
        victim_devices = {self.device_index[name] for name in self.prox_by_device}
        wearers = np.zeros(len(self.persons) + 1, dtype=bool)
        for p_index in self.prox_by_person:
            wearers[p_index] = True
        relevant = ~bad & (
            np.isin(dev, np.fromiter(victim_devices, dtype=np.int64)) | wearers[person]
        )
        rows = np.flatnonzero(relevant)
        rows = rows[np.argsort(batch.t[rows], kind="stable")]
        for r in rows.tolist():
            t = float(batch.t[r])
            here = (float(batch.lon[r]), float(batch.lat[r]), float(acc[r]), t)
            now = float(arrival[r])
            fid = int(batch.fix_id[r])
            if person[r] >= 0:
                p_index = int(person[r])
                _remember(self.wearer_track.setdefault(p_index, []), here, self.settings)
                for c in self.prox_by_person.get(p_index, ()):
                    track = self.victim_track.get(self.prox[c].device, [])
                    self._proximity_check(c, here, _nearest(track, t), t, now, fid)
            else:
                name = self.device_names[int(dev[r])]
                _remember(self.victim_track.setdefault(name, []), here, self.settings)
                for c in self.prox_by_device.get(name, ()):
                    p_index = self.person_index[self.prox[c].person]
                    track = self.wearer_track.get(p_index, [])
                    self._proximity_check(c, _nearest(track, t), here, t, now, fid)

    def _proximity_check(
        self,
        c: int,
        wearer: Position | None,
        victim: Position | None,
        t: float,
        now: float,
        fid: int,
    ) -> None:
        """One observation of the distance between the two, each at its own fix time.

        In order (not older than the last one), it moves the enter/exit machine. A late one (a
        buffered upload) cannot rewrite what came after it; if it shows the two close, it is
        raised as a retrospective moment (start = end = the observation), never dropped.
        """
        condition = self.prox[c]
        if wearer is None or victim is None:
            return
        self.dirty_persons.add(self.person_index[condition.person])
        if abs(wearer[3] - victim[3]) > condition.max_age_s:
            return  # the other position is stale: no conclusion either way
        distance = float(
            step_metres(
                np.array([wearer[0]]),
                np.array([wearer[1]]),
                np.array([victim[0]]),
                np.array([victim[1]]),
            )[0]
        )
        if t < self.prox_last[c]:
            if distance <= condition.enter_m:
                self.ledger.open(
                    person=condition.person,
                    condition=condition.id,
                    kind=EventKind.PROXIMITY,
                    start=t,
                    end=t,
                    trigger=t,
                    raised_at=max(now, t),
                    fix_ids=[fid],
                    detail={"distance_m": round(distance, 1), "late": True},
                )
            return
        self.prox_last[c] = t
        if self.prox_ep[c] < 0 and distance <= condition.enter_m:
            self.prox_ep[c] = self.ledger.open(
                person=condition.person,
                condition=condition.id,
                kind=EventKind.PROXIMITY,
                start=t,
                trigger=t,
                raised_at=max(now, t),
                fix_ids=[fid],
                detail={"distance_m": round(distance, 1)},
            )
        elif self.prox_ep[c] >= 0 and distance >= condition.exit_m:
            self.ledger.close(self.prox_ep[c], t, max(now, t), [fid])
            self.prox_ep[c] = -1


Position = tuple[float, float, float, float]  # lon, lat, accuracy, fix time
PROXIMITY_TRACK_S = 7_200.0


def _remember(track: list[Position], position: Position, settings: EngineSettings) -> None:
    """Keep a device's recent positions in fix-time order (late ones slot into place)."""
    if track and position[3] < track[-1][3]:
        times = [item[3] for item in track]
        track.insert(bisect.bisect_right(times, position[3]), position)
    else:
        track.append(position)
    horizon = track[-1][3] - max(PROXIMITY_TRACK_S, settings.proximity_max_age_s)
    if track[0][3] < horizon:
        keep = bisect.bisect_left([item[3] for item in track], horizon)
        del track[:keep]


def _nearest(track: list[Position], t: float) -> Position | None:
    """The position nearest in time to ``t``."""
    if not track:
        return None
    index = bisect.bisect_left([item[3] for item in track], t)
    candidates = track[max(0, index - 1) : index + 1]
    return min(candidates, key=lambda item: abs(item[3] - t))


def _json_number(value: Any) -> float | int | bool | None:
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer | int):
        return int(value)
    number = float(value)
    return number if np.isfinite(number) else None


@dataclass
class _PairArrays:
    t: FloatArray
    d: FloatArray
    acc: FloatArray
    cls: npt.NDArray[np.int8]
    fi: IntArray
    zi: IntArray
    fid: IntArray
    arrival: FloatArray
    first: BoolArray
    prev_t: FloatArray
    transit: BoolArray
    step: FloatArray
    prev_acc: FloatArray
    lon: FloatArray
    lat: FloatArray
    p: IntArray
