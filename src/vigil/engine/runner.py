"""The live engine: a background service turning fixes on the bus into stored violations and events.

It only translates: fixes from ``Topic.FIXES`` become a :class:`FixBatch`, the engine core decides
(the same code ``vigil replay`` runs), and fixes, violations and engine state are committed in one
transaction before the events go out on ``Topic.ENGINE_EVENTS``. A timer tick every second lets
silent devices and curfew windows be noticed with no fix at all; the monitoring plan is re-read
every minute so new orders and conditions take effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from vigil.bus.model import Bus, Topic, partition_of
from vigil.db.uow import UnitOfWork
from vigil.devices.service import person_for_device
from vigil.engine import service
from vigil.engine.core import Engine, FixBatch
from vigil.engine.events import EngineEvent
from vigil.engine.plan import parse_plan
from vigil.errors import ValidationError
from vigil.gateways.commands import CommandQueue
from vigil.host import Host
from vigil.logs import get_logger
from vigil.tracking import store
from vigil.tracking.model import Fix

log = get_logger(__name__)

TICK_S = 1.0
PLAN_EVERY_S = 60.0
# Fixes older than this are attributed by the allocation at their own fix time.
RESOLVE_OLDER_THAN_S = 600.0


def batch_from_fixes(fixes: Sequence[Fix], ids: Sequence[int], now: float) -> FixBatch:
    names: dict[str, int] = {}
    codes = np.array([names.setdefault(f.device_id, len(names)) for f in fixes], dtype=np.int64)

    def column(values: list[float | None]) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

    alarms = [";".join(sorted(a.value for a in f.alarms)) for f in fixes]
    return FixBatch(
        device_codes=codes,
        device_names=list(names),
        t=np.array([f.fix_time.timestamp() for f in fixes]),
        lon=column([f.lon for f in fixes]),
        lat=column([f.lat for f in fixes]),
        acc=column([f.accuracy_m for f in fixes]),
        fix_id=np.asarray(ids, dtype=np.int64),
        arrival=np.full(len(fixes), now),
        battery=column([f.battery_pct for f in fixes]),
        alarms=alarms,
        has_alarm=np.array([bool(a) for a in alarms], dtype=bool),
        approximate=np.array([f.approximate for f in fixes], dtype=bool),
        valid=np.array([f.valid for f in fixes], dtype=bool),
        alcohol=column([_alcohol(f) for f in fixes]),
    )


def _alcohol(fix: Fix) -> float | None:
    value = fix.attributes.get("alcohol")
    return float(value) if isinstance(value, int | float) else None


class EngineHost(Host, Protocol):
    """What the live engine needs of its process: the common pieces and the tags' commands."""

    @property
    def device_commands(self) -> CommandQueue: ...


class EngineWorker:
    def __init__(self, container: EngineHost) -> None:
        self.container = container
        self.engine: Engine | None = None
        self.plan_hash = ""
        self._resolved: dict[tuple[str, int], str | None] = {}
        # The bus partitions whose wearers this process watches; None: every wearer. Fixes are
        # keyed by person, so a person's timers run where his fixes arrive, and nowhere else.
        self.partitions: set[int] | None = None

    def _now(self) -> float:
        return self.container.clock.now().timestamp()

    def _ask_tags(self, engine: Engine) -> None:
        """Queue "report faster" / "back to normal" for tags whose wearer's state changed; the
        device's gateway connection (or the demo's simulator) takes them from the queue."""
        changes = engine.reporting_changes()
        if changes:
            queue = self.container.device_commands
            now = self.container.clock.now()
            for device, fast in changes:
                queue.request(device, fast, now)

    def load_plan(self) -> bool:
        """(Re)build the engine when the monitoring plan changed; stored state carries over."""
        with self.container.uow() as uow:
            raw = self._watched_plan(uow)
            digest = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()
            if digest == self.plan_hash and self.engine is not None:
                return False
            try:
                plan = parse_plan(raw)
            except ValidationError as exc:
                # Keep watching with the last good plan rather than watching nobody.
                log.error("engine.plan_rejected", errors=[str(e) for e in exc.errors])
                return False
            if self.engine is not None:
                service.save_state(uow, self.engine, everything=True)
                uow.commit()
            engine = Engine(plan, start=self._now())
            service.restore(uow, engine)
            self.engine = engine
            self.plan_hash = digest
        log.info("engine.plan_loaded", persons=len(plan.persons))
        return True

    def _watched_plan(self, uow: UnitOfWork) -> dict[str, Any]:
        """The registry's monitoring plan, cut to the wearers of the partitions held here."""
        from vigil.orders.plan_for_engine import monitoring_plan_json

        settings = self.container.settings
        raw: dict[str, Any] = monitoring_plan_json(
            uow, self.container.clock.now(), timezone=settings.timezone
        )
        raw.pop("at", None)
        if self.partitions is not None:
            raw["persons"] = [
                person
                for person in raw.get("persons", [])
                if partition_of(str(person["id"]), settings.bus_partitions) in self.partitions
            ]
        return raw

    def _holders(self, uow: UnitOfWork, fixes: Sequence[Fix], now: float) -> list[str | None]:
        """Who wore each fix's device at its fix time.

        The plan says who holds each device now; that is the answer for current fixes. A fix from
        a device outside the plan, or older than ``RESOLVE_OLDER_THAN_S`` (a buffered upload may
        predate a re-allocation), is resolved at its own fix time, cached per device and hour.
        """
        engine = self.engine
        result: list[str | None] = []
        for fix in fixes:
            index = engine.device_index.get(fix.device_id, -1) if engine is not None else -1
            planned = engine.device_person[index] if engine is not None and index >= 0 else -1
            age = now - fix.fix_time.timestamp()
            if engine is not None and planned >= 0 and age < RESOLVE_OLDER_THAN_S:
                result.append(engine.persons[planned])
                continue
            key = (fix.device_id, int(fix.fix_time.timestamp() // 3600))
            if key not in self._resolved:
                if len(self._resolved) > 100_000:
                    self._resolved.clear()
                self._resolved[key] = person_for_device(uow, fix.device_id, fix.fix_time)
            result.append(self._resolved[key])
        return result

    def handle(self, fixes: Sequence[Fix]) -> list[EngineEvent]:
        """Store the fixes (always), evaluate those the plan's wearer really wore, commit.

        A fix the trail already holds (a client's resend, the bus's redelivery of a batch whose
        ack was lost) is not stored again, nor evaluated again: it was evaluated when it was
        first stored, in the transaction that saved the engine state after it."""
        if not fixes:
            return []
        engine = self.engine
        now = self._now()
        with self.container.uow() as uow:
            person_ids = self._holders(uow, fixes, now)
            appended = store.append_new(uow, fixes, person_ids)
            ids = appended.ids
            events: list[EngineEvent] = []
            if engine is not None:
                mine = _worn_by_the_planned_wearer(engine, fixes, person_ids, appended.new)
                engine.process(
                    batch_from_fixes([fixes[i] for i in mine], [ids[i] for i in mine], now)
                )
                events = engine.ledger.drain()
                service.store_events(uow, events)
                service.save_state(uow, engine)
            uow.commit()
        if engine is not None:
            self._ask_tags(engine)
        return events

    def tick(self) -> list[EngineEvent]:
        engine = self.engine
        if engine is None:
            return []
        engine.advance(self._now())
        self._ask_tags(engine)
        events = engine.ledger.drain()
        if events or engine.dirty_persons or engine.dirty_devices:
            with self.container.uow() as uow:
                service.store_events(uow, events)
                service.save_state(uow, engine)
                uow.commit()
        return events


def _worn_by_the_planned_wearer(
    engine: Engine, fixes: Sequence[Fix], person_ids: Sequence[str | None], new: Sequence[int]
) -> list[int]:
    """Indexes of the fixes to evaluate, among the ``new`` ones (stored by this batch). A fix
    whose wearer at fix time is not the device's wearer in the plan is evidence about someone
    else: stored, not evaluated against this plan."""
    mine = []
    for i in new:
        fix = fixes[i]
        index = engine.device_index.get(fix.device_id)
        planned = -1 if index is None else engine.device_person[index]
        if planned < 0 or engine.persons[planned] == person_ids[i]:
            mine.append(i)
    return mine


async def _publish(bus: Bus, events: list[EngineEvent]) -> None:
    # Keyed by person: on NATS, each person's events stay in order on one partition, and the
    # alert consumers share the partitions instead of all events going to one.
    by_person: dict[str, list[EngineEvent]] = defaultdict(list)
    for event in events:
        by_person[event.person_id].append(event)
    for person_id, batch in by_person.items():
        await bus.publish(Topic.ENGINE_EVENTS, batch, key=person_id)


def settle_the_heap() -> None:
    """Take what the process holds once started (modules, the app, the plan) out of the cyclic
    garbage collector's full passes; once per process.

    Fixes in flight (decoded, queued on the bus, waiting for the engine's commit) live long
    enough to reach the collector's oldest generation, so at live rates a full pass starts every
    few thousand fixes, and each walked the whole start-up heap: about 100 ms, a fifth of an
    embedded server's CPU at 20,000 fixes/s (docs/performance.md, "Live ingest"). Garbage is
    collected first, so only live objects are frozen; a frozen object is still freed when
    nothing refers to it, it is only never searched for reference cycles."""
    if gc.get_freeze_count():
        return
    gc.collect()
    gc.freeze()


async def run(container: EngineHost, stop: asyncio.Event) -> None:
    worker = EngineWorker(container)
    lock = asyncio.Lock()
    await asyncio.to_thread(worker.load_plan)
    settle_the_heap()

    async def on_fixes(batch: list[Any]) -> None:
        fixes = [message for message in batch if isinstance(message, Fix)]
        async with lock:
            began = time.perf_counter()
            events = await asyncio.to_thread(worker.handle, fixes)
            container.heartbeats.worked("engine", time.perf_counter() - began)
        await _publish(container.bus, events)

    async def on_assign(partitions: set[int]) -> None:
        # A partition taken over (its holder died or left): its wearers, with the state their
        # last holder saved, are loaded before its first fix, so no fix goes unevaluated.
        async with lock:
            worker.partitions = partitions
            await asyncio.to_thread(worker.load_plan)

    container.bus.subscribe(Topic.FIXES, on_fixes, on_assign=on_assign)
    since_plan = 0.0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=TICK_S)
        async with lock:
            since_plan = await _follow_the_plan(worker, since_plan + TICK_S)
            events = await asyncio.to_thread(worker.tick)
        await _publish(container.bus, events)
        container.heartbeats.beat("engine", container.clock.now())


async def _follow_the_plan(worker: EngineWorker, since_plan: float) -> float:
    """Reload the plan every minute; returns the seconds since it was last read.

    When this process's partitions move, ``on_assign`` reloads at once, before their first fix.
    The partitions are not also read from the bus here: the bus registers a taken partition's
    consumer only after ``on_assign`` returns, so a tick in between read the old set and cut the
    plan back to it, and fixes of the new partitions' wearers went unevaluated (a takeover missed
    incursions in the fault suite)."""
    if since_plan < PLAN_EVERY_S:
        return since_plan
    try:
        await asyncio.to_thread(worker.load_plan)
    except Exception:  # a registry hiccup must not stop the watching
        log.exception("engine.plan_failed")
    return 0.0
