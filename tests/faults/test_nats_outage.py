"""NATS stopped for 30 s and for 150 s while tags report through the OsmAnd door, then started
again on the same store: no report is acknowledged while it is down, /readyz says so, the
client reconnects however long it took, and nothing acknowledged is lost or stored twice. An
operator's live stream held open on a second web process sees every alert raised elsewhere."""

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
    wait_for,
    wait_until_failing,
    wait_until_ready_again,
)
from tests.faults.layout import split_layout
from tests.faults.live import LiveStream
from tests.faults.world import Tables, script


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
    layout = split_layout(workdir, postgres, nats, control_room, processes, second_web=True)
    assert layout.web is not None
    stream = LiveStream(layout.web.url)
    stream.open()
    tables = Tables(postgres.url)
    sender = layout.sender()
    fixes = script(layout.world)
    sender.send_in_background(fixes, pause_s=0.01)
    # Down in the middle of the incursions.
    sender.wait_acknowledged(len(fixes.rows) * 0.6)
    nats.stop()
    wait_until_failing(processes, "bus")
    time.sleep(5)  # a report in flight when it stopped may still be answered
    acknowledged = len(sender.acknowledged)
    time.sleep(down_s - 5)
    assert len(sender.acknowledged) == acknowledged, "a report was acknowledged with NATS down"
    assert sum(sender.refused.values()) > 0, "the tags should have been refused meanwhile"
    nats.start()
    wait_until_ready_again(processes, "NATS", 30)
    sender.join()
    settle_and_check(tables, layout.world, sender, control_room, layout.logs)
    incursions = {str(w.person_id) for w in layout.world.incursions()}
    wait_for(lambda: stream.raised() >= incursions, 10, "the live stream on the other process",
             lambda: f"; it saw {sorted(stream.raised())} of {sorted(incursions)}")  # fmt: skip
    tables.dispose()
