"""Scripting the wearers' days: ordinary journeys, the incidents, and their ground truth.

Ordinary days never enter the exclusion zone (routes bend round it and its buffer). An incident
day follows its script (zone entry, curfew absence, a visit to the protected person) or marks the
GPS plan (strap removal, GPS loss, a dying battery), and records what really happened as ``Truth``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, time, timedelta

import numpy as np

from vigil.sim.model import (
    CURFEW_GRACE_S,
    CURFEW_RADIUS_M,
    CURFEW_START,
    IncidentKind,
    SimConfig,
    Truth,
    local_epoch,
    utc_at,
)
from vigil.sim.trajectory import DRIVE_MPS, WALK_MPS, Disc, Trajectory
from vigil.sim.truth import proximity_truth, zone_truth
from vigil.sim.wearers import Wearer, polar


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


@dataclass
class _Day:
    """One wearer's local day being scripted."""

    wearer: Wearer
    day: date
    path: Trajectory
    rng: np.random.Generator
    truth: list[Truth]
    plan: DayPlan

    @property
    def midnight(self) -> float:
        return local_epoch(self.day, time(0, 0))

    @property
    def weekday(self) -> bool:
        return self.day.weekday() < 5

    @property
    def avoid(self) -> Disc:
        return self.wearer.keep_out


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
    plan = DayPlan(incident=_pick_incident(wearer, rng, config))
    if victim is not None:
        _victim_day(wearer, day, victim, rng, plan.incident is IncidentKind.PROXIMITY)
    d = _Day(wearer, day, path, rng, truth, plan)
    afternoon = _go_out(d)
    if plan.incident is IncidentKind.PROXIMITY and victim is not None:
        _visit_victim(d, victim)
    if plan.incident is IncidentKind.EXCLUSION_ENTRY:
        _enter_zone(d, afternoon, config)
    elif plan.incident is IncidentKind.CURFEW_ABSENCE:
        _stay_out_past_curfew(d, afternoon)
    else:
        _ordinary_afternoon(d, afternoon)
    _mark_device_incident(d)
    path.stay_until(local_epoch(day + timedelta(days=1), time(0, 0)))
    return plan


def _pick_incident(
    wearer: Wearer, rng: np.random.Generator, config: SimConfig
) -> IncidentKind | None:
    kinds = _applicable(wearer, config)
    if kinds and rng.random() < config.incident_rate:
        return kinds[int(rng.integers(len(kinds)))]
    return None


def _mark_device_incident(d: _Day) -> None:
    """Incidents the path does not show: they only change what the device reports."""
    if d.plan.incident is IncidentKind.STRAP_REMOVED:
        _remove_strap(d)
    elif d.plan.incident is IncidentKind.GPS_LOSS:
        _lose_gps(d)
    elif d.plan.incident is IncidentKind.BATTERY_DYING:
        _let_battery_die(d)


def _go_out(d: _Day) -> float:
    """Leave home for work (weekdays) or the shops; return when the afternoon starts."""
    path, rng, midnight = d.path, d.rng, d.midnight
    leave = (
        midnight + float(rng.uniform(7.3, 8.7)) * 3600
        if d.weekday
        else midnight + float(rng.uniform(10, 12)) * 3600
    )
    path.stay_until(leave)
    if d.weekday:
        path.travel(d.wearer.work, d.avoid)
        return midnight + float(rng.uniform(16.5, 17.5)) * 3600
    path.travel(d.wearer.shops[int(rng.integers(2))], d.avoid)
    return path.now + float(rng.uniform(1800, 5400))


def _visit_victim(d: _Day, victim: Trajectory) -> None:
    wearer, path, rng, midnight = d.wearer, d.path, d.rng, d.midnight
    assert wearer.victim_shop is not None
    # She is at her shop 14:00–15:00; he turns up there mid-visit and stays ten minutes.
    path.stay_until(midnight + 13 * 3600 + 3000 + float(rng.uniform(0, 600)))
    target = polar(
        float(rng.uniform(10, 60)), float(rng.uniform(0, 2 * math.pi)), wearer.victim_shop
    )
    path.travel(target, d.avoid, DRIVE_MPS)
    path.stay_for(float(rng.uniform(480, 900)))
    path.travel(wearer.work if d.weekday else (0.0, 0.0), d.avoid, DRIVE_MPS)
    met = proximity_truth(wearer, path, victim, midnight + 12 * 3600, path.now + 1800, d.truth)
    if met is not None:
        d.plan.protect.append((met[0] - 600, met[1] + 600))


def _enter_zone(d: _Day, afternoon: float, config: SimConfig) -> None:
    wearer, path, rng, plan = d.wearer, d.path, d.rng, d.plan
    path.stay_until(max(path.now, afternoon))
    # Straight at the zone from the far side, to a point 60 m or more inside, then home.
    inside = polar(
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
    zone_truth(wearer, path, start, end, d.truth, late)
    if late:
        plan.buffered = (start, end + 300)


def _stay_out_past_curfew(d: _Day, afternoon: float) -> None:
    path, rng = d.path, d.rng
    path.stay_until(max(path.now, afternoon))
    path.travel(d.wearer.friend, d.avoid)
    back = d.midnight + float(rng.uniform(20.5, 23.5)) * 3600
    path.stay_until(back)
    path.travel((0.0, 0.0), d.avoid)
    window = local_epoch(d.day, CURFEW_START)
    home_at = path.crossings(
        window, path.now + 60, lambda x, y: np.hypot(x, y) <= CURFEW_RADIUS_M * 0.5
    )
    returned = home_at[0][0] if home_at else path.now
    d.truth.append(
        Truth(
            d.wearer.person,
            "H1",
            "curfew",
            utc_at(window),
            utc_at(returned),
            IncidentKind.CURFEW_ABSENCE.value,
            {"grace_s": CURFEW_GRACE_S},
        )
    )
    d.plan.protect.append((window - 1800, returned + 600))


def _ordinary_afternoon(d: _Day, afternoon: float) -> None:
    path, rng = d.path, d.rng
    path.stay_until(max(path.now, afternoon))
    if rng.random() < 0.5:
        path.travel(d.wearer.shops[int(rng.integers(2))], d.avoid)
        path.stay_for(float(rng.uniform(900, 2400)))
    path.travel((0.0, 0.0), d.avoid)


def _remove_strap(d: _Day) -> None:
    plan = d.plan
    strap_at = d.midnight + float(d.rng.uniform(9, 18)) * 3600
    plan.strap_at = strap_at
    plan.protect.append((strap_at - 600, strap_at + 600))
    d.truth.append(
        Truth(
            d.wearer.person,
            None,
            "strap_removed",
            utc_at(strap_at),
            None,
            IncidentKind.STRAP_REMOVED.value,
        )
    )


def _lose_gps(d: _Day) -> None:
    start = d.midnight + float(d.rng.uniform(9, 15)) * 3600
    end = start + float(d.rng.uniform(3600, 7200))
    d.plan.gps_loss = (start, end)
    d.plan.protect.append((start - 600, end + 600))
    d.truth.append(
        Truth(
            d.wearer.person, None, "no_gps", utc_at(start), utc_at(end), IncidentKind.GPS_LOSS.value
        )
    )


def _let_battery_die(d: _Day) -> None:
    plan, midnight, person = d.plan, d.midnight, d.wearer.person
    level, drain = 55.0, float(d.rng.uniform(4.0, 6.0))
    plan.battery = (level, drain)
    low = midnight + (level - 20.0) / drain * 3600
    dead = midnight + level / drain * 3600
    charged = local_epoch(d.day, time(20, 0))
    plan.silent = (dead, charged)
    plan.protect.append((low - 600, charged + 600))
    incident = IncidentKind.BATTERY_DYING.value
    d.truth.append(Truth(person, None, "battery_low", utc_at(low), None, incident, {"level": 20}))
    d.truth.append(Truth(person, None, "no_communication", utc_at(dead), utc_at(charged), incident))


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
