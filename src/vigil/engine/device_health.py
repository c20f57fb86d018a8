"""Device health: communication, alarms, battery, GPS and alcohol, per wearer's device.

Most rows only move a device's last-communication and last-position times, done in arrays; a
device's rows go through Python (in order, see DeviceRules) only from its first row that carries
something: an alarm, a low battery, a gap, no position, an alcohol reading, or an open episode.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vigil.engine.batch import BoolArray, FixBatch, FloatArray, IntArray, group_order
from vigil.engine.device_directory import DeviceDirectory
from vigil.engine.device_rules import DeviceRules, DeviceState
from vigil.engine.events import EventKind
from vigil.engine.ledger import Ledger
from vigil.engine.model import AlcoholCondition, EngineSettings
from vigil.engine.zone_table import ZoneTable


class DeviceHealth:
    def __init__(
        self,
        *,
        persons: list[str],
        devices: DeviceDirectory,
        alcohol: dict[int, list[AlcoholCondition]],
        table: ZoneTable,
        settings: EngineSettings,
        ledger: Ledger,
        dirty_devices: set[int],
    ) -> None:
        self.persons = persons
        self.directory = devices
        self.device_names = devices.names
        self.alcohol = alcohol
        self.table = table
        self.settings = settings
        self.ledger = ledger
        self.dirty_devices = dirty_devices
        self.devices: list[DeviceState] = []

    def start(self, at: float) -> None:
        device_person = self.directory.person
        self.devices = [DeviceState(person) for person in device_person]
        count = len(self.devices)
        # Hot per-device columns live in arrays (one spare slot for unknown devices).
        self.comm = np.full(count + 1, at)  # latest communication (engine clock)
        self.gps = np.full(count + 1, at)  # latest good position (fix time)
        self.busy = np.zeros(count + 1, dtype=bool)  # an episode open or a run in progress
        self.wearer_device = np.append(np.asarray(device_person, dtype=np.int64) >= 0, False)
        self.rules = DeviceRules(self)

    def step(
        self, batch: FixBatch, dev: IntArray, person: IntArray, arrival: FloatArray, bad: BoolArray
    ) -> None:
        """Every row of a batch, in arrival order."""
        python_rows = self._python_rows(batch, dev, person, arrival, bad)
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
            index = int(dev[r])
            if person[r] >= 0:
                self.rules.row(batch, r, index, float(arrival[r]), bool(bad[r]))
            else:
                self.comm[index] = max(float(self.comm[index]), float(arrival[r]))

    def _python_rows(
        self, batch: FixBatch, dev: IntArray, person: IntArray, arrival: FloatArray, bad: BoolArray
    ) -> BoolArray:
        """Rows from each device's first interesting row on: an episode opened mid-batch is then
        also closed mid-batch; rows before it only move times."""
        s = self.settings
        wearer = person >= 0
        interesting = wearer & (self.busy[dev] | bad)
        if batch.has_alarm is not None:
            interesting |= wearer & batch.has_alarm
        if batch.battery is not None:
            with np.errstate(invalid="ignore"):
                interesting |= wearer & (batch.battery <= s.battery_recover_pct)
        if batch.alcohol is not None and self.alcohol:
            interesting |= wearer & np.isfinite(batch.alcohol)
        interesting |= wearer & self._communication_gaps(dev, arrival)
        slots = len(self.devices) + 1
        dev_slot = np.where(dev >= 0, dev, slots - 1)
        first_row = np.full(slots, dev.shape[0], dtype=np.int64)
        np.minimum.at(first_row, dev_slot[interesting], np.flatnonzero(interesting))
        python_rows: BoolArray = np.arange(dev.shape[0]) >= first_row[dev_slot]
        return python_rows

    def _communication_gaps(self, dev: IntArray, arrival: FloatArray) -> BoolArray:
        """Rows that arrived longer than ``no_communication_s`` after their device's previous one
        (rows are in arrival order)."""
        order = group_order(np.where(dev >= 0, dev, len(self.devices)))
        sd = dev[order]
        sa = arrival[order]
        prev = np.empty_like(sa)
        prev[1:] = sa[:-1]
        head = np.ones(sd.shape[0], dtype=bool)
        head[1:] = sd[1:] != sd[:-1]
        prev[head] = self.comm[sd[head]]
        gap = np.zeros(dev.shape[0], dtype=bool)
        gap[order] = sa - prev > self.settings.no_communication_s
        return gap

    def timers(self, now: float) -> None:
        """Open a no-communication episode for each wearer's device silent too long."""
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

    def due(self, index: int) -> float | None:
        device = self.devices[index]
        if device.person < 0 or device.nocomm_ep >= 0:
            return None
        return float(self.comm[index]) + self.settings.no_communication_s

    def state_json(self, index: int) -> dict[str, Any]:
        device = self.devices[index]
        ref = self.ledger.ref
        return {
            "last_comm": float(self.comm[index]),
            "last_gps": float(self.gps[index]),
            "nocomm": ref(device.nocomm_ep),
            "nogps": ref(device.nogps_ep),
            "battery": ref(device.battery_ep),
            "alarms": {k: ref(v) for k, v in device.alarm_eps.items()},
            "alcohol_run": dict(device.alcohol_run),
            "alcohol": {k: ref(v) for k, v in device.alcohol_eps.items()},
        }

    def restore(self, index: int, data: dict[str, Any]) -> None:
        device = self.devices[index]
        find = self.ledger.find
        self.comm[index] = float(data.get("last_comm", self.comm[index]))
        self.gps[index] = float(data.get("last_gps", self.gps[index]))
        device.nocomm_ep = find(data.get("nocomm"))
        device.nogps_ep = find(data.get("nogps"))
        device.battery_ep = find(data.get("battery"))
        device.alarm_eps = {k: i for k, v in data.get("alarms", {}).items() if (i := find(v)) >= 0}
        device.alcohol_run = {k: float(v) for k, v in data.get("alcohol_run", {}).items()}
        device.alcohol_eps = {
            k: i for k, v in data.get("alcohol", {}).items() if (i := find(v)) >= 0
        }
        self.busy[index] = device.busy
