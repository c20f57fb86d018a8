"""NATS stopped for 30 s and for 150 s while tags report through the OsmAnd door, then started
again on the same store: no report is acknowledged while it is down, /readyz says so, the
client reconnects however long it took, and nothing acknowledged is lost or stored twice."""

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
from tests.faults.live import LiveStream
from tests.faults.world import OsmandSender, Tables, script, seed


def failing(process: VigilProcess) -> set[str]:
    checks = process.ready().get("checks", [])
    assert isinstance(checks, list)
    return {str(check["name"]) for check in checks if not check["ok"]}


@pytest.mark.faults
@pytest.mark.parametrize("down_s", [30, 150])
def test_nats_stopped_then_started_again_loses_and_repeats_nothing(
    down_s: int,
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
    # A second web process: its operators' live stream must see every alert, raised elsewhere.
    web = VigilProcess("web", "web", env, workdir)
    processes.extend([front, engine, web])
    for process in processes:
        process.start(wait=False)
    for process in processes:
        process.wait_live()
        wait_for(lambda p=process: p.status("/readyz") == 200, 30, f"{process.name} ready")

    stream = LiveStream(web.url)
    stream.open()
    tables = Tables(postgres.url)
    sender = OsmandSender(f"http://127.0.0.1:{door}", world.token, keys=world.keys)
    fixes = script(world)
    sender.send_in_background(fixes, pause_s=0.01)
    # Down in the middle of the incursions.
    wait_for(
        lambda: len(sender.acknowledged) >= len(fixes.rows) * 0.6,
        60,
        "sending under way",
        lambda: (
            f"; {len(sender.acknowledged)} acknowledged, refused {sender.refused}" + front.tail()
        ),
    )
    nats.stop()
    for process in processes:
        wait_for(
            lambda p=process: "bus" in failing(p), 10, f"{process.name} to say the bus is down"
        )
    time.sleep(5)  # a report in flight when it stopped may still be answered
    acknowledged = len(sender.acknowledged)
    time.sleep(down_s - 5)
    assert len(sender.acknowledged) == acknowledged, "a report was acknowledged with NATS down"
    assert sum(sender.refused.values()) > 0, "the tags should have been refused meanwhile"
    nats.start()
    for process in processes:
        took = wait_for(lambda p=process: p.status("/readyz") == 200, 30, f"{process.name} ready",
                        lambda p=process: f"; failing {failing(p)}" + p.tail())  # fmt: skip
        print(f"{process.name} ready again {took:.1f} s after NATS came back")
    sender.join()
    settle_and_check(tables, world, sender, control_room, lambda: engine.tail() + front.tail())
    incursions = {str(w.person_id) for w in world.incursions()}
    wait_for(
        lambda: stream.raised() >= incursions,
        10,
        "the live stream on the other web process",
        lambda: f"; it saw {sorted(stream.raised())} of {sorted(incursions)}" + web.tail(),
    )
    tables.dispose()
