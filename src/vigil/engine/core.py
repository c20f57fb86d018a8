"""The engine: one object that watches every person of a plan, behind ``process`` and ``advance``.

One call to :meth:`Engine.process` takes a micro-batch of fixes (any order) and:

1. evaluates zone conditions (:mod:`vigil.engine.zone_pass`): fixes sorted by (person, fix
   time), each paired with its person's zones and classified at once, and the zone machines
   (:mod:`~vigil.engine.exclusion`, :mod:`~vigil.engine.inclusion`) stepped in Python only where
   a class matters in the machine's current state. Almost every fix changes nothing;
2. updates device health (:mod:`vigil.engine.device_health`): communication, alarms, battery,
   GPS, alcohol — Python only for the few rows that carry something;
3. checks proximity conditions against a fresh position of the other device
   (:mod:`vigil.engine.proximity`);
4. fires timers (curfew windows, no-communication deadlines) up to the engine's clock.

A fix older than what its person's machines have already seen is *late*: the person is rewound to
the newest checkpoint before it (:mod:`vigil.engine.checkpoints`) and their fixes since are
evaluated again, in fix-time order. The ledger (:mod:`vigil.engine.ledger`) recognises episodes
already raised, so nothing is duplicated, and what the late data reveals is raised as
retrospective.

Times are float seconds since the epoch, UTC.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.engine.batch import INF, BoolArray, EngineStats, FixBatch, IntArray, group_order
from vigil.engine.checkpoints import Checkpoints
from vigil.engine.device_directory import DeviceDirectory
from vigil.engine.device_health import DeviceHealth
from vigil.engine.device_rules import DeviceState
from vigil.engine.events import EventKind
from vigil.engine.exclusion import ExclusionMachine
from vigil.engine.inclusion import InclusionMachine
from vigil.engine.ledger import Ledger
from vigil.engine.model import EngineSettings, Plan, ZoneKind
from vigil.engine.pairs import Rows, select
from vigil.engine.person_state import import_person, person_columns, person_state_json
from vigil.engine.proximity import ProximityWatch
from vigil.engine.reporting import AdaptiveReporting
from vigil.engine.zone_pass import ZonePass
from vigil.engine.zone_table import ZoneTable
from vigil.engine.zone_timers import ZoneTimers

__all__ = ["Engine", "FixBatch"]


class Engine:
    """Watches every person of a plan. Feed it batches; read episodes and events from its ledger."""

    def __init__(self, plan: Plan, start: float | None = None) -> None:
        self.plan = plan
        self.settings: EngineSettings = plan.settings
        self.ledger = Ledger(self.settings.late_after_s, self.settings.max_gap_s)
        self.stats = EngineStats()
        self.clock = -INF
        self.started = False
        self.persons = [person.id for person in plan.persons]
        self.person_index = {pid: index for index, pid in enumerate(self.persons)}
        # Persons and devices whose machines moved since the state was last stored.
        self.dirty_persons: set[int] = set()
        self.dirty_devices: set[int] = set()
        self.directory = DeviceDirectory()
        for p_index, person in enumerate(plan.persons):
            for device in person.devices:
                self.directory.add(device, p_index)
        self.table = ZoneTable(plan.persons)
        self.zs = self.table.zs
        self.ps = person_columns(len(self.persons))
        self._build_parts()
        for name in self.proximity.by_device:
            self.directory.add(name, -1)
        self.device_index = self.directory.index
        self.device_names = self.directory.names
        self.device_person = self.directory.person
        self.device_person_array = self.directory.person_array()
        if start is not None:
            self.start(start)

    def _build_parts(self) -> None:
        settings, ledger, table, ps = self.settings, self.ledger, self.table, self.ps
        inclusion = InclusionMachine(table, settings, ledger)
        self.timers = ZoneTimers(table, ps, ledger, inclusion, self.dirty_persons)
        self.zone_pass = ZonePass(
            table,
            ps,
            settings,
            self.timers,
            ExclusionMachine(table, ps, settings, ledger),
            inclusion,
            self.dirty_persons,
            self.stats,
        )
        self.checkpoints = Checkpoints(table, ps, settings)
        self.proximity = ProximityWatch(
            list(self.plan.persons), self.directory, settings, ledger, self.dirty_persons
        )
        self.health = DeviceHealth(
            persons=self.persons,
            devices=self.directory,
            alcohol={
                p_index: list(person.alcohol)
                for p_index, person in enumerate(self.plan.persons)
                if person.alcohol
            },
            table=table,
            settings=settings,
            ledger=ledger,
            dirty_devices=self.dirty_devices,
        )
        self.reporting = AdaptiveReporting(self.plan, table, settings)

    @property
    def devices(self) -> list[DeviceState]:
        return self.health.devices

    def start(self, at: float) -> None:
        """Begin watching at ``at``: arm timetables and communication deadlines from there."""
        if self.started:
            return
        self.started = True
        self.clock = max(self.clock, at)
        self.health.start(at)
        self.ps["since"][:] = at
        self.timers.arm(at)
        self.checkpoints.take(self.clock, force=True)

    # ------------------------------------------------------------------ entry points

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
        dev = self.directory.lookup(batch.device_names)[batch.device_codes]
        self.stats.unknown_devices += int(n - np.count_nonzero(dev >= 0))
        person = self.device_person_array[dev]
        acc = np.where(
            np.isfinite(batch.acc) & (batch.acc > 0), batch.acc, self.settings.default_accuracy_m
        )
        bad = self._bad_positions(batch, acc)
        self.clock = max(self.clock, float(arrival.max()))
        rows = self._zoned_rows(batch, person, arrival, acc, bad)
        if rows is not None:
            self._zones(rows)
        # After the zones, so "no GPS near an exclusion zone" knows the last distances.
        self.health.step(batch, dev, person, arrival, bad)
        if self.proximity.conditions:
            self.proximity.step(batch, dev, person, arrival, acc, bad)
        self._tick()

    def _bad_positions(self, batch: FixBatch, acc: npt.NDArray[np.float64]) -> BoolArray:
        """Rows whose position says nothing: none, out of range, (0, 0), too coarse, flagged."""
        has_pos = np.isfinite(batch.lon) & np.isfinite(batch.lat)
        bad: BoolArray = ~has_pos | (np.abs(batch.lat) > 90) | (np.abs(batch.lon) > 180)
        bad |= (batch.lat == 0) & (batch.lon == 0)
        bad |= acc > self.settings.max_accuracy_m
        if batch.approximate is not None:
            bad |= batch.approximate
        if batch.valid is not None:
            bad |= ~batch.valid
        return bad

    def _zoned_rows(
        self,
        batch: FixBatch,
        person: IntArray,
        arrival: npt.NDArray[np.float64],
        acc: npt.NDArray[np.float64],
        bad: BoolArray,
    ) -> Rows | None:
        """Rows with a position of persons with zones, sorted by (person, fix time)."""
        zoned = (person >= 0) & np.isfinite(batch.lon) & np.isfinite(batch.lat)
        if len(self.table):
            zoned &= self.table.zcount[np.maximum(person, 0)] > 0
        else:
            zoned[:] = False
        rows = np.flatnonzero(zoned)
        if not rows.size:
            return None
        # A stable sort by person keeps arrival order, which is time order unless something
        # arrived out of order (then sort by time as well).
        rp = person[rows]
        rt = batch.t[rows]
        order = group_order(rp)
        sp = rp[order]
        st = rt[order]
        if np.any((sp[1:] == sp[:-1]) & (st[1:] < st[:-1])):
            order = np.lexsort((rt, rp))
        rows = rows[order]
        return {
            "p": person[rows],
            "t": batch.t[rows],
            "lon": batch.lon[rows],
            "lat": batch.lat[rows],
            "acc": acc[rows],
            "bad": bad[rows],
            "arrival": arrival[rows],
            "fid": batch.fix_id[rows],
        }

    def advance(self, now: float) -> None:
        """Move the clock with no fixes (live timer tick, or the end of a replay)."""
        if not self.started:
            self.start(now)
        self.clock = max(self.clock, now)
        self._tick()

    def _tick(self) -> None:
        self.timers.fire_due(self.clock)
        self.health.timers(self.clock)
        self.checkpoints.take(self.clock)

    def reporting_changes(self) -> list[tuple[str, bool]]:
        """Tags whose wanted reporting rate changed since the last call: (device, fast).
        See :class:`vigil.engine.reporting.AdaptiveReporting`."""
        return self.reporting.changes(self.clock)

    # ------------------------------------------------------------------ late fixes

    def _zones(self, rows: Rows) -> None:
        p = rows["p"]
        late = rows["t"] < self.ps["p_time"][p]
        rewound = np.zeros(len(self.persons), dtype=bool)
        # What a rewound person's earlier fixes raise now is raised when their late fix arrived.
        floor = np.full(len(self.persons), -INF)
        if late.any():
            rows = self._rewind_late(rows, late, rewound, floor)
        self.checkpoints.record(rows, rewound, self.clock)
        self.zone_pass.run(rows, floor)
        for person in np.flatnonzero(rewound).tolist():
            self._withdraw_orphans(person, float(floor[person]))

    def _rewind_late(
        self, rows: Rows, late: BoolArray, rewound: BoolArray, floor: npt.NDArray[np.float64]
    ) -> Rows:
        """Rewind each person with a late fix; their fixes since the checkpoint join the batch."""
        p = rows["p"]
        self.stats.late_fixes += int(np.count_nonzero(late))
        arrived = np.full(len(self.persons), INF)
        np.minimum.at(arrived, p, rows["arrival"])
        extra = []
        kept = np.ones(p.shape[0], dtype=bool)
        for person in np.unique(p[late]).tolist():
            mine = p == person
            history = self.checkpoints.rewind(person, float(rows["t"][mine].min()))
            if history is None:
                # Older than every checkpoint: kept as evidence, it cannot move state.
                self.stats.too_late += int(np.count_nonzero(mine & late))
                kept &= ~(mine & late)
                continue
            self.stats.rewinds += 1
            rewound[person] = True
            floor[person] = arrived[person]
            history["arrival"] = np.maximum(history["arrival"], arrived[person])
            extra.append(history)
        joined = {key: np.concatenate([rows[key][kept], *[h[key] for h in extra]]) for key in rows}
        return select(joined, np.lexsort((joined["t"], joined["p"])))

    def _withdraw_orphans(self, person: int, raised_at: float) -> None:
        """Close zone episodes the re-evaluation no longer finds (e.g. a curfew check that saw
        the wearer away, when late fixes show he was home): kept, never deleted, but ended at
        their start and marked withdrawn, so no alert stays open on evidence that fell away."""
        span = self.table.span(person)
        held = {int(i) for i in self.zs["ep"][span.start : span.stop] if i >= 0}
        for z in span:
            zone = self.table.zones[z]
            kinds = (
                (EventKind.EXCLUSION_ZONE,)
                if self.table.z_kind[z] == ZoneKind.EXCLUSION
                else (EventKind.CURFEW, EventKind.INCLUSION_ZONE)
            )
            for kind in kinds:
                for index in self.ledger.open_indices(zone.person, zone.id, kind):
                    if index not in held:
                        self.ledger.withdraw(index, raised_at)

    # ------------------------------------------------------------------ stored state

    def person_state_json(self, person: int) -> dict[str, Any]:
        """A person's machines as JSON-ready data, keyed by condition id (survives plan changes)."""
        return {
            "person": person_state_json(self.ps, person),
            "zones": self.table.person_state_json(person, self.ledger.ref),
            "proximity": self.proximity.person_state_json(person),
        }

    def import_person(self, person: int, data: dict[str, Any]) -> None:
        self.table.import_person(person, data.get("zones", {}), self.ledger.find)
        import_person(self.ps, person, data.get("person", {}))
        self.proximity.restore_person(person, data.get("proximity", {}))
        self.table.refresh_person(person)

    def device_state_json(self, index: int) -> dict[str, Any]:
        return self.health.state_json(index)

    def import_device(self, index: int, data: dict[str, Any]) -> None:
        self.health.restore(index, data)

    def next_due(self, person: int) -> float | None:
        return self.table.next_due(person)

    def device_due(self, index: int) -> float | None:
        return self.health.due(index)

    def after_restore(self) -> None:
        """Stored state replaces what start-up assumed; checkpoints start again from here."""
        self.checkpoints.restart(self.clock)
