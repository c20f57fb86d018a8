"""Zone timers: a timetabled zone's window opening (after its grace) and closing.

Each zone holds one deadline: CHECK when its next window starts (an inclusion zone's person
must be present by then), END when the window ends. Fixes fire the timers due before them,
in fix-time order; the engine's clock fires the rest.
"""

from __future__ import annotations

import numpy as np

from vigil.engine.batch import INF
from vigil.engine.inclusion import InclusionMachine
from vigil.engine.ledger import Ledger
from vigil.engine.model import ZoneKind
from vigil.engine.person_state import PersonColumns
from vigil.engine.zone_table import ABSENT, IDLE, PRESENT, ZoneTable

CHECK, END = 1, 2


class ZoneTimers:
    def __init__(
        self,
        table: ZoneTable,
        persons: PersonColumns,
        ledger: Ledger,
        inclusion: InclusionMachine,
        dirty_persons: set[int],
    ) -> None:
        self.table = table
        self.zs = table.zs
        self.persons = persons
        self.ledger = ledger
        self.inclusion = inclusion
        self.dirty_persons = dirty_persons

    def arm(self, at: float) -> None:
        """Watching begins at ``at``: each timetabled zone waits for its current or next window."""
        for z, timetable in enumerate(self.table.z_timetable):
            if timetable is None:
                continue
            grace = self.table.grace_s(z)
            window = timetable.window_at(at)
            self.zs["active"][z] = False
            if window is not None:
                start = max(window.start + grace, at + grace)
                self._set(z, CHECK, start, window.start, window.end)
            else:
                self._schedule_next(z, at)
            self.table.set_q(z)

    def fire(self, z: int, until: float, floor: float) -> None:
        """Fire the zone's timers due up to ``until``; what they raise is raised no earlier than
        ``floor`` (a rewound person's late fix arrival)."""
        zs = self.zs
        if zs["deadline"][z] <= until:
            self.dirty_persons.add(int(self.table.z_person[z]))
        while zs["deadline"][z] <= until:
            at = float(zs["deadline"][z])
            person = int(self.table.z_person[z])
            self.persons["p_time"][person] = max(float(self.persons["p_time"][person]), at)
            if int(zs["dkind"][z]) == CHECK:
                self._window_opens(z, at, max(at, floor))
            else:
                self._window_closes(z, at, max(at, floor))
            self.table.set_q(z)

    def fire_due(self, now: float) -> None:
        for z in np.flatnonzero(self.zs["deadline"] <= now).tolist():
            self.fire(z, now, -INF)

    def _window_opens(self, z: int, at: float, raised_at: float) -> None:
        zs = self.zs
        w_start, w_end = float(zs["w_start"][z]), float(zs["w_end"][z])
        zs["active"][z] = True
        self._set(z, END, w_end, w_start, w_end)
        if self.table.z_kind[z] != ZoneKind.INCLUSION or zs["st"][z] == PRESENT or zs["ep"][z] >= 0:
            return
        # Not seen inside by the check: away since the window began, watching began, or he left.
        person = int(self.table.z_person[z])
        start = max(w_start, float(self.persons["since"][person]))
        if zs["st"][z] == ABSENT and np.isfinite(zs["t_leave"][z]):
            start = max(start, float(zs["t_leave"][z]))
        self.inclusion.open(z, min(start, at), at, raised_at)

    def _window_closes(self, z: int, at: float, raised_at: float) -> None:
        zs = self.zs
        zs["active"][z] = False
        if zs["ep"][z] >= 0:
            self.ledger.close(int(zs["ep"][z]), at, raised_at)
            zs["ep"][z] = -1
        if self.table.z_kind[z] == ZoneKind.EXCLUSION:
            zs["st"][z] = IDLE
            zs["n_out"][z] = 0
            zs["armed"][z] = True
        self._schedule_next(z, at)

    def _set(self, z: int, kind: int, at: float, w_start: float, w_end: float) -> None:
        self.zs["deadline"][z] = at
        self.zs["dkind"][z] = kind
        self.zs["w_start"][z] = w_start
        self.zs["w_end"][z] = w_end
        self.table.refresh_person(int(self.table.z_person[z]))

    def _schedule_next(self, z: int, after: float) -> None:
        timetable = self.table.z_timetable[z]
        assert timetable is not None
        window = timetable.next_window(after)
        if window is None:
            self._set(z, 0, INF, np.nan, np.nan)
            return
        grace = self.table.grace_s(z)
        self._set(z, CHECK, window.start + grace, window.start, window.end)
