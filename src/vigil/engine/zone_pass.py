"""The vectorised pass over a batch's fixes, sorted by (person, fix time), against their zones.

Every fix is paired with each of its person's zones and classified by its accuracy disc
(:class:`FixClass`) in arrays; the zone machines are stepped in Python only from the first pair
whose class matters in the machine's current state (a bit mask of "quiet" classes per state),
or where a timer falls due, or where a straight track may cut through the zone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vigil.engine.batch import BoolArray, EngineStats, FloatArray, IntArray
from vigil.engine.exclusion import ExclusionMachine
from vigil.engine.inclusion import InclusionMachine
from vigil.engine.model import EngineSettings, FixClass, ZoneKind
from vigil.engine.pairs import PairArrays, Rows
from vigil.engine.person_state import PersonColumns
from vigil.engine.plausibility import implausible
from vigil.engine.zone_table import ZoneTable
from vigil.engine.zone_timers import ZoneTimers
from vigil.geo.kernels import signed_distance
from vigil.geo.projection import step_metres

F = FixClass


@dataclass
class _Previous:
    """Each fix's person's previous fix: the one before in the batch, or the remembered one."""

    t: FloatArray
    lon: FloatArray
    lat: FloatArray
    acc: FloatArray


@dataclass
class _Pairs:
    """Each fix with each of its person's zones; a person's pairs are contiguous and laid out fix
    by fix, so the same zone's previous pair is ``zones_of_fix[fi]`` places back."""

    fi: IntArray  # the pair's fix
    zi: IntArray  # the pair's zone
    zones_of_fix: IntArray
    fix_pair_start: IntArray
    d: FloatArray  # signed distance to the zone's edge (negative inside)
    cls: np.ndarray


class ZonePass:
    def __init__(
        self,
        table: ZoneTable,
        persons: PersonColumns,
        settings: EngineSettings,
        timers: ZoneTimers,
        exclusion: ExclusionMachine,
        inclusion: InclusionMachine,
        dirty_persons: set[int],
        stats: EngineStats,
    ) -> None:
        self.table = table
        self.persons = persons
        self.settings = settings
        self.timers = timers
        self.exclusion = exclusion
        self.inclusion = inclusion
        self.dirty_persons = dirty_persons
        self.stats = stats

    def run(self, rows: Rows, floor: FloatArray) -> None:
        """Evaluate fixes sorted by (person, time); ``floor`` is, per person, the earliest time
        what they raise may be raised (a rewound person's late fix arrival)."""
        p = rows["p"]
        n = p.shape[0]
        if n == 0:
            return
        first = np.ones(n, dtype=bool)
        first[1:] = p[1:] != p[:-1]
        last = np.ones(n, dtype=bool)
        last[:-1] = first[1:]
        prev = self._previous(rows, first)
        step = step_metres(prev.lon, prev.lat, rows["lon"], rows["lat"])
        dt = np.maximum(rows["t"] - prev.t, 1.0)
        with np.errstate(invalid="ignore"):
            jump = (step - rows["acc"] - prev.acc) > self.settings.max_speed_mps * dt
        # A jump from the previous fix may be an outlier, or the good fix after one: walk each
        # (rare) jump in Python against the last trusted fix.
        flagged = implausible(jump & ~rows["bad"], rows, first, self.persons, self.settings)
        neutral = rows["bad"] | flagged
        pairs = self._pairs(rows, neutral)
        loud, transit = self._loud(rows, pairs, first, prev, step)
        if loud.any():
            arrays = PairArrays(
                t=rows["t"],
                d=pairs.d,
                acc=rows["acc"],
                cls=pairs.cls,
                fi=pairs.fi,
                zi=pairs.zi,
                fid=rows["fid"],
                arrival=rows["arrival"],
                first=first,
                prev_t=prev.t,
                transit=transit,
                step=step,
                prev_acc=prev.acc,
                lon=rows["lon"],
                lat=rows["lat"],
                p=p,
            )
            self._step_loud(arrays, pairs, loud, last, floor)
        self._remember_last(rows, pairs, last, neutral)

    def _previous(self, rows: Rows, first: BoolArray) -> _Previous:
        n = first.shape[0]
        prev = _Previous(np.empty(n), np.empty(n), np.empty(n), np.empty(n))
        pf = rows["p"][first]
        columns = (("t", prev.t), ("lon", prev.lon), ("lat", prev.lat), ("acc", prev.acc))
        for name, column in columns:
            column[1:] = rows[name][:-1]
            column[first] = self.persons[f"pl_{name}"][pf]
        return prev

    def _pairs(self, rows: Rows, neutral: BoolArray) -> _Pairs:
        table = self.table
        p = rows["p"]
        acc = rows["acc"]
        zones_of_fix = table.zcount[p]
        total = int(zones_of_fix.sum())
        fi = np.repeat(np.arange(p.shape[0], dtype=np.int64), zones_of_fix)
        fix_pair_start = np.cumsum(zones_of_fix) - zones_of_fix
        zi = np.arange(total, dtype=np.int64) + np.repeat(
            table.zstart[p] - fix_pair_start, zones_of_fix
        )
        buffer = table.z_buffer[zi]
        pacc = acc[fi]
        d, _exact = signed_distance(
            table.compiled, zi, rows["lon"][fi], rows["lat"][fi], buffer + pacc + 1.0
        )
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
            & (table.z_kind[zi] == ZoneKind.EXCLUSION)
            & (pacc > self.settings.inside_accuracy_share * table.z_depth[zi])
        )
        cls[coarse] = F.NEUTRAL
        return _Pairs(fi, zi, zones_of_fix, fix_pair_start, d, cls)

    def _loud(
        self, rows: Rows, pairs: _Pairs, first: BoolArray, prev: _Previous, step: FloatArray
    ) -> tuple[BoolArray, BoolArray]:
        """Pairs that may move their machine, and pairs that may be a transit through the zone."""
        table = self.table
        t, fi, zi, d, cls = rows["t"], pairs.fi, pairs.zi, pairs.d, pairs.cls
        loud: BoolArray = ((table.qmask[zi] >> cls) & 1) == 0
        # Timers due before a fix: checked per person first (almost always nobody).
        due_f = t >= table.person_deadline[rows["p"]]
        if due_f.any():
            due = np.flatnonzero(due_f[fi])
            loud[due] |= t[fi[due]] >= table.zs["deadline"][zi[due]]
        # Possible transit: two consecutive outside fixes whose straight track could pass
        # through the zone deeper than either fix's accuracy. The cheap necessary condition
        # (the step is longer than the two distances plus twice the margin) leaves few pairs.
        transit = np.zeros(fi.shape[0], dtype=bool)
        margin2 = 2 * np.maximum(rows["acc"][fi], prev.acc[fi])
        with np.errstate(invalid="ignore"):
            maybe = np.flatnonzero((step[fi] >= d + margin2) & (cls <= F.UNSURE_OUT))
        if maybe.size:
            in_batch = ~first[fi[maybe]]
            back = np.where(in_batch, maybe - pairs.zones_of_fix[fi[maybe]], 0)
            pd = np.where(in_batch, d[back], table.zs["d_last"][zi[maybe]])
            pc = np.where(in_batch, cls[back], table.zs["c_last"][zi[maybe]])
            with np.errstate(invalid="ignore"):
                hit = (
                    (table.z_kind[zi[maybe]] == ZoneKind.EXCLUSION)
                    & (pc <= F.UNSURE_OUT)
                    & (step[fi[maybe]] >= pd + d[maybe] + margin2[maybe])
                )
            transit[maybe[hit]] = True
            loud |= transit
        return loud, transit

    def _step_loud(
        self, a: PairArrays, pairs: _Pairs, loud: BoolArray, last: BoolArray, floor: FloatArray
    ) -> None:
        """Step each loud zone from its first loud pair to its person's last fix in the batch."""
        loud_idx = np.flatnonzero(loud)
        zones_loud, first_loud = np.unique(pairs.zi[loud_idx], return_index=True)
        self.stats.stepped_pairs += int(zones_loud.size)
        n = last.shape[0]
        marks = np.where(last, np.arange(n), n)
        last_fix_of_person = np.minimum.accumulate(marks[::-1])[::-1].astype(np.int64)
        starts = pairs.fix_pair_start
        for z, start_pos in zip(zones_loud.tolist(), loud_idx[first_loud].tolist(), strict=True):
            person = int(self.table.z_person[z])
            nz = int(self.table.zcount[person])
            fix = int(pairs.fi[start_pos])
            end_fix = int(last_fix_of_person[fix])
            end_pos = int(starts[end_fix]) + (start_pos - int(starts[fix]))
            self._step_zone(z, a, range(start_pos, end_pos + 1, nz), nz, float(floor[person]))

    def _step_zone(self, z: int, a: PairArrays, positions: range, nz: int, floor: float) -> None:
        zs = self.table.zs
        machine = self.exclusion if self.table.z_kind[z] == ZoneKind.EXCLUSION else self.inclusion
        self.dirty_persons.add(int(self.table.z_person[z]))
        for j in positions:
            t = float(a.t[a.fi[j]])
            # The same zone's distance at the person's previous fix (before this one is stored).
            a.pd = float(zs["d_last"][z]) if a.first[a.fi[j]] else float(a.d[j - nz])
            self.timers.fire(z, t, floor)
            machine.step(z, a, j, t)
            self.table.set_q(z)
            zs["t_last"][z] = t
            zs["d_last"][z] = a.d[j]
            zs["c_last"][z] = a.cls[j]

    def _remember_last(
        self, rows: Rows, pairs: _Pairs, last: BoolArray, neutral: BoolArray
    ) -> None:
        """Bookkeeping for every zone touched (its last fix's time, distance, class) and each
        person's last good fix (for speed and transit checks)."""
        zs = self.table.zs
        p, t = rows["p"], rows["t"]
        last_pairs = np.flatnonzero(last[pairs.fi])
        lz = pairs.zi[last_pairs]
        zs["t_last"][lz] = t[pairs.fi[last_pairs]]
        zs["d_last"][lz] = pairs.d[last_pairs]
        zs["c_last"][lz] = pairs.cls[last_pairs]
        ps = self.persons
        good = np.flatnonzero(~neutral)
        if good.size:
            gp = p[good]
            lastgood = np.ones(good.size, dtype=bool)
            lastgood[:-1] = gp[1:] != gp[:-1]
            g = good[lastgood]
            for name in ("t", "lon", "lat", "acc"):
                ps[f"pl_{name}"][p[g]] = rows[name][g]
        pl = p[last]
        ps["p_time"][pl] = np.maximum(ps["p_time"][pl], t[last])
