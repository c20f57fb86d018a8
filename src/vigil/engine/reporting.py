"""Adaptive reporting: which wearers' tags should report faster, and when that changes.

A wearer's tag should report faster while any active exclusion zone of theirs has a visit
pending (one fix inside, waiting for corroboration) or a violation open, or while their last fix
was inside the zone's buffer (or within ``fast_report_within_m``): that is how a real entry is
confirmed by two or more fixes within a minute without letting one fix decide. The caller turns
the changes into device commands (see docs/engine.md).
"""

from __future__ import annotations

import numpy as np

from vigil.engine.batch import INF
from vigil.engine.model import EngineSettings, Plan, ZoneKind
from vigil.engine.zone_table import IDLE, ZoneTable


class AdaptiveReporting:
    def __init__(self, plan: Plan, table: ZoneTable, settings: EngineSettings) -> None:
        self.plan = plan
        self.table = table
        self.settings = settings
        count = len(plan.persons)
        # Persons whose tags were last asked to report faster, and until when that holds.
        self.fast_wanted = np.zeros(count, dtype=bool)
        self.fast_until = np.full(count, -INF)

    def changes(self, clock: float) -> list[tuple[str, bool]]:
        """Tags whose wanted reporting rate changed since the last call: (device, fast)."""
        table = self.table
        if not len(table):
            return []
        zs = table.zs
        near = np.maximum(table.z_buffer, self.settings.fast_report_within_m)
        with np.errstate(invalid="ignore"):
            want_zone = (
                (table.z_kind == ZoneKind.EXCLUSION)
                & zs["active"]
                & ((zs["st"] != IDLE) | (zs["d_last"] <= near))
            )
        want = np.bincount(table.z_person, weights=want_zone, minlength=len(self.fast_wanted)) > 0
        # Hold the faster rate for a while: a wearer living at a buffer's edge would otherwise
        # have his tag switched back and forth each time noise carries a fix across it.
        self.fast_until[want] = clock + self.settings.fast_report_hold_s
        want |= self.fast_wanted & (clock < self.fast_until)
        changed = np.flatnonzero(want != self.fast_wanted)
        self.fast_wanted[changed] = want[changed]
        return [
            (device, bool(want[person]))
            for person in changed.tolist()
            for device in self.plan.persons[person].devices
        ]
