"""PostgreSQL stopped for 30 s with the NATS bus while tags report through the OsmAnd door: the
door keeps taking reports (NATS stores them before each answer), the engine waits the outage out
and stores every acknowledged fix once afterwards; /readyz names the database meanwhile."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.alerts.receivers import HttpReceiver
from tests.faults.checks import settle_and_check
from tests.faults.cluster import (
    NatsServer,
    PostgresServer,
    VigilProcess,
    base_env,
    free_port,
    wait_for,
)
from tests.faults.conftest import alert_settings
from tests.faults.test_nats_outage import failing
from tests.faults.world import OsmandSender, Tables, script, seed

DOWN_S = 30


@pytest.mark.faults
def test_postgres_stopped_for_30_s_loses_no_acknowledged_fix(
    workdir: Path,
    postgres: PostgresServer,
    nats: NatsServer,
    control_room: HttpReceiver,
    processes: list[VigilProcess],
) -> None:
    world = seed(postgres.url, wearers=40, incursions=12)
    door = free_port()
    env = base_env(
        postgres.url, nats.url, gateway_osmand_port=str(door), **alert_settings(control_room)
    )
    front = VigilProcess("front", "web,gateways,alerts", env, workdir)
    engine = VigilProcess("engine", "engine", env, workdir)
    processes.extend([front, engine])
    for process in processes:
        process.start(wait=False)
    for process in processes:
        process.wait_live()
        wait_for(lambda p=process: p.status("/readyz") == 200, 30, f"{process.name} ready")

    tables = Tables(postgres.url)
    sender = OsmandSender(f"http://127.0.0.1:{door}", world.token, keys=world.keys)
    fixes = script(world)
    sender.send_in_background(fixes, pause_s=0.01)
    wait_for(
        lambda: len(sender.acknowledged) >= len(fixes.rows) * 0.6,
        60,
        "sending under way",
        lambda: f"; {len(sender.acknowledged)} acknowledged, refused {sender.refused}",
    )
    postgres.stop()
    for process in processes:
        wait_for(lambda p=process: "database" in failing(p), 10, f"{process.name} to say so")
    during = len(sender.acknowledged)
    time.sleep(DOWN_S)
    print(f"acknowledged while PostgreSQL was down: {len(sender.acknowledged) - during}")
    postgres.start()
    for process in processes:
        took = wait_for(lambda p=process: p.status("/readyz") == 200, 60, f"{process.name} ready",
                        lambda p=process: f"; failing {failing(p)}" + p.tail())  # fmt: skip
        print(f"{process.name} ready again {took:.1f} s after PostgreSQL came back")
    sender.join()
    settle_and_check(tables, world, sender, control_room, lambda: engine.tail() + front.tail())
    tables.dispose()
