"""PostgreSQL stopped for 30 s with the NATS bus while tags report through the OsmAnd door: the
door keeps taking reports (NATS stores them before each answer), the engine waits the outage out
and stores every acknowledged fix once afterwards; /readyz names the database meanwhile."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.alerts.receivers import HttpReceiver
from tests.faults.checks import settle_and_check
from tests.faults.cluster import NatsServer, PostgresServer, VigilProcess, wait_for
from tests.faults.layout import split_layout
from tests.faults.world import Tables, script

DOWN_S = 30


@pytest.mark.faults
def test_postgres_stopped_for_30_s_loses_no_acknowledged_fix(
    workdir: Path,
    postgres: PostgresServer,
    nats: NatsServer,
    control_room: HttpReceiver,
    processes: list[VigilProcess],
) -> None:
    layout = split_layout(workdir, postgres, nats, control_room, processes)
    tables = Tables(postgres.url)
    sender = layout.sender()
    fixes = script(layout.world)
    sender.send_in_background(fixes, pause_s=0.01)
    sender.wait_acknowledged(len(fixes.rows) * 0.6)
    postgres.stop()
    for process in processes:
        wait_for(lambda p=process: "database" in p.failing(), 10, f"{process.name} to say so")
    during = len(sender.acknowledged)
    time.sleep(DOWN_S)
    print(f"acknowledged while PostgreSQL was down: {len(sender.acknowledged) - during}")
    postgres.start()
    for process in processes:
        took = wait_for(lambda p=process: p.status("/readyz") == 200, 60, f"{process.name} ready",
                        lambda p=process: f"; failing {p.failing()}" + p.tail())  # fmt: skip
        print(f"{process.name} ready again {took:.1f} s after PostgreSQL came back")
    sender.join()
    settle_and_check(tables, layout.world, sender, control_room, layout.logs)
    tables.dispose()
