"""The live simulator: wearers from the monitoring plan move in real time, fixes go on the bus.

``vigil demo`` runs it as a background service (only in the demo environment), playing the
scripted story of ``vigil.sim.story`` over and over, and letting the tags obey the engine's
reporting commands.

``speed`` > 1 plays the story faster: fix times follow the simulation clock (start + speed x
elapsed), so they run ahead of the wall clock; the engine evaluates by fix time."""

from __future__ import annotations

import asyncio
import time as monotonic_time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any, Protocol

from vigil.bus.model import Topic
from vigil.gateways.commands import FAST_INTERVAL_S, CommandQueue
from vigil.host import Host
from vigil.logs import get_logger
from vigil.orders.plan_for_engine import monitoring_plan_json
from vigil.sim.model import SimRow
from vigil.sim.story import STORY_HOURS, story, wearers_from_plan
from vigil.tracking.model import Fix

log = get_logger(__name__)


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
            fast_story = story(wearers, story_start, seed + round_no, interval_s=FAST_INTERVAL_S)
            extra = [row for row in fast_story if row.device in devices and not row.alarm]
        arrived, extra_arrived = _Arrivals(rows), _Arrivals(extra)
        while not arrived.done:
            sim_now = start + timedelta(seconds=(monotonic_time.monotonic() - began) * speed)
            if commands is not None:
                _obey(commands, devices, fast, sim_now)
            batch = arrived.until(sim_now)
            batch += [fix for fix in extra_arrived.until(sim_now) if fix.device_id in fast]
            if batch:
                batch.sort(key=lambda fix: fix.receive_time)
                yield batch
            await asyncio.sleep(tick_s)
        story_start += timedelta(hours=STORY_HOURS)
        round_no += 1


class _Arrivals:
    """A story's rows handed out as simulated time passes their arrival."""

    def __init__(self, rows: list[SimRow]) -> None:
        self.rows = rows
        self.position = 0

    @property
    def done(self) -> bool:
        return self.position >= len(self.rows)

    def until(self, now: datetime) -> list[Fix]:
        batch = []
        while not self.done and self.rows[self.position].received <= now:
            batch.append(self.rows[self.position].to_fix())
            self.position += 1
        return batch


class SimHost(Host, Protocol):
    @property
    def device_commands(self) -> CommandQueue: ...


async def run(container: SimHost, stop: asyncio.Event) -> None:
    """Background service: in the demo environment only, stream the plan's wearers to the bus."""
    if container.settings.environment != "demo":
        return
    plan: dict[str, Any] = {"persons": []}
    while not stop.is_set():
        try:
            with container.uow() as uow:
                plan = monitoring_plan_json(
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
    log.info("sim.live_started", wearers=len(plan["persons"]))
    stream = fixes(plan, container.clock.now(), commands=container.device_commands)
    async for batch in stream:
        if stop.is_set():
            break
        await container.bus.publish(Topic.FIXES, batch)
