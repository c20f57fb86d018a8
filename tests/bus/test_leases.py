"""Partitions that move by themselves: engine processes share the bus's partitions out among
themselves, and when one dies the others take its share over within the lease time."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import nats
import pytest

from tests.bus.test_buses import _fix
from vigil.bus.leases import PartitionLeases, meant_for
from vigil.bus.model import Topic, partition_of
from vigil.bus.nats import NatsBus

PARTITIONS = 8
TTL_S = 3.0


def test_each_partition_has_one_member_and_a_leaver_moves_only_its_own() -> None:
    members = ["engine-a", "engine-b", "engine-c", "engine-d"]
    before = meant_for(members, 64)
    counts = {m: sum(1 for owner in before.values() if owner == m) for m in members}
    assert all(8 <= n <= 24 for n in counts.values()), counts  # a fair share each, roughly
    after = meant_for([m for m in members if m != "engine-c"], 64)
    moved = {p for p in range(64) if before[p] != after[p]}
    assert moved == {p for p, owner in before.items() if owner == "engine-c"}


def _engine(into: list[Any]) -> Any:
    async def on_fixes(batch: list[Any]) -> None:  # the same code in every process
        into.extend(batch)

    return on_fixes


async def _until(condition: Any, seconds: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


@pytest.mark.integration
async def test_a_dead_engines_partitions_are_taken_over_and_nothing_is_lost(
    nats_names: tuple[str, str],
) -> None:
    stream, prefix = nats_names
    seen: list[list[Any]] = [[], []]
    processes = []
    for index in range(2):
        bus = NatsBus(
            stream=stream, subject_prefix=prefix, partitions=PARTITIONS, leased=True,
            lease_ttl_s=TTL_S, ack_wait_s=2,
        )  # fmt: skip
        handler = _engine(seen[index])
        bus.subscribe(Topic.FIXES, handler)
        await bus.start()
        processes.append((bus, handler))
    first, second = processes

    def held(process: tuple[NatsBus, Any]) -> set[int]:
        return process[0].partitions_held(process[1]) or set()

    # Both live: the partitions are shared out, each to one of them.
    await _until(
        lambda: (
            held(first) | held(second) == set(range(PARTITIONS))
            and not held(first) & held(second)
            and held(first)
            and held(second)
        ),
        20,
        "the partitions to be shared out",
    )
    devices = [f"35{n:013d}" for n in range(40)]
    for n, device in enumerate(devices):
        await first[0].publish(Topic.FIXES, [_fix(device, n)], key=device)
    await _until(lambda: len(seen[0]) + len(seen[1]) >= 40, 15, "every fix to be handled")
    assert sorted(f.device_id for f in seen[0] + seen[1]) == sorted(devices)
    for fix in seen[0]:
        assert partition_of(fix.device_id, PARTITIONS) in held(first)

    # The first process dies: no goodbye, its leases just stop being renewed.
    orphaned = held(first)
    for task in first[0]._lease_tasks:
        task.cancel()
    for _stop, task in first[0]._consumers.values():
        task.cancel()
    took = await _until(lambda: held(second) == set(range(PARTITIONS)), TTL_S * 4, "the takeover")
    assert took <= TTL_S * 2 + 1  # the lease's life and one renewal, not minutes
    late = [d for d in devices if partition_of(d, PARTITIONS) in orphaned]
    for n, device in enumerate(late):
        await second[0].publish(Topic.FIXES, [_fix(device, 100 + n)], key=device)
    await _until(
        lambda: (
            sum(1 for f in seen[1] if f.device_id in late and f.fix_time.second >= 0) >= 1
            and len([f for f in seen[1] if f.device_id in late])
            >= len(late) + len([f for f in seen[0] if f.device_id in late]) * 0
        ),
        15,
        "the orphaned partitions' fixes",
    )
    await second[0].js.delete_stream(stream)
    await second[0].close()
    # The lease bucket outlives the buses: take it off the shared server.
    client = await nats.connect("nats://127.0.0.1:4222")
    await client.jetstream().delete_key_value(f"{stream}_leases")
    await client.close()
    if first[0]._nc is not None:
        await first[0]._nc.close()


@pytest.mark.integration
async def test_a_lease_that_expired_while_nats_was_away_is_kept_without_a_gap(
    nats_names: tuple[str, str],
) -> None:
    stream, _prefix = nats_names
    client = await nats.connect("nats://127.0.0.1:4222")
    leases = PartitionLeases(
        client.jetstream(), bucket=f"{stream}_leases", group="g", member="only", partitions=4,
        ttl_s=1.0,
    )  # fmt: skip
    changes: list[set[int]] = []

    async def on_change(partitions: set[int]) -> None:
        changes.append(partitions)

    await leases.renew(on_change)
    assert changes == [{0, 1, 2, 3}]
    await asyncio.sleep(2.5)  # no renewal for longer than the lease's life: every key expired
    await leases.renew(on_change)
    assert changes == [{0, 1, 2, 3}], "the partitions were dropped for a round and taken again"
    assert leases.held == {0, 1, 2, 3}
    await client.jetstream().delete_key_value(f"{stream}_leases")
    await client.close()


@pytest.mark.integration
async def test_a_handler_is_told_its_partitions_before_their_first_message(
    nats_names: tuple[str, str],
) -> None:
    stream, prefix = nats_names
    publisher = NatsBus(stream=stream, subject_prefix=prefix, partitions=PARTITIONS)
    await publisher.connect()
    devices = [f"35{n:013d}" for n in range(20)]
    for n, device in enumerate(devices):  # waiting on the stream before anyone consumes
        await publisher.publish(Topic.FIXES, [_fix(device, n)], key=device)
    happened: list[Any] = []

    async def on_fixes(batch: list[Any]) -> None:
        happened.extend(batch)

    async def on_assign(partitions: set[int]) -> None:
        await asyncio.sleep(0.3)  # an engine loading its wearers takes a while
        happened.append(partitions)

    bus = NatsBus(
        stream=stream, subject_prefix=prefix, partitions=PARTITIONS, leased=True,
        lease_ttl_s=TTL_S,
    )  # fmt: skip
    bus.subscribe(Topic.FIXES, on_fixes, on_assign=on_assign)
    await bus.start()
    await _until(lambda: len(happened) > len(devices), 15, "every fix")
    assert happened[0] == set(range(PARTITIONS))
    assert sorted(f.device_id for f in happened[1:]) == sorted(devices)
    await bus.js.delete_stream(stream)
    await bus.js.delete_key_value(f"{stream}_leases")
    await bus.close()
    await publisher.close()


@pytest.mark.integration
async def test_partitions_a_stuck_member_never_takes_are_reported_unconsumed(
    nats_names: tuple[str, str],
) -> None:
    # A process that keeps its member key alive but never takes its partitions (hung, or a
    # bug): rendezvous hashing keeps its share away from everyone else, so nobody consumes it.
    # That must show in readiness and metrics, not only in a backlog nobody watches.
    stream, prefix = nats_names
    bus = NatsBus(
        stream=stream, subject_prefix=prefix, partitions=PARTITIONS, leased=True,
        lease_ttl_s=TTL_S,
    )  # fmt: skip
    bus.subscribe(Topic.FIXES, _engine([]))
    await bus.start()
    await _until(
        lambda: any(view.held for view in bus.partition_report().leases), 10, "the partitions"
    )
    group = bus.partition_report().leases[0].group
    kv = await bus.js.key_value(f"{stream}_leases")
    stuck_share = {
        p for p, m in meant_for([bus.member, "stuck"], PARTITIONS).items() if m == "stuck"
    }

    async def stuck_alive() -> None:
        while True:
            await kv.put(f"{group}.member.stuck", b"alive")
            await asyncio.sleep(TTL_S / 3)

    alive = asyncio.create_task(stuck_alive())
    try:
        await _until(
            lambda: bus.partition_report().leases[0].unconsumed == stuck_share,
            TTL_S * 4 + 5,
            "the stuck member's share to be reported",
        )
        view = bus.partition_report().leases[0]
        assert view.held == frozenset(set(range(PARTITIONS)) - stuck_share)
    finally:
        alive.cancel()
    # Once its key expires the share is taken here and the report clears.
    await _until(
        lambda: (
            not bus.partition_report().leases[0].unconsumed
            and bus.partition_report().leases[0].held == frozenset(range(PARTITIONS))
        ),
        TTL_S * 4 + 5,
        "the share to be taken over",
    )
    await bus.js.delete_stream(stream)
    await bus.js.delete_key_value(f"{stream}_leases")
    await bus.close()


@pytest.mark.integration
async def test_a_member_busy_loading_its_share_is_not_counted_gone(
    nats_names: tuple[str, str],
) -> None:
    # An engine taking partitions reloads its wearers before it renews again, which took
    # seconds under load; its membership must outlive that, or the others take its share and
    # the shares swing back and forth (seen in the scale-out measurement).
    stream, _prefix = nats_names
    client = await nats.connect("nats://127.0.0.1:4222")
    js = client.jetstream()

    def member(name: str) -> PartitionLeases:
        return PartitionLeases(
            js, bucket=f"{stream}_leases", group="g", member=name, partitions=PARTITIONS,
            ttl_s=1.0, renew_s=0.3,
        )  # fmt: skip

    busy, other = member("busy"), member("other")
    taken_by_other: list[set[int]] = []

    async def slow_load(partitions: set[int]) -> None:
        await asyncio.sleep(2.5)  # longer than the lease's life

    async def record(partitions: set[int]) -> None:
        taken_by_other.append(set(partitions))

    stop = asyncio.Event()
    runs = [asyncio.create_task(busy.run(slow_load, stop))]
    await asyncio.sleep(0.2)
    runs.append(asyncio.create_task(other.run(record, stop)))
    await asyncio.sleep(6)
    stop.set()
    await asyncio.gather(*runs)

    shares = meant_for(["busy", "other"], PARTITIONS)
    busy_share = {p for p, name in shares.items() if name == "busy"}
    assert taken_by_other, "the other member took its own share"
    assert all(not held & busy_share for held in taken_by_other), taken_by_other
    await js.delete_key_value(f"{stream}_leases")
    await client.close()
