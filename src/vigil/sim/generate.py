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

from datetime import time as clock_time
from datetime import timedelta
from typing import Any

import numpy as np

from vigil.sim.gps import in_arrival_order, sample_device
from vigil.sim.journeys import DayPlan, plan_day
from vigil.sim.model import VICTIM_INTERVAL_S, Rows, SimConfig, Simulation, Truth, local_epoch
from vigil.sim.trajectory import Trajectory
from vigil.sim.wearers import Wearer, make_wearer


def simulate(config: SimConfig, progress: Any = None) -> Simulation:
    """Simulate ``config.wearers`` wearers over ``config.days`` local days."""
    persons: list[dict[str, Any]] = []
    truth: list[Truth] = []
    rows = Rows()
    start = local_epoch(config.start, clock_time(0, 0))
    for index in range(config.wearers):
        # One stream per wearer, so adding wearers never changes the earlier ones.
        rng = np.random.default_rng([config.seed, index])
        wearer = make_wearer(index, rng)
        path = Trajectory.starting(start, (0.0, 0.0))
        victim = Trajectory.starting(start, wearer.victim_home) if wearer.victim_home else None
        plans = _plan_days(wearer, path, victim, rng, config, truth)
        _sample_devices(wearer, path, victim, plans, rng, config, rows)
        persons.append(
            {
                "id": wearer.person,
                "devices": [wearer.device],
                "conditions": wearer.conditions_json(),
            }
        )
        if progress is not None:
            progress(index + 1)
    scenario = {"timezone": "Europe/London", "persons": persons}
    truth.sort(key=lambda t: (t.start, t.person, t.kind))
    return Simulation(scenario, in_arrival_order(rows), truth, config)


def _plan_days(
    wearer: Wearer,
    path: Trajectory,
    victim: Trajectory | None,
    rng: np.random.Generator,
    config: SimConfig,
    truth: list[Truth],
) -> list[tuple[float, float, DayPlan]]:
    plans: list[tuple[float, float, DayPlan]] = []
    for offset in range(config.days):
        day = config.start + timedelta(days=offset)
        day_start = local_epoch(day, clock_time(0, 0))
        plan = plan_day(wearer, day, path, victim, rng, config, truth)
        plans.append((day_start, local_epoch(day + timedelta(days=1), clock_time(0, 0)), plan))
    return plans


def _sample_devices(
    wearer: Wearer,
    path: Trajectory,
    victim: Trajectory | None,
    plans: list[tuple[float, float, DayPlan]],
    rng: np.random.Generator,
    config: SimConfig,
    rows: Rows,
) -> None:
    """The wearer's tag, then the protected person's phone (which reports every five minutes)."""
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
        # The phone never drops out or uploads late: every day is protected.
        victim_plans = [(a, b, DayPlan(protect=[(a, b)])) for a, b, _ in plans]
        phone_config = SimConfig(buffered_block_rate=0.0, dropouts_per_day=0.0)
        device, frame, accuracy = wearer.victim_device, wearer.frame, (5.0, 30.0)
        sample_device(
            device, victim, frame, victim_plans, rng, phone_config, rows,
            interval_s=VICTIM_INTERVAL_S, accuracy=accuracy, phone=True,
        )  # fmt: skip
