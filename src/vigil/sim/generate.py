"""Seeded, deterministic simulation of wearers' days, GPS noise and scripted incidents.

The same seed and settings always give byte-identical output. ``simulate`` returns the monitoring
plan (the ``vigil replay`` SCENARIO.json shape), the device rows in arrival order (FIXES.csv), and
the ground truth of every scripted incident, for the alert-quality benchmark.

The world, per wearer (metres in the wearer's local plane, home at the origin): an exclusion zone
(a circle of 200–400 m) whose edge is 100–300 m from home, with a 200 m warning buffer, so GPS
drift at home is a real test; a curfew at home 19:00–07:00; a workplace and shops 0.5–8 km away
on the far side from the zone; for about a third of wearers a protected person whose phone
reports (a proximity condition), living 4–7 km away beyond the zone. Ordinary days never enter
the zone (routes bend round it and its buffer).

GPS: a fix a minute; reported accuracy 10–60 m with errors to match; about 0.3% outliers of
200–900 m reporting a matching, large accuracy; dropouts of 5–45 minutes; blocks of fixes
buffered on the device and uploaded late (a ``received`` time after the fix time).

Incidents (at most one per wearer-day, ``incident_rate`` of wearer-days): exclusion-zone entry
(sometimes uploaded late), curfew absence, strap removal, battery dying, GPS loss, and proximity
to the protected person. Dropouts are kept away from incidents, so every incident is visible in
the data.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from vigil.sim.trajectory import DRIVE_MPS, WALK_MPS, Disc, LocalFrame, Point, Trajectory
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
            "start": _iso(self.start),
            "end": _iso(self.end) if self.end else None,
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
            for row in self.rows:
                writer.writerow(
                    (
                        row.device,
                        _iso(row.fix_time),
                        "" if row.lat is None else f"{row.lat:.6f}",
                        "" if row.lon is None else f"{row.lon:.6f}",
                        "" if row.accuracy_m is None else f"{row.accuracy_m:.1f}",
                        "" if row.battery is None else f"{row.battery:.0f}",
                        row.alarm,
                        _iso(row.received),
                    )
                )
        truth = {
            "seed": self.config.seed,
            "wearers": self.config.wearers,
            "days": self.config.days,
            "start": self.config.start.isoformat(),
            "incidents": [t.as_json() for t in self.truth],
        }
        paths["truth"].write_text(json.dumps(truth, indent=1) + "\n")
        return paths


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _utc(at: float) -> datetime:
    return datetime.fromtimestamp(round(at), UTC)


def local_epoch(day: date, at: time) -> float:
    return datetime.combine(day, at, LONDON).timestamp()


def _polar(distance: float, bearing: float, origin: Point = (0.0, 0.0)) -> Point:
    return origin[0] + distance * math.sin(bearing), origin[1] + distance * math.cos(bearing)


@dataclass
class Wearer:
    """One monitored person in their local plane (home at the origin)."""

    person: str
    device: str
    frame: LocalFrame
    zone_centre: Point
    zone_radius: float
    work: Point
    shops: list[Point]
    friend: Point
    victim_device: str | None = None
    victim_home: Point | None = None
    victim_shop: Point | None = None

    @property
    def zone(self) -> Disc:
        return Disc(self.zone_centre, self.zone_radius)

    @property
    def keep_out(self) -> Disc:
        """Where ordinary journeys never go: the zone, its buffer and a margin for GPS noise,
        short of home itself (which may be inside the buffer)."""
        home_distance = math.hypot(*self.zone_centre)
        return Disc(
            self.zone_centre, min(self.zone_radius + ZONE_BUFFER_M + 150.0, home_distance - 30.0)
        )

    def conditions(self) -> list[dict[str, Any]]:
        lat, lon = self.frame.to_latlon(
            np.array([self.zone_centre[0], 0.0]), np.array([self.zone_centre[1], 0.0])
        )
        out: list[dict[str, Any]] = [
            {
                "id": "Z1",
                "type": "exclusion_zone",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(float(lon[0]), 6), round(float(lat[0]), 6)],
                },
                "radius_m": round(self.zone_radius, 1),
                "buffer_m": ZONE_BUFFER_M,
            },
            {
                "id": "H1",
                "type": "curfew",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(float(lon[1]), 6), round(float(lat[1]), 6)],
                },
                "radius_m": CURFEW_RADIUS_M,
                "timetable": [
                    {
                        "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                        "start": CURFEW_START.strftime("%H:%M"),
                        "end": CURFEW_END.strftime("%H:%M"),
                    }
                ],
                "grace_s": CURFEW_GRACE_S,
            },
        ]
        if self.victim_device:
            out.append(
                {
                    "id": "X1",
                    "type": "proximity",
                    "device": self.victim_device,
                    "distance_m": PROXIMITY_M,
                }
            )
        return out


def make_wearer(index: int, rng: np.random.Generator, *, victim: bool | None = None) -> Wearer:
    frame_x, frame_y = rng.uniform(-AREA_HALF_WIDTH_M, AREA_HALF_WIDTH_M, 2)
    centre = LocalFrame(*AREA_CENTRE)
    home_lat, home_lon = centre.to_latlon(np.array([frame_x]), np.array([frame_y]))
    frame = LocalFrame(float(home_lat[0]), float(home_lon[0]))
    toward = float(rng.uniform(0, 2 * math.pi))
    away = toward + math.pi
    radius = float(rng.uniform(200, 400))
    zone_centre = _polar(radius + float(rng.uniform(100, 300)), toward)
    work = _polar(float(rng.uniform(2_000, 8_000)), away + float(rng.uniform(-1.0, 1.0)))
    shops = [
        _polar(float(rng.uniform(500, 3_000)), away + float(rng.uniform(-1.4, 1.4)))
        for _ in range(2)
    ]
    friend = _polar(float(rng.uniform(1_000, 3_000)), away + float(rng.uniform(-1.2, 1.2)))
    wearer = Wearer(
        person=f"P{index + 1:04d}",
        device=f"T{index + 1:04d}",
        frame=frame,
        zone_centre=zone_centre,
        zone_radius=radius,
        work=work,
        shops=shops,
        friend=friend,
    )
    has_victim = bool(rng.random() < 0.35) if victim is None else victim
    if has_victim:
        wearer.victim_device = f"V{index + 1:04d}"
        wearer.victim_home = _polar(
            float(rng.uniform(4_000, 7_000)), toward + float(rng.uniform(-0.4, 0.4))
        )
        wearer.victim_shop = _polar(
            float(rng.uniform(500, 1_500)), float(rng.uniform(0, 2 * math.pi)), wearer.victim_home
        )
    return wearer


# ---------------------------------------------------------------------------------------------
# Days


@dataclass
class DayPlan:
    """What the GPS model needs to know about a day beyond the path."""

    incident: IncidentKind | None = None
    protect: list[tuple[float, float]] = field(default_factory=list)  # no dropouts in these
    buffered: tuple[float, float] | None = None  # fixes in here upload at the end
    gps_loss: tuple[float, float] | None = None
    silent: tuple[float, float] | None = None  # dead battery: nothing at all
    strap_at: float | None = None
    battery: tuple[float, float] | None = None  # (level at 00:00, drain per hour) when dying


def _applicable(wearer: Wearer, config: SimConfig) -> list[IncidentKind]:
    kinds = list(config.kinds)
    if wearer.victim_device is None and IncidentKind.PROXIMITY in kinds:
        kinds.remove(IncidentKind.PROXIMITY)
    return kinds


def plan_day(
    wearer: Wearer,
    day: date,
    path: Trajectory,
    victim: Trajectory | None,
    rng: np.random.Generator,
    config: SimConfig,
    truth: list[Truth],
) -> DayPlan:
    """Extend the wearer's path (and the victim's) through one local day; return its GPS plan."""
    plan = DayPlan()
    kinds = _applicable(wearer, config)
    if kinds and rng.random() < config.incident_rate:
        plan.incident = kinds[int(rng.integers(len(kinds)))]
    weekday = day.weekday() < 5
    midnight = local_epoch(day, time(0, 0))
    next_midnight = local_epoch(day + timedelta(days=1), time(0, 0))
    avoid = wearer.keep_out
    if victim is not None:
        _victim_day(wearer, day, victim, rng, plan.incident is IncidentKind.PROXIMITY)

    leave = (
        midnight + float(rng.uniform(7.3, 8.7)) * 3600
        if weekday
        else midnight + float(rng.uniform(10, 12)) * 3600
    )
    path.stay_until(leave)
    if weekday:
        path.travel(wearer.work, avoid)
        afternoon = midnight + float(rng.uniform(16.5, 17.5)) * 3600
    else:
        path.travel(wearer.shops[int(rng.integers(2))], avoid)
        afternoon = path.now + float(rng.uniform(1800, 5400))

    if plan.incident is IncidentKind.PROXIMITY and victim is not None:
        assert wearer.victim_shop is not None
        # She is at her shop 14:00–15:00; he turns up there mid-visit and stays ten minutes.
        path.stay_until(midnight + 13 * 3600 + 3000 + float(rng.uniform(0, 600)))
        target = _polar(
            float(rng.uniform(10, 60)), float(rng.uniform(0, 2 * math.pi)), wearer.victim_shop
        )
        path.travel(target, avoid, DRIVE_MPS)
        path.stay_for(float(rng.uniform(480, 900)))
        path.travel(wearer.work if weekday else (0.0, 0.0), avoid, DRIVE_MPS)
        _proximity_truth(wearer, path, victim, midnight + 12 * 3600, path.now + 1800, truth, plan)

    if plan.incident is IncidentKind.EXCLUSION_ENTRY:
        path.stay_until(max(path.now, afternoon))
        # Straight at the zone from the far side, to a point 60 m or more inside, then home.
        inside = _polar(
            float(rng.uniform(0, wearer.zone_radius - 60)),
            float(rng.uniform(0, 2 * math.pi)),
            wearer.zone_centre,
        )
        start = path.now
        path.go([inside], WALK_MPS if math.dist(path.here, inside) < 2_000 else DRIVE_MPS)
        path.stay_for(float(rng.uniform(120, 900)))
        path.go([(0.0, 0.0)], WALK_MPS)
        end = path.now
        plan.protect.append((start - 600, end + 600))
        late = bool(rng.random() < config.late_entry_rate)
        _zone_truth(wearer, path, start, end, truth, late)
        if late:
            plan.buffered = (start, end + 300)
    elif plan.incident is IncidentKind.CURFEW_ABSENCE:
        path.stay_until(max(path.now, afternoon))
        path.travel(wearer.friend, avoid)
        back = midnight + float(rng.uniform(20.5, 23.5)) * 3600
        path.stay_until(back)
        path.travel((0.0, 0.0), avoid)
        window = local_epoch(day, CURFEW_START)
        home_at = path.crossings(
            window, path.now + 60, lambda x, y: np.hypot(x, y) <= CURFEW_RADIUS_M * 0.5
        )
        returned = home_at[0][0] if home_at else path.now
        truth.append(
            Truth(
                wearer.person,
                "H1",
                "curfew",
                _utc(window),
                _utc(returned),
                plan.incident.value,
                {"grace_s": CURFEW_GRACE_S},
            )
        )
        plan.protect.append((window - 1800, returned + 600))
    else:
        path.stay_until(max(path.now, afternoon))
        if rng.random() < 0.5:
            path.travel(wearer.shops[int(rng.integers(2))], avoid)
            path.stay_for(float(rng.uniform(900, 2400)))
        path.travel((0.0, 0.0), avoid)

    if plan.incident is IncidentKind.STRAP_REMOVED:
        plan.strap_at = midnight + float(rng.uniform(9, 18)) * 3600
        plan.protect.append((plan.strap_at - 600, plan.strap_at + 600))
        truth.append(
            Truth(
                wearer.person, None, "strap_removed", _utc(plan.strap_at), None, plan.incident.value
            )
        )
    elif plan.incident is IncidentKind.GPS_LOSS:
        start = midnight + float(rng.uniform(9, 15)) * 3600
        plan.gps_loss = (start, start + float(rng.uniform(3600, 7200)))
        plan.protect.append((start - 600, plan.gps_loss[1] + 600))
        truth.append(
            Truth(
                wearer.person,
                None,
                "no_gps",
                _utc(start),
                _utc(plan.gps_loss[1]),
                plan.incident.value,
            )
        )
    elif plan.incident is IncidentKind.BATTERY_DYING:
        level, drain = 55.0, float(rng.uniform(4.0, 6.0))
        plan.battery = (level, drain)
        low = midnight + (level - 20.0) / drain * 3600
        dead = midnight + level / drain * 3600
        charged = local_epoch(day, time(20, 0))
        plan.silent = (dead, charged)
        plan.protect.append((low - 600, charged + 600))
        truth.append(
            Truth(
                wearer.person,
                None,
                "battery_low",
                _utc(low),
                None,
                plan.incident.value,
                {"level": 20},
            )
        )
        truth.append(
            Truth(
                wearer.person,
                None,
                "no_communication",
                _utc(dead),
                _utc(charged),
                plan.incident.value,
            )
        )
    path.stay_until(next_midnight)
    return plan


def _zone_truth(
    wearer: Wearer, path: Trajectory, start: float, end: float, truth: list[Truth], late: bool
) -> None:
    cx, cy = wearer.zone_centre
    radius = wearer.zone_radius

    def in_zone(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.asarray(np.hypot(x - cx, y - cy) < radius)

    def in_buffer(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.asarray(np.hypot(x - cx, y - cy) < radius + ZONE_BUFFER_M)

    for entered, left in path.crossings(start, end, in_zone):
        at = np.arange(entered, left, 1.0)
        x, y = path.positions(at)
        depth = float(np.max(radius - np.hypot(x - cx, y - cy))) if at.size else 0.0
        truth.append(
            Truth(
                wearer.person,
                "Z1",
                "exclusion_zone",
                _utc(entered),
                _utc(left),
                IncidentKind.EXCLUSION_ENTRY.value,
                {
                    "dwell_s": round(left - entered),
                    "max_depth_m": round(depth, 1),
                    "late_upload": late,
                },
            )
        )
    approaches = path.crossings(start, end, in_buffer)
    if approaches:
        truth.append(
            Truth(
                wearer.person,
                "Z1",
                "approach_warning",
                _utc(approaches[0][0]),
                None,
                IncidentKind.EXCLUSION_ENTRY.value,
            )
        )


def _victim_day(
    wearer: Wearer, day: date, victim: Trajectory, rng: np.random.Generator, meet: bool
) -> None:
    assert wearer.victim_home is not None
    assert wearer.victim_shop is not None
    midnight = local_epoch(day, time(0, 0))
    if meet:
        out, back = midnight + 14 * 3600, midnight + 15 * 3600
    else:
        out = midnight + float(rng.uniform(9.5, 11.0)) * 3600
        back = out + float(rng.uniform(1800, 3600))
    victim.stay_until(out - math.dist(wearer.victim_home, wearer.victim_shop) / WALK_MPS)
    victim.go([wearer.victim_shop], WALK_MPS)
    victim.stay_until(back)
    victim.go([wearer.victim_home], WALK_MPS)
    victim.stay_until(local_epoch(day + timedelta(days=1), time(0, 0)))


def _proximity_truth(
    wearer: Wearer,
    path: Trajectory,
    victim: Trajectory,
    start: float,
    end: float,
    truth: list[Truth],
    plan: DayPlan,
) -> None:
    at = np.arange(start, end, 1.0)
    wx, wy = path.positions(at)
    vx, vy = victim.positions(at)
    close = np.hypot(wx - vx, wy - vy) < PROXIMITY_M
    edges = np.flatnonzero(np.diff(close.astype(np.int8)))
    if not close.any():
        return
    first = int(np.argmax(close))
    after = [int(e) + 1 for e in edges if int(e) + 1 > first and not close[int(e) + 1]]
    last = after[0] if after else len(at) - 1
    truth.append(
        Truth(
            wearer.person,
            "X1",
            "proximity",
            _utc(float(at[first])),
            _utc(float(at[last])),
            IncidentKind.PROXIMITY.value,
            {"distance_m": PROXIMITY_M},
        )
    )
    plan.protect.append((float(at[first]) - 600, float(at[last]) + 600))


# ---------------------------------------------------------------------------------------------
# GPS


def _in_any(at: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    mask = np.zeros(at.shape, dtype=bool)
    for a, b in spans:
        mask |= (at >= a) & (at < b)
    return mask


def sample_device(
    device: str,
    path: Trajectory,
    frame: LocalFrame,
    plans: list[tuple[float, float, DayPlan]],
    rng: np.random.Generator,
    config: SimConfig,
    rows: Rows,
    *,
    interval_s: float,
    accuracy: tuple[float, float] = (10.0, 60.0),
    phone: bool = False,
) -> None:
    """Fix times, noise, outliers, dropouts, late uploads, battery and alarms for one device."""
    start, end = path.times[0], path.times[-1]
    at = np.arange(start + float(rng.uniform(0, interval_s)), end, interval_s)
    at = at + rng.uniform(-2, 2, at.size)
    keep = np.ones(at.size, dtype=bool)
    received = at + rng.uniform(1, 10, at.size)
    battery = np.full(at.size, np.nan)
    alarm = np.zeros(at.size, dtype=np.int8)  # 1 = strap removed
    no_position = np.zeros(at.size, dtype=bool)
    for day_start, day_end, plan in plans:
        in_day = (at >= day_start) & (at < day_end)
        hours = (at - day_start) / 3600
        if not phone:
            level, drain = plan.battery or (100.0, 3.0)
            battery[in_day] = np.clip(level - drain * hours[in_day], 0, 100)
            # Charging from 20:00 local on (the wearer plugs in at home).
            evening = in_day & (hours >= 20)
            battery[evening] = np.minimum(
                100, np.clip(level - drain * 20, 0, 100) + 40 * (hours[evening] - 20)
            )
        protected = _in_any(at, plan.protect)
        for _ in range(int(rng.poisson(config.dropouts_per_day))):
            a = day_start + float(rng.uniform(0, 86_400))
            span = (a, a + float(rng.uniform(300, 2_700)))
            drop = _in_any(at, [span]) & ~protected
            keep &= ~drop
        plan_block: tuple[float, float] | None = plan.buffered
        if plan_block is None and rng.random() < config.buffered_block_rate:
            a = day_start + float(rng.uniform(0, 86_400 - 3_600))
            plan_block = (a, a + float(rng.uniform(600, 3_600)))
        if plan_block is not None:
            block = _in_any(at, [plan_block])
            received[block] = (
                plan_block[1] + float(rng.uniform(5, 120)) + np.arange(int(block.sum())) * 0.01
            )
        if plan.gps_loss is not None:
            no_position |= _in_any(at, [plan.gps_loss])
        if plan.silent is not None:
            keep &= ~_in_any(at, [plan.silent])
        if plan.strap_at is not None:
            index = int(np.searchsorted(at, plan.strap_at))
            if index < at.size:
                at[index] = plan.strap_at
                received[index] = plan.strap_at + 2
                alarm[index] = 1
                keep[index] = True
    x, y = path.positions(at)
    acc = np.clip(rng.lognormal(math.log(22), 0.45, at.size), *accuracy)
    sigma = acc / 1.5
    x = x + rng.normal(0, 1, at.size) * sigma
    y = y + rng.normal(0, 1, at.size) * sigma
    if not phone:
        outlier = (rng.random(at.size) < config.outlier_rate) & ~no_position & (alarm == 0)
        jump = rng.uniform(200, 900, at.size)
        bearing = rng.uniform(0, 2 * math.pi, at.size)
        x = np.where(outlier, x + jump * np.sin(bearing), x)
        y = np.where(outlier, y + jump * np.cos(bearing), y)
        acc = np.where(outlier, jump * rng.uniform(0.8, 1.5, at.size), acc)
    lat, lon = frame.to_latlon(x, y)
    lat[no_position] = np.nan
    lon[no_position] = np.nan
    acc[no_position] = np.nan
    rows.device.extend([device] * int(keep.sum()))
    rows.fix_time.append(at[keep])
    rows.received.append(received[keep])
    rows.lat.append(lat[keep])
    rows.lon.append(lon[keep])
    rows.accuracy.append(acc[keep])
    rows.battery.append(battery[keep])
    rows.alarm.append(alarm[keep])


def _finish(rows: Rows) -> list[SimRow]:
    if not rows.fix_time:
        return []
    fix_time = np.concatenate(rows.fix_time)
    received = np.concatenate(rows.received)
    lat, lon = np.concatenate(rows.lat), np.concatenate(rows.lon)
    acc, battery = np.concatenate(rows.accuracy), np.concatenate(rows.battery)
    alarm = np.concatenate(rows.alarm)
    # Arrival order: by receive time; ties by device then fix time, so output is deterministic.
    device_rank = np.unique(np.asarray(rows.device), return_inverse=True)[1]
    order = np.lexsort((fix_time, device_rank, np.round(received, 3)))
    devices = np.asarray(rows.device)[order].tolist()
    fix_s = np.round(fix_time[order]).astype(np.int64).tolist()
    recv_s = np.round(received[order]).astype(np.int64).tolist()
    lats = np.round(lat[order], 6).tolist()
    lons = np.round(lon[order], 6).tolist()
    accs = np.round(acc[order], 1).tolist()
    levels = np.round(battery[order]).tolist()
    alarms = alarm[order].tolist()
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    out: list[SimRow] = []
    for i in range(len(devices)):
        has_position = lats[i] == lats[i]  # NaN marks a fix without a position
        level = levels[i]
        out.append(
            SimRow(
                device=devices[i],
                fix_time=epoch + timedelta(seconds=fix_s[i]),
                received=epoch + timedelta(seconds=recv_s[i]),
                lat=lats[i] if has_position else None,
                lon=lons[i] if has_position else None,
                accuracy_m=accs[i] if has_position else None,
                battery=None if level != level else level,
                alarm=Alarm.STRAP_REMOVED.value if alarms[i] == 1 else "",
            )
        )
    return out


def simulate(config: SimConfig, progress: Any = None) -> Simulation:
    """Simulate ``config.wearers`` wearers over ``config.days`` local days."""
    persons: list[dict[str, Any]] = []
    truth: list[Truth] = []
    rows = Rows()
    start = local_epoch(config.start, time(0, 0))
    for index in range(config.wearers):
        # One stream per wearer, so adding wearers never changes the earlier ones.
        rng = np.random.default_rng([config.seed, index])
        wearer = make_wearer(index, rng)
        path = Trajectory.starting(start, (0.0, 0.0))
        victim = Trajectory.starting(start, wearer.victim_home) if wearer.victim_home else None
        plans: list[tuple[float, float, DayPlan]] = []
        for offset in range(config.days):
            day = config.start + timedelta(days=offset)
            day_start = local_epoch(day, time(0, 0))
            plan = plan_day(wearer, day, path, victim, rng, config, truth)
            plans.append((day_start, local_epoch(day + timedelta(days=1), time(0, 0)), plan))
        sample_device(
            wearer.device,
            path,
            wearer.frame,
            plans,
            rng,
            config,
            rows,
            interval_s=config.fix_interval_s,
        )
        if victim is not None and wearer.victim_device:
            victim_plans = [(a, b, DayPlan(protect=[(a, b)])) for a, b, _ in plans]
            sample_device(
                wearer.victim_device,
                victim,
                wearer.frame,
                victim_plans,
                rng,
                SimConfig(buffered_block_rate=0.0, dropouts_per_day=0.0),
                rows,
                interval_s=VICTIM_INTERVAL_S,
                accuracy=(5.0, 30.0),
                phone=True,
            )
        persons.append(
            {"id": wearer.person, "devices": [wearer.device], "conditions": wearer.conditions()}
        )
        if progress is not None:
            progress(index + 1)
    scenario = {"timezone": "Europe/London", "persons": persons}
    truth.sort(key=lambda t: (t.start, t.person, t.kind))
    return Simulation(scenario, _finish(rows), truth, config)
