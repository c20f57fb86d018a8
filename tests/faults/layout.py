"""The split layout the outage cases run: a front process (web, gateways with the OsmAnd door,
alerts), an engine process and, if asked, a second web-only process; all on the test's own NATS
and PostgreSQL, ready before the fault."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.alerts.receivers import HttpReceiver
from tests.faults.cluster import (
    NatsServer,
    PostgresServer,
    VigilProcess,
    base_env,
    free_port,
    start_all,
)
from tests.faults.conftest import alert_settings
from tests.faults.world import OsmandSender, World, seed


@dataclass(frozen=True)
class Layout:
    world: World
    door: int
    front: VigilProcess
    engine: VigilProcess
    web: VigilProcess | None

    def sender(self) -> OsmandSender:
        return OsmandSender(f"http://127.0.0.1:{self.door}", self.world.token, keys=self.world.keys)

    def logs(self) -> str:
        return self.engine.tail() + self.front.tail()


def split_layout(
    workdir: Path,
    postgres: PostgresServer,
    nats: NatsServer,
    control_room: HttpReceiver,
    processes: list[VigilProcess],
    *,
    second_web: bool = False,
) -> Layout:
    world = seed(postgres.url, wearers=40, incursions=12)
    door = free_port()
    env = base_env(
        postgres.url, nats.url, gateway_osmand_port=str(door), **alert_settings(control_room)
    )
    front = VigilProcess("front", "web,gateways,alerts", env, workdir)
    engine = VigilProcess("engine", "engine", env, workdir)
    web = VigilProcess("web", "web", env, workdir) if second_web else None
    processes.extend(p for p in (front, engine, web) if p is not None)
    start_all(processes, ready=True)
    return Layout(world, door, front, engine, web)
