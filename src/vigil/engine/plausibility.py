"""Which fixes a person could not have reached from their last plausible one."""

from __future__ import annotations

import math

import numpy as np

from vigil.engine.batch import BoolArray
from vigil.engine.model import EngineSettings
from vigil.engine.pairs import Rows
from vigil.engine.person_state import PersonColumns, TrackPoint, track_point
from vigil.geo.projection import step_metres
from vigil.tracking.quality import off_track

_NO_POINT: TrackPoint = (math.nan, math.nan, math.nan, math.nan)


def implausible(
    jumps: BoolArray, rows: Rows, first: BoolArray, ps: PersonColumns, settings: EngineSettings
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
    p = rows["p"]
    suspect_before = ~np.isnan(ps["su_t"][p]) & first
    walk = set(p[jumps | suspect_before].tolist())
    if not walk:
        return flagged
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], n)
    for begin, end in zip(starts.tolist(), ends.tolist(), strict=True):
        person = int(p[begin])
        if person in walk:
            _walk_person(person, range(begin, end), rows, flagged, ps, settings)
    return flagged


def _walk_person(
    person: int,
    fixes: range,
    rows: Rows,
    flagged: BoolArray,
    ps: PersonColumns,
    settings: EngineSettings,
) -> None:
    t, lon, lat, acc, bad = rows["t"], rows["lon"], rows["lat"], rows["acc"], rows["bad"]

    def speed(a: TrackPoint, j: int) -> float:
        step = float(
            step_metres(np.array([a[1]]), np.array([a[2]]), lon[j : j + 1], lat[j : j + 1])[0]
        )
        return max(step - a[3] - float(acc[j]), 0.0) / max(float(t[j]) - a[0], 1.0)

    anchor = track_point(ps, "pl", person)
    suspect = track_point(ps, "su", person)
    for j in fixes:
        if bad[j]:
            continue
        here = (float(t[j]), float(lon[j]), float(lat[j]), float(acc[j]))
        if math.isnan(anchor[0]):
            anchor = here
            continue
        to_suspect = None if math.isnan(suspect[0]) else speed(suspect, j)
        elapsed = here[0] - anchor[0]
        if off_track(
            speed(anchor, j),
            to_suspect,
            elapsed,
            settings.max_speed_mps,
            settings.implausible_settle_s,
        ):
            flagged[j] = True
            suspect = here
        else:
            anchor = here
            suspect = _NO_POINT
    for key, value in zip(("su_t", "su_lon", "su_lat", "su_acc"), suspect, strict=True):
        ps[key][person] = value
