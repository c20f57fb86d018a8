"""The demo's scripted story: a wearer for each monitored person in the plan (home, zone,
the protected person's phone) and what each does in the next two hours, so violations happen
while the demo is watched: the first wearer removes the strap, the next walks into the zone, the
next goes near the protected person (or loses GPS), then everyone goes home."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np
from shapely.geometry import shape

from vigil.sim.gps import in_arrival_order as _finish
from vigil.sim.gps import sample_device
from vigil.sim.journeys import DayPlan
from vigil.sim.model import Rows, SimConfig, SimRow
from vigil.sim.trajectory import WALK_MPS, LocalFrame, Trajectory
from vigil.sim.wearers import Wearer

STORY_HOURS = 2.0
WEAR_INTERVAL_S = 30.0


def _circle(condition: dict[str, Any]) -> tuple[float, float, float] | None:
    """(lat, lon, radius) of a zone: a Point with its radius, or a polygon's bounding circle."""
    geometry = condition.get("geometry") or {}
    try:
        geom = shape(geometry)
    except Exception:  # a malformed geometry in the plan: that wearer just has no zone here
        return None
    if geometry.get("type") == "Point":
        return geom.y, geom.x, float(condition.get("radius_m", 100.0))
    centre = geom.centroid
    frame = LocalFrame(centre.y, centre.x)
    xs, ys = zip(*(frame.to_xy(lat, lon) for lon, lat in geom.exterior.coords), strict=True)
    return centre.y, centre.x, max(math.hypot(x, y) for x, y in zip(xs, ys, strict=True))


def wearers_from_plan(plan: dict[str, Any]) -> list[Wearer]:
    """Wearers for the monitored persons in a plan (the SCENARIO.json shape)."""
    found = (_wearer_for(person) for person in plan.get("persons", []))
    return [wearer for wearer in found if wearer is not None]


def _wearer_for(person: dict[str, Any]) -> Wearer | None:
    """A wearer who lives at his curfew address (or near his zone) and goes about his day."""
    devices = person.get("devices") or []
    conditions = person.get("conditions", [])
    zone = next((c for c in conditions if c.get("type") == "exclusion_zone"), None)
    home = next((c for c in conditions if c.get("type") in ("curfew", "inclusion_zone")), None)
    victim = next((c for c in conditions if c.get("type") == "proximity"), None)
    zone_circle = _circle(zone) if zone else None
    home_circle = _circle(home) if home else None
    if not devices or (home_circle is None and zone_circle is None):
        return None
    if home_circle is not None:
        frame = LocalFrame(home_circle[0], home_circle[1])
    else:
        assert zone_circle is not None
        frame = LocalFrame(zone_circle[0] + (zone_circle[2] + 400) / 111_320, zone_circle[1])
    if zone_circle is not None:
        zx, zy = frame.to_xy(zone_circle[0], zone_circle[1])
        radius = zone_circle[2]
    else:  # no zone: one far away, never visited
        zx, zy, radius = 50_000.0, 50_000.0, 100.0
    away = math.atan2(-zx, -zy)
    wearer = Wearer(
        person=str(person["id"]),
        device=str(devices[0]),
        frame=frame,
        zone_centre=(zx, zy),
        zone_radius=radius,
        work=_towards(away, 1_500),
        shops=[_towards(away + 0.5, 800)],
        friend=_towards(away - 0.6, 1_200),
    )
    if victim is not None and victim.get("device"):
        wearer.victim_device = str(victim["device"])
        wearer.victim_home = wearer.victim_shop = _towards(away + 1.2, 2_000)
    return wearer


def _towards(bearing: float, metres: float) -> tuple[float, float]:
    return (metres * math.sin(bearing), metres * math.cos(bearing))


def story(
    wearers: list[Wearer],
    start: datetime,
    seed: int,
    hours: float = STORY_HOURS,
    interval_s: float = WEAR_INTERVAL_S,
) -> list[SimRow]:
    """Device rows (arrival order) for a demo story of ``hours`` from ``start``; the wearers'
    tags report every ``interval_s``."""
    t0 = start.timestamp()
    end = t0 + hours * 3600
    rows = Rows()
    config = SimConfig(seed=seed, outlier_rate=0.002, dropouts_per_day=0.0, buffered_block_rate=0.0)
    for index, wearer in enumerate(wearers):
        rng = np.random.default_rng([seed, index])
        path = Trajectory.starting(t0, (0.0, 0.0))
        plan = DayPlan(protect=[(t0, end)])
        begin = t0 + 60 + 240 * index
        path.stay_until(begin)
        _act(index, wearer, path, plan, begin, rng)
        path.stay_until(end)
        sample_device(
            wearer.device,
            path,
            wearer.frame,
            [(t0, end, plan)],
            rng,
            config,
            rows,
            interval_s=interval_s,
            accuracy=(8.0, 40.0),
        )
        if wearer.victim_device and wearer.victim_home is not None:
            _victim_at_home(wearer, t0, end, rng, config, rows)
    return _finish(rows)


def _act(
    index: int,
    wearer: Wearer,
    path: Trajectory,
    plan: DayPlan,
    begin: float,
    rng: np.random.Generator,
) -> None:
    """What this wearer does in the story. The first wearer's strap comes off a minute or two
    in, so a newcomer to the demo sees an alert arrive almost at once; zone entries and
    approaches follow."""
    act = (index + 1) % 3
    if act == 0:
        # Into the exclusion zone, 60 m or more inside, a few minutes, then home.
        cx, cy = wearer.zone_centre
        depth = max(wearer.zone_radius - 60, 0.0) * float(rng.uniform(0, 1))
        bearing = math.atan2(-cx, -cy)
        inside = (cx + depth * math.sin(bearing), cy + depth * math.cos(bearing))
        path.go([inside], WALK_MPS)
        path.stay_for(float(rng.uniform(240, 480)))
        path.go([(0.0, 0.0)], WALK_MPS)
    elif act == 1:
        plan.strap_at = begin + 60
        path.travel(wearer.shops[0], wearer.keep_out)
        path.stay_for(600)
        path.travel((0.0, 0.0), wearer.keep_out)
    elif wearer.victim_home is not None:
        path.travel(wearer.victim_home, wearer.keep_out, 9.0)
        path.stay_for(600)
        path.travel((0.0, 0.0), wearer.keep_out, 9.0)
    else:
        plan.gps_loss = (begin, begin + 1200)
        path.travel(wearer.friend, wearer.keep_out)
        path.travel((0.0, 0.0), wearer.keep_out)


def _victim_at_home(
    wearer: Wearer,
    t0: float,
    end: float,
    rng: np.random.Generator,
    config: SimConfig,
    rows: Rows,
) -> None:
    """The protected person's phone, at home all story, reporting every minute."""
    assert wearer.victim_device is not None
    assert wearer.victim_home is not None
    victim = Trajectory.starting(t0, wearer.victim_home)
    victim.stay_until(end)
    sample_device(
        wearer.victim_device,
        victim,
        wearer.frame,
        [(t0, end, DayPlan(protect=[(t0, end)]))],
        rng,
        config,
        rows,
        interval_s=60.0,
        accuracy=(5.0, 25.0),
        phone=True,
    )
