"""One contract for both buses, run against the in-process bus and a real NATS JetStream server:
a poisoned message is dead-lettered alone, an outage is waited out, order is kept."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from tests.bus.conftest import nats_reachable
from tests.bus.test_buses import T0, _fix
from tests.conftest import require_service
from vigil.bus.delivery import DeliveryPolicy
from vigil.bus.memory import HeldDeadLetters, InMemoryBus
from vigil.bus.model import Bus, Topic
from vigil.bus.nats import NatsBus
from vigil.tracking.model import Fix

FAST = DeliveryPolicy(first_pause_s=0.01, longest_pause_s=0.05)
POISON = "\ud800"  # a lone surrogate: no database can store it


@dataclass
class Rig:
    bus: Bus
    dead: HeldDeadLetters
    drain: Any  # async () -> None: returns once everything published has been handled


@pytest.fixture(params=["memory", "nats"])
async def rig(request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    dead = HeldDeadLetters()
    if request.param == "memory":
        memory = InMemoryBus(dead_letters=dead, policy=FAST)
        yield Rig(memory, dead, memory.drain)
        await memory.close()
        return
    require_service("NATS", nats_reachable(), "nothing listening on 127.0.0.1:4222")
    suffix = uuid.uuid4().hex[:8]
    nats = NatsBus(
        stream=f"VIGILCONTRACT{suffix}",
        subject_prefix=f"vigilcontract{suffix}",
        partitions=1,
        dead_letters=dead,
        policy=FAST,
    )
    yield Rig(nats, dead, lambda: asyncio.sleep(0))
    await nats.js.delete_stream(nats.stream)
    await nats.close()


class Store:
    """A handler that, like the trail store, refuses text it cannot encode, all or nothing."""

    def __init__(self, outages: int = 0) -> None:
        self.stored: list[Fix] = []
        self.outages = outages
        self.changed = asyncio.Event()

    async def __call__(self, batch: list[Any]) -> None:
        if self.outages:
            self.outages -= 1
            raise ConnectionError("database unreachable")
        for fix in batch:
            fix.device_id.encode("utf-8")  # raises UnicodeEncodeError for a lone surrogate
        self.stored.extend(batch)
        self.changed.set()


async def _until(rig: Rig, condition: Any, what: str) -> None:
    await rig.drain()
    deadline = asyncio.get_running_loop().time() + 20
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_a_poisoned_message_is_dead_lettered_alone_and_the_rest_of_its_batch_is_kept(
    rig: Rig,
) -> None:
    store = Store()
    rig.bus.subscribe(Topic.FIXES, store)
    await rig.bus.start()
    mixed = [_fix("ordinary" if n % 2 else f"bad{POISON}", n) for n in range(80)]
    await rig.bus.publish(Topic.FIXES, mixed, key="one-device")
    await _until(rig, lambda: len(store.stored) + len(rig.dead.held) >= 80, "every message")
    assert [fix.fix_time for fix in store.stored] == [
        T0 + timedelta(seconds=n) for n in range(1, 80, 2)
    ]
    assert len(rig.dead.held) == 40
    topic, payload, error = rig.dead.held[0]
    assert topic is Topic.FIXES
    assert b"\\ud800" in payload  # the message's own bytes, kept for replay
    assert "UnicodeEncodeError" in error


async def test_an_outage_is_waited_out_and_nothing_is_dead_lettered(rig: Rig) -> None:
    store = Store(outages=4)
    rig.bus.subscribe(Topic.FIXES, store)
    await rig.bus.start()
    fixes = [_fix("a", n) for n in range(30)]
    await rig.bus.publish(Topic.FIXES, fixes, key="a")
    await _until(rig, lambda: len(store.stored) >= 30, "the outage to pass")
    assert store.stored == fixes
    assert rig.dead.held == []
