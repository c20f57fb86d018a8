"""Fixes go on the bus keyed by the person they concern, so all of one person's devices meet in
the engine that watches him, in order."""

from __future__ import annotations

from typing import Any

from tests.gateways.fitting import door_intake
from tests.tracking.helpers import fix
from vigil.bootstrap import Container
from vigil.bus.memory import InMemoryBus
from vigil.bus.model import Topic
from vigil.devices.service import person_for_device
from vigil.gateways.metrics import GatewayMetrics


class KeyRecordingBus(InMemoryBus):
    def __init__(self) -> None:
        super().__init__()
        self.keys: list[tuple[str | None, list[str]]] = []

    async def publish(self, topic: Topic, messages: list[Any], key: str | None = None) -> None:
        self.keys.append((key, [m.device_id for m in messages]))
        await super().publish(topic, messages, key)


async def test_each_persons_fixes_are_keyed_by_that_person(register: Container) -> None:
    bus = KeyRecordingBus()
    intake, _keys = door_intake(bus, GatewayMetrics(), register, ["TAG-A", "TAG-B"])
    fixes = [fix("TAG-A"), fix("TAG-B"), fix("TAG-A")]
    await intake.publish("osmand", fixes)
    with register.uow() as uow:
        wearer_a = person_for_device(uow, "TAG-A", fixes[0].fix_time)
        wearer_b = person_for_device(uow, "TAG-B", fixes[1].fix_time)
    assert sorted(bus.keys, key=str) == sorted(
        [(wearer_a, ["TAG-A", "TAG-A"]), (wearer_b, ["TAG-B"])], key=str
    )
    await bus.close()
