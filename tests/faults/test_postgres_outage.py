"""PostgreSQL stopped for 30 s while tags report through the OsmAnd door.

With the NATS bus the door keeps taking reports (NATS stores them before each answer), the engine
waits the outage out and stores every acknowledged fix once afterwards. With the in-process bus
(one embedded process on PostgreSQL) the door answers nothing while the database is away, since
its answer waits for the engine's commit; once the database is back every acknowledged fix is
stored once. (Before, the embedded set-up answered 200 and dropped the failed batches: 3,200
acknowledged fixes lost.) /readyz names the database meanwhile in both."""

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
    start_all,
    wait_until_failing,
    wait_until_ready_again,
)
from tests.faults.conftest import alert_settings
from tests.faults.layout import split_layout
from tests.faults.world import OsmandSender, Tables, World, script, seed

DOWN_S = 30


def _stop_postgres_while_tags_report(
    postgres: PostgresServer, world: World, sender: OsmandSender, processes: list[VigilProcess]
) -> int:
    """Stop the database for ``DOWN_S`` while the tags report; how many reports were
    acknowledged meanwhile. Returns once every process is ready again and the tags are done."""
    fixes = script(world)
    sender.send_in_background(fixes, pause_s=0.01)
    sender.wait_acknowledged(len(fixes.rows) * 0.6)
    postgres.stop()
    wait_until_failing(processes, "database")
    before = len(sender.acknowledged)
    time.sleep(DOWN_S)
    during = len(sender.acknowledged) - before
    print(f"acknowledged while PostgreSQL was down: {during}")
    postgres.start()
    wait_until_ready_again(processes, "PostgreSQL", 60)
    sender.join()
    return during


@pytest.mark.faults
def test_postgres_stopped_for_30_s_loses_no_acknowledged_fix(
    workdir: Path,
    postgres: PostgresServer,
    nats: NatsServer,
    control_room: HttpReceiver,
    processes: list[VigilProcess],
) -> None:
    layout = split_layout(workdir, postgres, nats, control_room, processes)
    sender = layout.sender()
    during = _stop_postgres_while_tags_report(postgres, layout.world, sender, processes)
    assert during > 0, "NATS stores each report first, so the door keeps acknowledging"
    tables = Tables(postgres.url)
    settle_and_check(tables, layout.world, sender, control_room, layout.logs)
    tables.dispose()


@pytest.mark.faults
def test_the_embedded_server_on_postgres_acknowledges_nothing_it_could_not_store(
    workdir: Path,
    postgres: PostgresServer,
    control_room: HttpReceiver,
    processes: list[VigilProcess],
) -> None:
    world = seed(postgres.url, wearers=40, incursions=12)
    door = free_port()
    env = base_env(postgres.url, gateway_osmand_port=str(door), **alert_settings(control_room))
    embedded = VigilProcess("embedded", "all", env, workdir)
    processes.append(embedded)
    start_all(processes, ready=True)
    sender = OsmandSender(f"http://127.0.0.1:{door}", world.token, keys=world.keys)
    _stop_postgres_while_tags_report(postgres, world, sender, processes)
    tables = Tables(postgres.url)
    settle_and_check(tables, world, sender, control_room, embedded.tail)
    tables.dispose()
