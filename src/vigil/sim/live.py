"""The live simulator: wearers from the monitoring plan move in real time, fixes go on the bus.

``vigil demo`` runs it as a background service (only in the demo environment). Each wearer in
the plan gets a home (the curfew address), their exclusion zone and, where the plan has one, the
protected person's phone; a scripted story starts within minutes so violations happen while the
demo is watched: the first wearer walks into their exclusion zone, the second removes the strap,
the third goes near the protected person (or loses GPS), and so on, then everyone goes home.

``speed`` > 1 plays the story faster: fix times follow the simulation clock (start + speed x
elapsed), so they run ahead of the wall clock; the engine evaluates by fix time.
"""

from __future__ import annotations

import asyncio
import importlib
import math
import time as monotonic_time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from shapely.geometry import shape

from vigil.bus.model import Topic
from vigil.gateways.commands import FAST_INTERVAL_S, CommandQueue, queue_of
from vigil.logs import get_logger
from vigil.sim.gps import in_arrival_order as _finish
from vigil.sim.gps import sample_device
from vigil.sim.journeys import DayPlan
from vigil.sim.model import Rows, SimConfig, SimRow
from vigil.sim.trajectory import WALK_MPS, LocalFrame, Trajectory
from vigil.sim.wearers import Wearer
from vigil.tracking.model import Fix

log = get_logger(__name__)
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
    out: list[Wearer] = []
    for person in plan.get("persons", []):
        devices = person.get("devices") or []
        if not devices:
            continue
        conditions = person.get("conditions", [])
        zone = next((c for c in conditions if c.get("type") == "exclusion_zone"), None)
        home = next((c for c in conditions if c.get("type") in ("curfew", "inclusion_zone")), None)
        victim = next((c for c in conditions if c.get("type") == "proximity"), None)
        zone_circle = _circle(zone) if zone else None
        home_circle = _circle(home) if home else None
        if home_circle is None and zone_circle is None:
            continue
        if home_circle is None:
            assert zone_circle is not None
            frame = LocalFrame(zone_circle[0] + (zone_circle[2] + 400) / 111_320, zone_circle[1])
        else:
            frame = LocalFrame(home_circle[0], home_circle[1])
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
            work=(1_500 * math.sin(away), 1_500 * math.cos(away)),
            shops=[(800 * math.sin(away + 0.5), 800 * math.cos(away + 0.5))],
            friend=(1_200 * math.sin(away - 0.6), 1_200 * math.cos(away - 0.6)),
        )
        if victim is not None and victim.get("device"):
            wearer.victim_device = str(victim["device"])
            wearer.victim_home = (2_000 * math.sin(away + 1.2), 2_000 * math.cos(away + 1.2))
            wearer.victim_shop = wearer.victim_home
        out.append(wearer)
    return out


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
        # The first wearer's strap comes off a minute or two in, so a newcomer to the demo sees
        # an alert arrive almost at once; zone entries and approaches follow.
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
    return _finish(rows)


def _obey(commands: CommandQueue, devices: list[str], fast: set[str], now: datetime) -> None:
    """Take the commands waiting for the simulated tags; they obey (and say so) at once."""
    for device in devices:
        if not commands.waiting(device):
            continue
        command = commands.take(device, "sim", now)
        if command is None:
            continue
        if command.fast:
            fast.add(device)
        else:
            fast.discard(device)
        commands.acknowledge(device, f"reporting every {command.interval_s} s", now)


async def fixes(
    plan: dict[str, Any],
    start: datetime,
    *,
    speed: float = 1.0,
    seed: int = 1,
    tick_s: float = 1.0,
    commands: CommandQueue | None = None,
) -> AsyncIterator[list[Fix]]:
    """Batches of fixes as they "arrive", forever: one story after another.

    With ``commands``, the tags obey reporting commands: a tag told to report faster also sends
    the fixes of the same story sampled every ``FAST_INTERVAL_S`` until told to slow down.
    """
    wearers = wearers_from_plan(plan)
    if not wearers:
        return
    devices = [wearer.device for wearer in wearers]
    fast: set[str] = set()
    began = monotonic_time.monotonic()
    story_start = start
    round_no = 0
    while True:
        rows = story(wearers, story_start, seed + round_no)
        extra: list[SimRow] = []
        if commands is not None:
            # The same walks (the story is seeded per wearer), sampled faster; alarms come once.
            extra = [
                row
                for row in story(wearers, story_start, seed + round_no, interval_s=FAST_INTERVAL_S)
                if row.device in devices and not row.alarm
            ]
        position = extra_at = 0
        while position < len(rows):
            sim_now = start + timedelta(seconds=(monotonic_time.monotonic() - began) * speed)
            if commands is not None:
                _obey(commands, devices, fast, sim_now)
            batch: list[Fix] = []
            while position < len(rows) and rows[position].received <= sim_now:
                batch.append(rows[position].to_fix())
                position += 1
            while extra_at < len(extra) and extra[extra_at].received <= sim_now:
                if extra[extra_at].device in fast:
                    batch.append(extra[extra_at].to_fix())
                extra_at += 1
            if batch:
                batch.sort(key=lambda fix: fix.receive_time)
                yield batch
            await asyncio.sleep(tick_s)
        story_start += timedelta(hours=STORY_HOURS)
        round_no += 1


async def run(container: Any, stop: asyncio.Event) -> None:
    """Background service: in the demo environment only, stream the plan's wearers to the bus."""
    if str(getattr(container.settings, "environment", "")) != "demo":
        return
    speed = float(container.extras.get("sim.speed", 1.0))
    plan: dict[str, Any] = {"persons": []}
    while not stop.is_set():
        try:
            orders = importlib.import_module("vigil.orders.service")
            with container.uow() as uow:
                plan = orders.monitoring_plan(
                    uow, container.clock.now(), timezone=container.settings.timezone
                )
        except Exception:  # the registry may not be seeded yet: try again shortly
            log.exception("sim.plan_unavailable")
        if wearers_from_plan(plan):
            break
        try:
            await asyncio.wait_for(stop.wait(), timeout=10)
        except TimeoutError:
            continue
    if stop.is_set():
        return
    log.info("sim.live_started", wearers=len(plan["persons"]), speed=speed)
    stream = fixes(plan, container.clock.now(), speed=speed, commands=queue_of(container.extras))
    async for batch in stream:
        if stop.is_set():
            break
        await container.bus.publish(Topic.FIXES, batch)
