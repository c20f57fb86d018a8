"""Proximity: a wearer coming within ``enter_m`` of a protected person's own device.

Each condition pairs a wearer with a device the protected person carries. Every good fix of
either side is compared with the other side's position nearest in time (if fresh enough); the
condition opens within ``enter_m`` and closes beyond ``exit_m``. A late observation cannot
rewrite what came after it: if it shows the two close, it is raised as a retrospective moment.
"""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np

from vigil.engine.batch import BoolArray, FixBatch, FloatArray, IntArray
from vigil.engine.device_directory import DeviceDirectory
from vigil.engine.events import EventKind
from vigil.engine.ledger import Ledger, iso
from vigil.engine.model import EngineSettings, PersonPlan, ProximityCondition
from vigil.geo.projection import step_metres

Position = tuple[float, float, float, float]  # lon, lat, accuracy, fix time
PROXIMITY_TRACK_S = 7_200.0


class ProximityWatch:
    def __init__(
        self,
        persons: list[PersonPlan],
        devices: DeviceDirectory,
        settings: EngineSettings,
        ledger: Ledger,
        dirty_persons: set[int],
    ) -> None:
        self.devices = devices
        self.settings = settings
        self.ledger = ledger
        self.dirty_persons = dirty_persons
        self.person_index = {person.id: index for index, person in enumerate(persons)}
        # Conditions by wearer and by protected person's device.
        self.conditions: list[ProximityCondition] = []
        self.by_person: dict[int, list[int]] = {}
        self.by_device: dict[str, list[int]] = {}
        for p_index, person in enumerate(persons):
            for condition in person.proximity:
                self.by_person.setdefault(p_index, []).append(len(self.conditions))
                self.by_device.setdefault(condition.device, []).append(len(self.conditions))
                self.conditions.append(condition)
        self.episode = [-1] * len(self.conditions)
        self.last_seen = [-float("inf")] * len(self.conditions)  # latest observation time
        self.victim_track: dict[str, list[Position]] = {}
        self.wearer_track: dict[int, list[Position]] = {}

    def step(
        self,
        batch: FixBatch,
        dev: IntArray,
        person: IntArray,
        arrival: FloatArray,
        acc: FloatArray,
        bad: BoolArray,
    ) -> None:
        """Every good fix of a watched wearer or a protected person's device, in fix-time order."""
        index = self.devices.index
        victim_devices = np.fromiter((index[name] for name in self.by_device), dtype=np.int64)
        wearers = np.zeros(len(self.person_index) + 1, dtype=bool)
        wearers[list(self.by_person)] = True
        relevant = ~bad & (np.isin(dev, victim_devices) | wearers[person])
        rows = np.flatnonzero(relevant)
        rows = rows[np.argsort(batch.t[rows], kind="stable")]
        names = self.devices.names
        for r in rows.tolist():
            t = float(batch.t[r])
            here = (float(batch.lon[r]), float(batch.lat[r]), float(acc[r]), t)
            now = float(arrival[r])
            fid = int(batch.fix_id[r])
            if person[r] >= 0:
                p_index = int(person[r])
                _remember(self.wearer_track.setdefault(p_index, []), here, self.settings)
                for c in self.by_person.get(p_index, ()):
                    track = self.victim_track.get(self.conditions[c].device, [])
                    self._observe(c, here, _nearest(track, t), t, now, fid)
            else:
                name = names[int(dev[r])]
                _remember(self.victim_track.setdefault(name, []), here, self.settings)
                for c in self.by_device.get(name, ()):
                    p_index = self.person_index[self.conditions[c].person]
                    track = self.wearer_track.get(p_index, [])
                    self._observe(c, _nearest(track, t), here, t, now, fid)

    def _observe(
        self,
        c: int,
        wearer: Position | None,
        victim: Position | None,
        t: float,
        now: float,
        fid: int,
    ) -> None:
        """One observation of the distance between the two, each at its own fix time.

        In order (not older than the last one), it moves the enter/exit machine. A late one (a
        buffered upload) cannot rewrite what came after it; if it shows the two close, it is
        raised as a retrospective moment, never dropped.
        """
        condition = self.conditions[c]
        if wearer is None or victim is None:
            return
        self.dirty_persons.add(self.person_index[condition.person])
        if abs(wearer[3] - victim[3]) > condition.max_age_s:
            return  # the other position is stale: no conclusion either way
        distance = float(
            step_metres(
                np.array([wearer[0]]),
                np.array([wearer[1]]),
                np.array([victim[0]]),
                np.array([victim[1]]),
            )[0]
        )
        measured = _measured(distance, wearer, victim)
        if t < self.last_seen[c]:
            if distance <= condition.enter_m:
                self._open(c, t, now, fid, measured, late=True)
            return
        self.last_seen[c] = t
        if self.episode[c] < 0 and distance <= condition.enter_m:
            self.episode[c] = self._open(c, t, now, fid, measured, late=False)
        elif self.episode[c] >= 0 and distance >= condition.exit_m:
            self.ledger.close(self.episode[c], t, max(now, t), [fid])
            self.episode[c] = -1

    def _open(
        self, c: int, t: float, now: float, fid: int, measured: dict[str, Any], late: bool
    ) -> int:
        """A late observation is a moment (start = end): it cannot say when they parted."""
        condition = self.conditions[c]
        detail = dict(measured)
        if late:
            detail["late"] = True
        return self.ledger.open(
            person=condition.person,
            condition=condition.id,
            kind=EventKind.PROXIMITY,
            start=t,
            end=t if late else None,
            trigger=t,
            raised_at=max(now, t),
            fix_ids=[fid],
            detail=detail,
        )

    def person_state_json(self, person: int) -> dict[str, Any]:
        ref = self.ledger.ref
        return {self.conditions[c].id: ref(self.episode[c]) for c in self.by_person.get(person, ())}

    def restore_person(self, person: int, data: dict[str, Any]) -> None:
        for c in self.by_person.get(person, ()):
            self.episode[c] = self.ledger.find(data.get(self.conditions[c].id))


def _measured(distance: float, wearer: Position, victim: Position) -> dict[str, Any]:
    """The distance that raised the alert and the fix time of each side: the two positions
    are rarely taken at the same moment, and whoever reads the alert needs to know how far
    apart in time they were."""
    return {
        "distance_m": round(distance, 1),
        "wearer_fix_at": iso(wearer[3]),
        "protected_fix_at": iso(victim[3]),
    }


def _remember(track: list[Position], position: Position, settings: EngineSettings) -> None:
    """Keep a device's recent positions in fix-time order (late ones slot into place)."""
    if track and position[3] < track[-1][3]:
        times = [item[3] for item in track]
        track.insert(bisect.bisect_right(times, position[3]), position)
    else:
        track.append(position)
    horizon = track[-1][3] - max(PROXIMITY_TRACK_S, settings.proximity_max_age_s)
    if track[0][3] < horizon:
        keep = bisect.bisect_left([item[3] for item in track], horizon)
        del track[:keep]


def _nearest(track: list[Position], t: float) -> Position | None:
    """The position nearest in time to ``t``."""
    if not track:
        return None
    index = bisect.bisect_left([item[3] for item in track], t)
    candidates = track[max(0, index - 1) : index + 1]
    return min(candidates, key=lambda item: abs(item[3] - t))
