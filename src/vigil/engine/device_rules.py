"""One row of a wearer's device, in arrival order: what it opens and closes.

Communication (a gap longer than ``no_communication_s`` is an episode, even if already over),
alarms (strap removed, tamper, SOS: moments, re-armed by a row without them), battery (low below
``battery_low_pct``, recovered above ``battery_recover_pct``), GPS (no good position for
``no_gps_s``; high severity near an exclusion zone) and sustained alcohol readings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from vigil.engine.batch import FixBatch
from vigil.engine.events import EventKind

if TYPE_CHECKING:
    from vigil.engine.device_health import DeviceHealth

ALARM_KINDS = {
    "strap_removed": EventKind.STRAP_REMOVED,
    "tamper": EventKind.TAMPER,
    "sos": EventKind.SOS,
}


@dataclass
class DeviceState:
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


@dataclass(frozen=True)
class _Row:
    """The row being applied: its device, fix time, fix id and arrival (the engine's clock)."""

    index: int
    device: DeviceState
    name: str
    person: str
    t: float
    fid: int
    now: float

    @property
    def raised_at(self) -> float:
        return max(self.now, self.t)


class DeviceRules:
    def __init__(self, health: DeviceHealth) -> None:
        self.health = health
        self.settings = health.settings
        self.ledger = health.ledger

    def row(self, batch: FixBatch, r: int, index: int, now: float, bad: bool) -> None:
        health = self.health
        device = health.devices[index]
        health.dirty_devices.add(index)
        row = _Row(
            index=index,
            device=device,
            name=health.device_names[index],
            person=health.persons[device.person],
            t=float(batch.t[r]),
            fid=int(batch.fix_id[r]),
            now=now,
        )
        self._communication(row)
        self._alarms(row, batch.alarms[r] if batch.alarms is not None else "")
        if batch.battery is not None and np.isfinite(batch.battery[r]):
            self._battery(row, float(batch.battery[r]))
        self._gps(row, bad)
        if batch.alcohol is not None and np.isfinite(batch.alcohol[r]):
            self._alcohol(row, float(batch.alcohol[r]))
        health.busy[index] = device.busy

    def _communication(self, row: _Row) -> None:
        s = self.settings
        comm = self.health.comm
        last = float(comm[row.index])
        if row.device.nocomm_ep >= 0:
            self.ledger.close(row.device.nocomm_ep, row.now, row.now, [row.fid])
            row.device.nocomm_ep = -1
        elif row.now - last > s.no_communication_s:
            # Silent too long between two rows of one batch: the episode is already over.
            episode = self.ledger.open(
                person=row.person,
                condition=None,
                kind=EventKind.NO_COMMUNICATION,
                start=last,
                trigger=last + s.no_communication_s,
                raised_at=last + s.no_communication_s,
                device=row.name,
            )
            self.ledger.close(episode, row.now, row.now, [row.fid])
        comm[row.index] = max(last, row.now)

    def _alarms(self, row: _Row, text: str) -> None:
        alarms: set[str] = set()
        if text:
            alarms = {item.strip().lower() for item in text.replace(",", ";").split(";")}
        eps = row.device.alarm_eps
        for alarm, kind in ALARM_KINDS.items():
            if alarm in alarms and alarm not in eps:
                eps[alarm] = self.ledger.open(
                    person=row.person,
                    condition=None,
                    kind=kind,
                    start=row.t,
                    trigger=row.t,
                    raised_at=row.raised_at,
                    device=row.name,
                    fix_ids=[row.fid],
                )
            elif alarm not in alarms and alarm in eps:
                # Devices repeat an alarm while it lasts, or send it once: either way the event
                # is a moment (ended by people, not by the tag); a row without it re-arms it.
                eps.pop(alarm)

    def _battery(self, row: _Row, level: float) -> None:
        s = self.settings
        device = row.device
        if level <= s.battery_low_pct and device.battery_ep < 0:
            device.battery_ep = self.ledger.open(
                person=row.person,
                condition=None,
                kind=EventKind.BATTERY_LOW,
                start=row.t,
                trigger=row.t,
                raised_at=row.raised_at,
                device=row.name,
                fix_ids=[row.fid],
                detail={
                    "battery_pct": level,
                    "severity": "critical" if level <= s.battery_critical_pct else "low",
                },
            )
        elif level >= s.battery_recover_pct and device.battery_ep >= 0:
            self.ledger.close(device.battery_ep, row.t, row.raised_at, [row.fid])
            device.battery_ep = -1

    def _gps(self, row: _Row, bad: bool) -> None:
        device = row.device
        gps = self.health.gps
        if not bad:
            gps[row.index] = max(float(gps[row.index]), row.t)
            if device.nogps_ep >= 0:
                self.ledger.close(device.nogps_ep, row.t, row.raised_at, [row.fid])
                device.nogps_ep = -1
            return
        if device.nogps_ep >= 0 or row.t - float(gps[row.index]) < self.settings.no_gps_s:
            return
        near = self.health.table.near_exclusion(device.person, self.settings.no_gps_near_m)
        device.nogps_ep = self.ledger.open(
            person=row.person,
            condition=None,
            kind=EventKind.NO_GPS,
            start=float(gps[row.index]),
            trigger=row.t,
            raised_at=row.raised_at,
            device=row.name,
            fix_ids=[row.fid],
            detail={"severity": "high" if near else "medium", "near_exclusion_zone": near},
        )

    def _alcohol(self, row: _Row, reading: float) -> None:
        device = row.device
        for condition in self.health.alcohol.get(device.person, ()):
            if reading < condition.threshold:
                device.alcohol_run.pop(condition.id, None)
                if condition.id in device.alcohol_eps:
                    episode = device.alcohol_eps.pop(condition.id)
                    self.ledger.close(episode, row.t, row.raised_at, [row.fid])
                continue
            run = device.alcohol_run.setdefault(condition.id, row.t)
            if row.t - run >= condition.sustained_s and condition.id not in device.alcohol_eps:
                device.alcohol_eps[condition.id] = self.ledger.open(
                    person=row.person,
                    condition=condition.id,
                    kind=EventKind.ALCOHOL,
                    start=run,
                    trigger=row.t,
                    raised_at=row.raised_at,
                    device=row.name,
                    fix_ids=[row.fid],
                    detail={"reading": reading},
                )
