"""The live engine worker: registry plan, fixes from the bus, trail store, violations, events."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import START
from tests.people.registry import (
    VICTIM_HOME,
    as_user,
    build_registry,
    order_body,
    person_body,
)
from vigil.bootstrap import Container
from vigil.bus.model import Topic, partition_of
from vigil.bus.tables import bus_dead_letters
from vigil.clock import FrozenClock
from vigil.engine import runner as engine_runner
from vigil.engine.events import EngineEvent, EventKind, EventPhase
from vigil.engine.tables import violations
from vigil.gateways.commands import CommandState
from vigil.tracking import trail_reads
from vigil.tracking.model import Fix
from vigil.tracking.tables import fixes

TAG = "356938035643809"


def _wearer_with_tag(client: TestClient, container: Container) -> int:
    registry = build_registry(container)
    headers = as_user(client, "officer")
    person = client.post("/api/persons", json=person_body(registry.birmingham), headers=headers)
    person_id = int(person.json()["id"])
    order = client.post("/api/orders", json=order_body(person_id), headers=headers)
    assert order.status_code == 201, order.text
    admin = as_user(client, "operator")
    tag = client.post(
        "/api/devices", json={"external_id": TAG, "type": "gps_tag"}, headers=admin
    ).json()
    fitted = (START - timedelta(hours=2)).isoformat()
    allocated = client.post(
        f"/api/devices/{tag['id']}/allocations",
        json={"holder_kind": "person", "holder_id": person_id, "fitted_at": fitted},
        headers=admin,
    )
    assert allocated.status_code == 201, allocated.text
    return person_id


def _fix(seconds: float, east_deg: float = 0.0) -> Fix:
    lon, lat = VICTIM_HOME["coordinates"]
    moment = START + timedelta(seconds=seconds)
    return Fix(TAG, moment, moment, lat, lon + east_deg, "test", accuracy_m=10.0)


async def test_fixes_on_the_bus_become_a_stored_violation_citing_stored_fixes_and_an_event(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    person_id = _wearer_with_tag(client, container)
    received: list[EngineEvent] = []

    async def collect(batch: list[object]) -> None:
        received.extend(e for e in batch if isinstance(e, EngineEvent))

    container.bus.subscribe(Topic.ENGINE_EVENTS, collect)
    stop = asyncio.Event()
    task = asyncio.create_task(engine_runner.run(container, stop))
    for _ in range(50):
        await asyncio.sleep(0.05)
        if container.bus._handlers.get(Topic.FIXES):  # type: ignore[attr-defined]
            break
    clock.set(START + timedelta(seconds=60))
    await container.bus.publish(Topic.FIXES, [_fix(s) for s in range(0, 60, 10)])
    for _ in range(100):
        await asyncio.sleep(0.05)
        if any(e.kind is EventKind.EXCLUSION_ZONE for e in received):
            break
    stop.set()
    await task
    [started] = [e for e in received if e.kind is EventKind.EXCLUSION_ZONE]
    assert started.phase is EventPhase.STARTED
    assert started.person_id == str(person_id)
    with container.engine.connect() as connection:
        [row] = connection.execute(select(violations).where(violations.c.kind == "exclusion_zone"))
        proof = json.loads(row.fix_ids)
        stored = trail_reads.fixes_by_id(connection, proof)
    assert row.episode_id == started.episode_id
    assert proof
    assert set(proof) == set(stored)
    assert all(fix.device_id == TAG for fix in stored.values())


def test_a_restarted_worker_continues_the_same_violation(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    _wearer_with_tag(client, container)
    first = engine_runner.EngineWorker(container)
    assert first.load_plan()
    clock.set(START + timedelta(seconds=60))
    events = first.handle([_fix(s) for s in range(0, 60, 10)])
    [started] = [e for e in events if e.kind is EventKind.EXCLUSION_ZONE]
    second = engine_runner.EngineWorker(container)  # a new process
    second.load_plan()
    clock.set(START + timedelta(seconds=300))
    events = second.handle(
        # 3.4 km out of the zone takes two minutes by car: a plausible exit, not a jump.
        [_fix(s) for s in range(60, 120, 10)] + [_fix(s, 0.05) for s in (230, 240, 250)]
    )
    zone = [e for e in events if e.kind is EventKind.EXCLUSION_ZONE]
    assert [(e.episode_id, e.phase) for e in zone] == [(started.episode_id, EventPhase.ENDED)]
    with container.engine.connect() as connection:
        rows = list(
            connection.execute(select(violations).where(violations.c.kind == "exclusion_zone"))
        )
    assert len(rows) == 1
    assert rows[0].end is not None


def test_a_buffered_fix_from_before_the_tag_was_fitted_is_stored_but_not_held_against_the_wearer(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    _wearer_with_tag(client, container)  # fitted two hours before START
    worker = engine_runner.EngineWorker(container)
    worker.load_plan()
    clock.set(START + timedelta(seconds=60))
    before_fitting = [_fix(s) for s in range(-3 * 3600, -3 * 3600 + 120, 10)]
    events = worker.handle(before_fitting)
    assert [e for e in events if e.kind is EventKind.EXCLUSION_ZONE] == []
    with container.engine.connect() as connection:
        assert list(connection.execute(select(violations))) == []
        stored = trail_reads.fixes_by_id(connection, range(1, 100))
    assert len(stored) == len(before_fitting)
    assert {fix.person_id for fix in stored.values()} == {None}


async def test_poisoned_fixes_on_the_bus_are_dead_lettered_and_cost_the_wearers_fixes_nothing(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    """40 ordinary fixes and 40 whose device id no database can store, in one batch: the 40 are
    in the trail and the 40 in the dead-letter store, with their bytes and the error."""
    _wearer_with_tag(client, container)
    stop = asyncio.Event()
    task = asyncio.create_task(engine_runner.run(container, stop))
    for _ in range(50):
        await asyncio.sleep(0.05)
        if container.bus._handlers.get(Topic.FIXES):  # type: ignore[attr-defined]
            break
    clock.set(START + timedelta(seconds=900))
    ordinary = [_fix(s, 0.05) for s in range(0, 800, 20)]
    poisoned = [replace(fix, device_id=f"{TAG}\ud800") for fix in ordinary]
    mixed = [fix for pair in zip(ordinary, poisoned, strict=True) for fix in pair]
    await container.bus.publish(Topic.FIXES, mixed)
    await container.bus.drain()  # type: ignore[attr-defined]
    stop.set()
    await task
    with container.engine.connect() as connection:
        stored = connection.execute(
            select(func.count()).select_from(fixes).where(fixes.c.device_id == TAG)
        ).scalar_one()
        letters = list(connection.execute(select(bus_dead_letters)))
    assert stored == 40
    assert len(letters) == 40
    assert {letter.topic for letter in letters} == {"fixes"}
    assert all(b"\\ud800" in letter.payload for letter in letters)
    assert all("Unicode" in letter.error for letter in letters)


def test_a_worker_watches_only_the_wearers_of_the_partitions_it_holds(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    person_id = _wearer_with_tag(client, container)
    count = container.settings.bus_partitions
    home = partition_of(str(person_id), count)
    elsewhere = engine_runner.EngineWorker(container)
    elsewhere.partitions = set(range(count)) - {home}  # another process holds his partition
    elsewhere.load_plan()
    assert elsewhere.engine is not None
    assert str(person_id) not in elsewhere.engine.persons
    # Hours of silence: his timers run only where his fixes arrive, so no one else raises
    # "no communication" for him.
    clock.set(START + timedelta(hours=3))
    assert not [e for e in elsewhere.tick() if e.person_id == str(person_id)]

    holder = engine_runner.EngineWorker(container)
    holder.partitions = {home}
    holder.load_plan()
    assert holder.engine is not None
    assert list(holder.engine.persons) == [str(person_id)]


def test_a_pending_visit_queues_a_report_faster_command_for_the_wearers_tag(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    _wearer_with_tag(client, container)
    worker = engine_runner.EngineWorker(container)
    assert worker.load_plan()
    clock.set(START + timedelta(seconds=5))
    worker.handle([_fix(0)])  # one fix inside the zone: a visit pending, waiting for more
    queue = container.device_commands
    [command] = queue.history(TAG)
    assert command.fast
    assert command.state == CommandState.QUEUED
    sent = queue.take(TAG, "gt06", container.clock.now())
    assert sent is command
    assert command.text == "TIMER,10#"
