"""The simulation's settings, its device rows and ground truth, and writing them to files.

``Simulation.write`` gives the files ``vigil replay`` and the alert-quality benchmark read:
SCENARIO.json (the monitoring plan), FIXES.csv (device rows in arrival order) and TRUTH.json.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from vigil.tracking.model import Alarm, Fix

LONDON = ZoneInfo("Europe/London")
# The pilot area: homes are spread round Birmingham.
AREA_CENTRE = (52.4862, -1.8904)
AREA_HALF_WIDTH_M = 15_000.0
CURFEW_START, CURFEW_END = time(19, 0), time(7, 0)
CURFEW_RADIUS_M = 80.0
CURFEW_GRACE_S = 300
ZONE_BUFFER_M = 200.0
PROXIMITY_M = 500.0
VICTIM_INTERVAL_S = 300.0
CSV_HEADER = ("device", "time", "lat", "lon", "accuracy_m", "battery", "alarm", "received")


class IncidentKind(StrEnum):
    EXCLUSION_ENTRY = "exclusion_entry"
    CURFEW_ABSENCE = "curfew_absence"
    STRAP_REMOVED = "strap_removed"
    BATTERY_DYING = "battery_dying"
    GPS_LOSS = "gps_loss"
    PROXIMITY = "proximity"


@dataclass(frozen=True)
class SimConfig:
    wearers: int = 10
    days: int = 1
    seed: int = 1
    start: date = date(2026, 3, 2)  # a Monday; local (Europe/London) midnight starts the run
    fix_interval_s: float = 60.0
    incident_rate: float = 0.25
    outlier_rate: float = 0.003
    dropouts_per_day: float = 1.5
    buffered_block_rate: float = 0.3
    late_entry_rate: float = 0.3
    kinds: tuple[IncidentKind, ...] = tuple(IncidentKind)


@dataclass(frozen=True)
class Truth:
    """One scripted incident as it really happened (times UTC).

    ``kind`` uses the engine's event kinds (``exclusion_zone``, ``approach_warning``, ``curfew``,
    ``strap_removed``, ``battery_low``, ``no_communication``, ``no_gps``, ``proximity``).
    """

    person: str
    condition: str | None
    kind: str
    start: datetime
    end: datetime | None
    incident: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "person": self.person,
            "condition": self.condition,
            "kind": self.kind,
            "start": iso_utc(self.start),
            "end": iso_utc(self.end) if self.end else None,
            "incident": self.incident,
            "detail": self.detail,
        }


@dataclass
class Rows:
    """Device rows as parallel arrays (fast to build, sort and write)."""

    device: list[str] = field(default_factory=list)
    fix_time: list[np.ndarray] = field(default_factory=list)
    received: list[np.ndarray] = field(default_factory=list)
    lat: list[np.ndarray] = field(default_factory=list)
    lon: list[np.ndarray] = field(default_factory=list)
    accuracy: list[np.ndarray] = field(default_factory=list)
    battery: list[np.ndarray] = field(default_factory=list)
    alarm: list[np.ndarray] = field(default_factory=list)


@dataclass(frozen=True)
class SimRow:
    device: str
    fix_time: datetime
    received: datetime
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    battery: float | None
    alarm: str

    def csv_fields(self) -> tuple[str, ...]:
        """The row as FIXES.csv holds it (``CSV_HEADER``'s columns)."""
        return (
            self.device,
            iso_utc(self.fix_time),
            "" if self.lat is None else f"{self.lat:.6f}",
            "" if self.lon is None else f"{self.lon:.6f}",
            "" if self.accuracy_m is None else f"{self.accuracy_m:.1f}",
            "" if self.battery is None else f"{self.battery:.0f}",
            self.alarm,
            iso_utc(self.received),
        )

    def to_fix(self) -> Fix:
        alarms = frozenset({Alarm(self.alarm)}) if self.alarm else frozenset()
        return Fix(
            device_id=self.device,
            fix_time=self.fix_time,
            receive_time=self.received,
            lat=self.lat,
            lon=self.lon,
            protocol="sim",
            accuracy_m=self.accuracy_m,
            valid=self.lat is not None,
            battery_pct=self.battery,
            alarms=alarms,
        )


@dataclass
class Simulation:
    scenario: dict[str, Any]
    rows: list[SimRow]
    truth: list[Truth]
    config: SimConfig

    def write(self, out: Path) -> dict[str, Path]:
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "scenario": out / "SCENARIO.json",
            "fixes": out / "FIXES.csv",
            "truth": out / "TRUTH.json",
        }
        paths["scenario"].write_text(json.dumps(self.scenario, indent=1) + "\n")
        with paths["fixes"].open("w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(CSV_HEADER)
            writer.writerows(row.csv_fields() for row in self.rows)
        truth = {
            "seed": self.config.seed,
            "wearers": self.config.wearers,
            "days": self.config.days,
            "start": self.config.start.isoformat(),
            "incidents": [t.as_json() for t in self.truth],
        }
        paths["truth"].write_text(json.dumps(truth, indent=1) + "\n")
        return paths


def iso_utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def utc_at(at: float) -> datetime:
    return datetime.fromtimestamp(round(at), UTC)


def local_epoch(day: date, at: time) -> float:
    return datetime.combine(day, at, LONDON).timestamp()
