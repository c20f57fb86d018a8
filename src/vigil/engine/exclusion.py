"""The exclusion zone machine: idle (armed or not), a visit pending corroboration, a violation.

An approach warning is raised once per approach when the wearer enters the buffer; a visit is
confirmed only on corroborated evidence (never one fix); a violation ends after ``exit_fixes``
fixes clearly outside. A straight track between two outside fixes that cuts deep through the
zone is raised as a possible transit.
"""

from __future__ import annotations

import math

import numpy as np

from vigil.engine.events import EventKind
from vigil.engine.ledger import Ledger
from vigil.engine.model import EngineSettings
from vigil.engine.pairs import PairArrays
from vigil.engine.person_state import PersonColumns
from vigil.engine.zone_table import (
    C_BUFFER,
    C_FAR,
    C_IN,
    C_LIKELY_IN,
    C_NEUTRAL,
    C_UNSURE_OUT,
    IDLE,
    PENDING,
    VIOLATION,
    ZoneTable,
    interpolate_crossing,
)
from vigil.geo.kernels import signed_distance

_SQRT2 = math.sqrt(2.0)
_NEAR_CLASSES = (C_BUFFER, C_UNSURE_OUT, C_LIKELY_IN, C_IN)


class ExclusionMachine:
    def __init__(
        self, table: ZoneTable, persons: PersonColumns, settings: EngineSettings, ledger: Ledger
    ) -> None:
        self.table = table
        self.zs = table.zs
        self.persons = persons
        self.settings = settings
        self.ledger = ledger

    def step(self, z: int, a: PairArrays, j: int, t: float) -> None:
        """One fix of the zone's person, in fix-time order."""
        cls = int(a.cls[j])
        if cls == C_NEUTRAL:
            return
        zs = self.zs
        if not zs["active"][z]:
            zs["armed"][z] = True
            return
        state = int(zs["st"][z])
        if state == PENDING and t - float(zs["t_ev"][z]) > self.settings.max_gap_s:
            state = IDLE
            zs["st"][z] = IDLE
        if state == IDLE:
            self._idle(z, a, j, t, cls)
        elif state == PENDING:
            self._pending(z, a, j, t, cls)
        else:
            self._violation(z, a, j, t, cls)

    def _idle(self, z: int, a: PairArrays, j: int, t: float, cls: int) -> None:
        zs = self.zs
        f = int(a.fi[j])
        d, acc = float(a.d[j]), float(a.acc[f])
        if cls == C_FAR and self._far_enough(z, d, acc):
            zs["armed"][z] = True
        if self.table.z_buffer[z] > 0 and zs["armed"][z] and cls in _NEAR_CLASSES:
            zs["armed"][z] = False
            self._warn(z, a, j, t)
        if a.transit[j]:
            self._check_transit(z, a, j, t)
        if cls < C_LIKELY_IN:
            return
        prev_t = float(a.prev_t[f])
        zs["st"][z] = PENDING
        zs["armed"][z] = False
        zs["n_pts"][z] = 1
        zs["evid"][z] = self._fix_llr(d, acc, t, prev_t)
        zs["ev_max"][z] = zs["evid"][z]
        zs["t_first"][z] = t
        zs["t_ev"][z] = t
        gap_ok = np.isfinite(prev_t) and t - prev_t <= self.settings.max_gap_s
        zs["t_entry"][z] = interpolate_crossing(prev_t, a.pd, t, d) if gap_ok else t
        self.table.push_evidence(z, int(a.fid[f]), reset=True)
        self._maybe_confirm(z, t, float(a.arrival[f]), d, acc)

    def _warn(self, z: int, a: PairArrays, j: int, t: float) -> None:
        """The approach warning, from when the straight track crossed into the buffer (the first
        fix in it may be deeper)."""
        f = int(a.fi[j])
        d = float(a.d[j])
        prev_t = float(a.prev_t[f])
        buffer = float(self.table.z_buffer[z])
        entered = t
        if np.isfinite(prev_t) and t - prev_t <= self.settings.max_gap_s and np.isfinite(a.pd):
            entered = interpolate_crossing(prev_t, a.pd - buffer, t, d - buffer)
        zone = self.table.zones[z]
        self.zs["warn_ep"][z] = self.ledger.open(
            person=zone.person,
            condition=zone.id,
            kind=EventKind.APPROACH_WARNING,
            start=entered,
            trigger=t,
            raised_at=max(float(a.arrival[f]), t),
            fix_ids=[int(a.fid[f])],
            detail={"distance_m": round(max(d, 0.0), 1)},
        )

    def _pending(self, z: int, a: PairArrays, j: int, t: float, cls: int) -> None:
        zs = self.zs
        f = int(a.fi[j])
        d, acc = float(a.d[j]), float(a.acc[f])
        score = self._fix_llr(d, acc, t, float(a.prev_t[f]))
        if cls >= C_LIKELY_IN:
            zs["n_pts"][z] += 1
            zs["evid"][z] += score
            zs["ev_max"][z] = max(float(zs["ev_max"][z]), score)
            zs["t_ev"][z] = t
            self.table.push_evidence(z, int(a.fid[f]))
            self._maybe_confirm(z, t, float(a.arrival[f]), d, acc)
        elif cls == C_UNSURE_OUT:
            # Evidence against: a point outside with a disc overlapping the edge.
            zs["evid"][z] += score
            if zs["evid"][z] < 0:
                zs["st"][z] = IDLE
        else:
            zs["st"][z] = IDLE
            zs["armed"][z] = cls == C_FAR and self._far_enough(z, d, acc)

    def _violation(self, z: int, a: PairArrays, j: int, t: float, cls: int) -> None:
        zs = self.zs
        f = int(a.fi[j])
        d = float(a.d[j])
        if cls >= C_LIKELY_IN:
            zs["n_out"][z] = 0
            zs["t_ev"][z] = t
            return
        if cls > C_BUFFER:
            return
        zs["n_out"][z] += 1
        if zs["n_out"][z] == 1:
            zs["t_exit"][z] = interpolate_crossing(float(a.prev_t[f]), a.pd, t, d)
        if zs["n_out"][z] >= self.settings.exit_fixes:
            raised_at = max(float(a.arrival[f]), t)
            self.ledger.close(int(zs["ep"][z]), float(zs["t_exit"][z]), raised_at, [int(a.fid[f])])
            zs["st"][z] = IDLE
            zs["ep"][z] = -1
            zs["n_out"][z] = 0
            zs["armed"][z] = cls == C_FAR and self._far_enough(z, d, float(a.acc[f]))

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
        return d - acc > float(self.table.z_buffer[z]) + self.settings.approach_rearm_m

    def _maybe_confirm(self, z: int, t: float, arrival: float, d: float, acc: float) -> None:
        """Confirm a pending visit only on corroborated evidence, never on one fix alone.

        A lone fix, however deep and however small its reported accuracy, leaves the visit
        pending (and the tag asked to report faster): multipath outliers look exactly like that.
        """
        zs = self.zs
        confirmed = self._confirmation(z, t)
        if confirmed is None:
            return
        rule, reason = confirmed
        llr = float(zs["evid"][z])
        strongest = float(zs["ev_max"][z])
        zone = self.table.zones[z]
        zs["ep"][z] = self.ledger.open(
            person=zone.person,
            condition=zone.id,
            kind=EventKind.EXCLUSION_ZONE,
            start=float(zs["t_entry"][z]),
            trigger=t,
            raised_at=max(arrival, t),
            fix_ids=self.table.evidence_of(z),
            detail={
                "rule": rule,
                "reason": reason,
                "fixes_inside": int(zs["n_pts"][z]),
                "evidence": round(llr, 3),
                "strongest_fix_evidence": round(strongest, 3),
                "corroborating_evidence": round(llr - strongest, 3),
                "depth_m": round(-d, 1),
                "accuracy_m": round(acc, 1),
            },
        )
        zs["st"][z] = VIOLATION
        zs["n_out"][z] = 0

    def _confirmation(self, z: int, t: float) -> tuple[str, str] | None:
        """Which rule confirms the pending visit, and why in words; None while it stays pending."""
        s = self.settings
        zs = self.zs
        n_pts = int(zs["n_pts"][z])
        llr = float(zs["evid"][z])
        others = llr - float(zs["ev_max"][z])
        dwell = t - float(zs["t_first"][z])
        if (
            n_pts >= max(2, s.confirm_fixes)
            and llr >= s.confirm_llr
            and others >= s.corroborate_llr
        ):
            return "sequential", (
                f"{n_pts} fixes inside; evidence {llr:.2f} reached {s.confirm_llr:g} "
                f"(odds about {math.exp(min(llr, 30.0)):.1f} to 1 that the wearer is inside), "
                f"and without its strongest fix still {others:.2f}, so no single fix decided it"
            )
        if n_pts >= max(3, s.confirm_fixes) and dwell >= s.confirm_dwell_s and others > 0:
            return "dwell", (
                f"{n_pts} fixes inside over {dwell:.0f} s with the evidence still for inside"
            )
        return None

    def _check_transit(self, z: int, a: PairArrays, j: int, t: float) -> None:
        """Sample the straight track between the two fixes and measure how deep it goes."""
        f = int(a.fi[j])
        prev_t = float(a.prev_t[f])
        lon0, lat0 = self._previous_position(z, a, f)
        lon1, lat1 = float(a.lon[f]), float(a.lat[f])
        samples = int(min(400, max(8, float(a.step[f]) / 5.0)))
        frac = np.linspace(0.0, 1.0, samples)
        zi = np.full(samples, z, dtype=np.int64)
        d, _ = signed_distance(
            self.table.compiled, zi, lon0 + (lon1 - lon0) * frac, lat0 + (lat1 - lat0) * frac
        )
        depth = -float(d.min())
        if depth < max(float(a.acc[f]), float(a.prev_acc[f])):
            return
        inside = frac[d < 0]
        zone = self.table.zones[z]
        self.ledger.open(
            person=zone.person,
            condition=zone.id,
            kind=EventKind.POSSIBLE_TRANSIT,
            start=prev_t + (t - prev_t) * float(inside.min()),
            end=prev_t + (t - prev_t) * float(inside.max()),
            trigger=t,
            raised_at=max(float(a.arrival[f]), t),
            fix_ids=[int(a.fid[f])],
            detail={"depth_m": round(depth, 1), "gap_s": round(t - prev_t, 1)},
        )

    def _previous_position(self, z: int, a: PairArrays, f: int) -> tuple[float, float]:
        """The person's previous fix: the one before in the batch, or the remembered one."""
        person = int(self.table.z_person[z])
        if f > 0 and int(a.p[f - 1]) == person:
            return float(a.lon[f - 1]), float(a.lat[f - 1])
        ps = self.persons
        return float(ps["pl_lon"][person]), float(ps["pl_lat"][person])
