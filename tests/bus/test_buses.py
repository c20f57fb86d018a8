from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vigil.bus import memory
from vigil.bus.codec import CodecError, decode, encode
from vigil.bus.delivery import DeliveryPolicy
from vigil.bus.memory import InMemoryBus
from vigil.bus.model import Topic, partition_of
from vigil.bus.nats import NatsBus
from vigil.engine.events import EngineEvent, EventKind, EventPhase
from vigil.tracking.model import Alarm, Fix

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _fix(device: str, n: int) -> Fix:
    return Fix(
        device_id=device,
        fix_time=T0 + timedelta(seconds=n),
        receive_time=T0 + timedelta(seconds=n, milliseconds=300),
        lat=52.48 + n * 1e-5,
        lon=-1.89,
        protocol="teltonika",
        accuracy_m=12.0,
        alarms=frozenset({Alarm.STRAP_REMOVED}) if n == 3 else frozenset(),
        raw="deadbeef",
        attributes={"io239": 1},
    )


def test_fixes_and_events_survive_the_wire_format() -> None:
    fix = _fix("356307042441013", 3)
    assert decode(encode(fix)) == fix
    event = EngineEvent(
        episode_id="e1",
        person_id="17",
        condition_id="4",
        kind=EventKind.EXCLUSION_ZONE,
        phase=EventPhase.STARTED,
        start=T0,
        end=None,
        raised_at=T0 + timedelta(seconds=40),
        retrospective=True,
        fix_ids=(1, 2, 3),
        detail={"fixes": 3},
    )
    assert decode(encode(event)) == event


def test_garbage_on_the_wire_is_a_codec_error() -> None:
    with pytest.raises(CodecError, match="payload"):
        decode(b"\x00not json")
    with pytest.raises(CodecError, match="type"):
        decode(b'{"type": "mystery", "data": {}}')


def test_a_device_always_maps_to_the_same_partition() -> None:
    assert partition_of("356307042441013", 16) == partition_of("356307042441013", 16)
    spread = {partition_of(f"dev{n}", 16) for n in range(200)}
    assert len(spread) == 16


async def test_in_memory_bus_delivers_batches_in_order_to_every_subscriber() -> None:
    bus = InMemoryBus()
    first: list[Any] = []
    second: list[Any] = []

    async def one(batch: list[Any]) -> None:
        first.extend(batch)

    async def two(batch: list[Any]) -> None:
        second.extend(batch)

    bus.subscribe(Topic.FIXES, one)
    bus.subscribe(Topic.FIXES, two)
    fixes = [_fix("a", n) for n in range(50)]
    await bus.publish(Topic.FIXES, fixes, key="a")
    await bus.drain()
    assert first == fixes
    assert second == fixes
    await bus.close()


async def test_in_memory_publish_returns_only_once_every_subscriber_has_handled_it() -> None:
    # A gateway answers its device when publish returns: by then the fix must be stored.
    bus = InMemoryBus()
    stored: list[Any] = []

    async def slow_store(batch: list[Any]) -> None:
        await asyncio.sleep(0.05)
        stored.extend(batch)

    bus.subscribe(Topic.FIXES, slow_store)
    fixes = [_fix("a", n) for n in range(3)]
    await bus.publish(Topic.FIXES, fixes, key="a")
    assert stored == fixes
    await bus.close()


async def test_a_publish_still_waiting_when_the_bus_stops_fails_rather_than_hangs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "CLOSE_WAIT_S", 0.1)
    bus = InMemoryBus()
    stuck = asyncio.Event()

    async def never_finishes(batch: list[Any]) -> None:
        stuck.set()
        await asyncio.Event().wait()

    bus.subscribe(Topic.FIXES, never_finishes)
    waiting = asyncio.create_task(bus.publish(Topic.FIXES, [_fix("a", 0)], key="a"))
    await stuck.wait()
    late = asyncio.create_task(bus.publish(Topic.FIXES, [_fix("a", 1)], key="a"))
    await asyncio.sleep(0)
    closing = asyncio.create_task(bus.close())
    with pytest.raises(ConnectionError):
        await waiting
    with pytest.raises(ConnectionError):
        await late
    await closing


async def test_in_memory_bus_dead_letters_a_message_its_handler_cannot_take_and_keeps_going() -> (
    None
):
    bus = InMemoryBus(policy=DeliveryPolicy(first_pause_s=0.001))
    seen: list[Any] = []

    async def flaky(batch: list[Any]) -> None:
        if any(fix.fix_time == T0 for fix in batch):
            raise RuntimeError("bug")
        seen.extend(batch)

    bus.subscribe(Topic.FIXES, flaky)
    await bus.publish(Topic.FIXES, [_fix("a", 0)])
    await bus.drain()
    await bus.publish(Topic.FIXES, [_fix("a", 1)])
    await bus.drain()
    assert [fix.fix_time for fix in seen] == [T0 + timedelta(seconds=1)]
    [(topic, payload, error)] = bus.dead_letters.held  # type: ignore[attr-defined]
    assert (topic, decode(payload), error) == (Topic.FIXES, _fix("a", 0), "RuntimeError: bug")
    await bus.close()


async def _delete_stream(bus: NatsBus) -> None:
    await bus.js.delete_stream(bus.stream)


@pytest.mark.integration
async def test_nats_bus_delivers_each_devices_fixes_in_order(nats_names: tuple[str, str]) -> None:
    stream, prefix = nats_names
    publisher = NatsBus(stream=stream, subject_prefix=prefix, partitions=4)
    await publisher.connect()
    received: list[Fix] = []
    done = asyncio.Event()

    async def handler(batch: list[Any]) -> None:
        received.extend(batch)
        if len(received) >= 60:
            done.set()

    worker = NatsBus(stream=stream, subject_prefix=prefix, partitions=4, consumer_name="w")
    await worker.connect()
    worker.subscribe(Topic.FIXES, handler)
    await worker.start()
    for device in ("a", "b", "c"):
        await publisher.publish(Topic.FIXES, [_fix(device, n) for n in range(20)], key=device)
    await asyncio.wait_for(done.wait(), timeout=10)
    for device in ("a", "b", "c"):
        mine = [fix.fix_time for fix in received if fix.device_id == device]
        assert mine == sorted(mine)
        assert len(mine) == 20
    await worker.close()
    await _delete_stream(publisher)
    await publisher.close()


@pytest.mark.integration
async def test_nats_bus_retries_a_failed_batch_before_anything_later(
    nats_names: tuple[str, str],
) -> None:
    stream, prefix = nats_names
    bus = NatsBus(stream=stream, subject_prefix=prefix, partitions=1)
    await bus.start()
    attempts = 0
    delivered: list[Fix] = []
    done = asyncio.Event()

    async def crashes_once(batch: list[Any]) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("database briefly unavailable")
        delivered.extend(batch)
        if len(delivered) >= 10:
            done.set()

    bus.subscribe(Topic.FIXES, crashes_once)  # after start, as a service's own task would
    await bus.publish(Topic.FIXES, [_fix("a", n) for n in range(5)], key="a")
    await asyncio.sleep(0.3)
    await bus.publish(Topic.FIXES, [_fix("a", n) for n in range(5, 10)], key="a")
    await asyncio.wait_for(done.wait(), timeout=15)
    assert [fix.fix_time for fix in delivered] == [T0 + timedelta(seconds=n) for n in range(10)]
    await _delete_stream(bus)
    await bus.close()


@pytest.mark.integration
async def test_nats_bus_redelivers_what_a_dead_worker_never_acknowledged(
    nats_names: tuple[str, str],
) -> None:
    stream, prefix = nats_names
    first = NatsBus(stream=stream, subject_prefix=prefix, partitions=1, ack_wait_s=1)
    stuck = asyncio.Event()

    async def dies(batch: list[Any]) -> None:
        stuck.set()
        await asyncio.sleep(3600)  # the process dies here; the batch is never acknowledged

    first.subscribe(Topic.FIXES, dies)
    await first.start()
    await first.publish(Topic.FIXES, [_fix("a", n) for n in range(5)], key="a")
    await asyncio.wait_for(stuck.wait(), timeout=10)
    for _stop, task in first._consumers.values():  # the process dies: nothing more is said
        task.cancel()
    await first.close()

    successor = NatsBus(stream=stream, subject_prefix=prefix, partitions=1, ack_wait_s=1)
    delivered: list[Fix] = []
    done = asyncio.Event()

    async def handles(batch: list[Any]) -> None:
        delivered.extend(batch)
        if len(delivered) >= 5:
            done.set()

    successor.subscribe(Topic.FIXES, handles)
    await successor.start()
    await asyncio.wait_for(done.wait(), timeout=15)
    assert sorted(fix.fix_time for fix in delivered) == [
        T0 + timedelta(seconds=n) for n in range(5)
    ]
    await _delete_stream(successor)
    await successor.close()


def _collector(into: list[Any]) -> Any:
    """The same handler code in every 'process', as a worker's subscription would be."""

    async def collect(batch: list[Any]) -> None:
        into.extend(batch)

    return collect


async def _settle(seconds: float = 1.0) -> None:
    await asyncio.sleep(seconds)


@pytest.mark.integration
async def test_a_fix_sent_again_after_an_outage_reaches_the_engine_once(
    nats_names: tuple[str, str],
) -> None:
    stream, prefix = nats_names
    bus = NatsBus(stream=stream, subject_prefix=prefix, partitions=2)
    received: list[Any] = []
    bus.subscribe(Topic.FIXES, _collector(received))
    await bus.start()
    fix = _fix("356307042441013", 1)
    # The device resent it unanswered, so it was decoded again: a later receive time.
    resent = replace(fix, receive_time=fix.receive_time + timedelta(seconds=40))
    await bus.publish(Topic.FIXES, [fix], key=fix.device_id)
    await bus.publish(Topic.FIXES, [resent, _fix("356307042441013", 2)], key=fix.device_id)
    await _settle()
    assert [f.fix_time for f in received] == [T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)]
    await _delete_stream(bus)
    await bus.close()


@pytest.mark.integration
async def test_a_restarted_process_resumes_where_it_stopped_whatever_order_it_subscribes_in(
    nats_names: tuple[str, str],
) -> None:
    stream, prefix = nats_names
    engine: list[Any] = []
    audit: list[Any] = []
    first = NatsBus(stream=stream, subject_prefix=prefix, partitions=2)
    first.subscribe(Topic.FIXES, _collector(engine))
    first.subscribe(Topic.FIXES, _auditor(audit))
    await first.start()
    await first.publish(Topic.FIXES, [_fix("a", n) for n in range(10)], key="a")
    await _settle()
    assert (len(engine), len(audit)) == (10, 10)
    await first.close()

    again: list[Any] = []
    audit_again: list[Any] = []
    restarted = NatsBus(stream=stream, subject_prefix=prefix, partitions=2)
    restarted.subscribe(Topic.FIXES, _auditor(audit_again))  # the other order this time
    restarted.subscribe(Topic.FIXES, _collector(again))
    await restarted.start()
    await restarted.publish(Topic.FIXES, [_fix("a", 10)], key="a")
    await _settle()
    assert [f.fix_time for f in again] == [T0 + timedelta(seconds=10)]  # nothing replayed
    assert [f.fix_time for f in audit_again] == [T0 + timedelta(seconds=10)]
    await _delete_stream(restarted)
    await restarted.close()


def _auditor(into: list[Any]) -> Any:
    async def audit(batch: list[Any]) -> None:
        into.extend(batch)

    return audit


@pytest.mark.integration
async def test_live_pages_in_every_process_see_every_change_while_work_is_shared(
    nats_names: tuple[str, str],
) -> None:
    stream, prefix = nats_names
    processes = [NatsBus(stream=stream, subject_prefix=prefix, partitions=4) for _ in range(2)]
    live: list[list[Any]] = [[], []]
    work: list[Any] = []
    for bus, seen in zip(processes, live, strict=True):
        bus.subscribe(Topic.FIXES, _collector(seen), fan_out=True)
        bus.subscribe(Topic.FIXES, _auditor(work))
        await bus.start()
    devices = [f"dev{n}" for n in range(12)]
    for n, device in enumerate(devices):
        await processes[n % 2].publish(Topic.FIXES, [_fix(device, n)], key=device)
    await _settle(2.0)
    assert sorted(f.device_id for f in live[0]) == sorted(devices)
    assert sorted(f.device_id for f in live[1]) == sorted(devices)
    assert sorted(f.device_id for f in work) == sorted(devices)  # each handled once, by one
    await _delete_stream(processes[0])
    for bus in processes:
        await bus.close()
