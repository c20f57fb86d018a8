"""Checkpoints and recent fixes, so a late fix can rewind its person and replay in order.

A checkpoint copies every machine's state once a minute of engine clock (``checkpoint_every_s``);
the history keeps the fixes evaluated in the last ``history_s``. A late fix restores its person
from the newest checkpoint before it, and the person's fixes since are evaluated again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.engine.batch import INF, BoolArray, IntArray
from vigil.engine.model import EngineSettings
from vigil.engine.pairs import Rows, empty_rows, select
from vigil.engine.person_state import PersonColumns
from vigil.engine.zone_table import ZoneTable


@dataclass
class _Snapshot:
    clock: float
    zones: dict[str, npt.NDArray[Any]]
    evidence: IntArray
    persons: dict[str, npt.NDArray[Any]]
    valid: BoolArray  # per person: later rewinds of a person invalidate its newer checkpoints


@dataclass
class _History:
    clock: float
    rows: Rows  # sorted by (person, time)


class Checkpoints:
    def __init__(self, table: ZoneTable, persons: PersonColumns, settings: EngineSettings) -> None:
        self.table = table
        self.persons = persons
        self.settings = settings
        self.snapshots: list[_Snapshot] = []
        self.history: list[_History] = []
        # Fixes that arrived up to this clock are no longer in the history.
        self.history_pruned_clock = -INF

    def take(self, clock: float, force: bool = False) -> None:
        if (
            not force
            and self.snapshots
            and clock - self.snapshots[-1].clock < self.settings.checkpoint_every_s
        ):
            return
        self.snapshots.append(
            _Snapshot(
                clock,
                {name: column.copy() for name, column in self.table.zs.items()},
                self.table.evidence.copy(),
                {name: column.copy() for name, column in self.persons.items()},
                np.ones(len(self.table.zstart), dtype=bool),
            )
        )
        horizon = clock - self.settings.history_s
        # Keep the first (start of watching) and those within the history horizon.
        while len(self.snapshots) > 2 and self.snapshots[1].clock < horizon:
            self.snapshots.pop(1)

    def restart(self, clock: float) -> None:
        """Stored state replaced what start-up assumed: checkpoints start again from here."""
        self.snapshots.clear()
        self.take(clock, force=True)

    def record(self, rows: Rows, rewound: BoolArray, clock: float) -> None:
        """Keep evaluated fixes (sorted by person, time) so a late fix can replay its person.

        A rewound person's earlier fixes are in the history already; only their new ones are added.
        """
        if rewound.any():
            fresh = ~rewound[rows["p"]] | ~np.isin(rows["fid"], self._history_ids(rewound))
            rows = select(rows, fresh)
        self.history.append(_History(clock, rows))
        horizon = clock - self.settings.history_s
        while self.history and self.history[0].clock < horizon:
            self.history_pruned_clock = max(self.history_pruned_clock, self.history.pop(0).clock)

    def rewind(self, person: int, earliest: float) -> Rows | None:
        """Restore ``person`` to the newest checkpoint before ``earliest``; return fixes since.

        None when no checkpoint is old enough, or fixes after it have left the history
        (replaying would lose them)."""
        chosen = self._newest_before(person, earliest)
        if chosen < 0:
            return None
        snap = self.snapshots[chosen]
        since = float(snap.persons["p_time"][person])
        if since < self.history_pruned_clock:
            return None
        span = self.table.span(person)
        for name, column in self.table.zs.items():
            column[span.start : span.stop] = snap.zones[name][span.start : span.stop]
        self.table.evidence[span.start : span.stop] = snap.evidence[span.start : span.stop]
        for name, column in self.persons.items():
            column[person] = snap.persons[name][person]
        self.table.refresh_person(person)
        for later in self.snapshots[chosen + 1 :]:
            later.valid[person] = False
        return self._fixes_since(person, since)

    def _newest_before(self, person: int, earliest: float) -> int:
        for index in range(len(self.snapshots) - 1, -1, -1):
            snap = self.snapshots[index]
            if snap.valid[person] and snap.persons["p_time"][person] <= earliest:
                return index
        return -1

    def _fixes_since(self, person: int, since: float) -> Rows:
        parts = []
        for item in self.history:
            ps = item.rows["p"]
            lo = int(np.searchsorted(ps, person, side="left"))
            hi = int(np.searchsorted(ps, person, side="right"))
            if hi > lo:
                sl = select(item.rows, slice(lo, hi))
                parts.append(select(sl, sl["t"] > since))
        if not parts:
            return empty_rows()
        return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}

    def _history_ids(self, persons: BoolArray) -> IntArray:
        ids = [item.rows["fid"][persons[item.rows["p"]]] for item in self.history]
        return np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
