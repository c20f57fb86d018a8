"""The inclusion machine (an inclusion zone or a curfew address): present, absent or unknown.

Absence is decided by ``absence_fixes`` fixes clearly outside; inside an active window it opens
a violation from when the wearer left (or the window began), which the next fix inside closes.
"""

from __future__ import annotations

import numpy as np

from vigil.engine.events import EventKind
from vigil.engine.ledger import Ledger
from vigil.engine.model import EngineSettings
from vigil.engine.pairs import PairArrays
from vigil.engine.zone_table import (
    ABSENT,
    C_LIKELY_IN,
    C_NEUTRAL,
    C_UNSURE_OUT,
    PRESENT,
    ZoneTable,
    interpolate_crossing,
)


class InclusionMachine:
    def __init__(self, table: ZoneTable, settings: EngineSettings, ledger: Ledger) -> None:
        self.table = table
        self.zs = table.zs
        self.settings = settings
        self.ledger = ledger

    def step(self, z: int, a: PairArrays, j: int, t: float) -> None:
        """One fix of the zone's person, in fix-time order."""
        cls = int(a.cls[j])
        if cls in (C_NEUTRAL, C_UNSURE_OUT):
            return
        zs = self.zs
        f = int(a.fi[j])
        fid = int(a.fid[f])
        raised_at = max(float(a.arrival[f]), t)
        if cls >= C_LIKELY_IN:
            if zs["st"][z] != PRESENT and zs["ep"][z] >= 0:
                back = interpolate_crossing(float(a.prev_t[f]), a.pd, t, float(a.d[j]))
                self.ledger.close(int(zs["ep"][z]), back, raised_at, [fid])
                zs["ep"][z] = -1
            zs["st"][z] = PRESENT
            zs["n_out"][z] = 0
            return
        # Clearly outside.
        zs["n_out"][z] += 1
        if zs["n_out"][z] == 1:
            zs["t_leave"][z] = interpolate_crossing(float(a.prev_t[f]), a.pd, t, float(a.d[j]))
            self.table.push_evidence(z, fid, reset=True)
        else:
            self.table.push_evidence(z, fid)
        if zs["n_out"][z] >= self.settings.absence_fixes:
            zs["st"][z] = ABSENT
            if zs["active"][z] and zs["ep"][z] < 0:
                start = float(zs["t_leave"][z])
                if np.isfinite(zs["w_start"][z]):
                    start = max(start, float(zs["w_start"][z]))
                self.open(z, start, t, raised_at)

    def open(self, z: int, start: float, trigger: float, raised_at: float) -> None:
        """Open the zone's violation (a curfew or an inclusion zone, by the condition)."""
        zone = self.table.zones[z]
        kind = EventKind.CURFEW if zone.event_kind == "curfew" else EventKind.INCLUSION_ZONE
        self.zs["ep"][z] = self.ledger.open(
            person=zone.person,
            condition=zone.id,
            kind=kind,
            start=start,
            trigger=trigger,
            raised_at=raised_at,
            fix_ids=self.table.evidence_of(z),
        )
