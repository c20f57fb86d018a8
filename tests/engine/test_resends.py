"""Resent and redelivered fixes: stored once, evaluated once, one violation and one alert.

A client that was not acknowledged may send a batch again, and the bus redelivers a batch whose
ack was lost; the trail finds the fixes it already holds (tracking.fix_keys) and the engine does
not see them a second time.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select

from tests.conftest import START
from tests.engine.helpers import Stream, circle, scenario
from tests.engine.test_runner import TAG, _fix, _wearer_with_tag
from tests.gateways.fitting import fit_devices
from vigil.alerts import consumer
from vigil.alerts.tables import alerts
from vigil.bootstrap import Container
from vigil.clock import FrozenClock
from vigil.engine import runner as engine_runner
from vigil.engine.events import EventKind, EventPhase
from vigil.engine.plan import parse_plan
from vigil.engine.replay import read_fixes
from vigil.engine.tables import violations
from vigil.engine.trail import sqlite_sink
from vigil.gateways import runner as gateway_runner
from vigil.tracking.tables import fixes


def _counts(container: Container) -> tuple[int, int, int]:
    with container.engine.connect() as conn:
        stored = conn.execute(
            select(func.count()).select_from(fixes).where(fixes.c.device_id == TAG)
        ).scalar_one()
        raised = conn.execute(
            select(func.count())
            .select_from(violations)
            .where(violations.c.kind == "exclusion_zone")
        ).scalar_one()
        alerted = conn.execute(select(func.count()).select_from(alerts)).scalar_one()
    return int(stored), int(raised), int(alerted)


def test_a_redelivered_batch_raises_no_second_violation_or_alert(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    _wearer_with_tag(client, container)
    batch = [_fix(s) for s in range(0, 60, 10)]
    worker = engine_runner.EngineWorker(container)
    worker.load_plan()
    clock.set(START + timedelta(seconds=60))
    first = worker.handle(batch)
    consumer.process(container.alerts, list(first))
    assert [e.kind for e in first if e.kind is EventKind.EXCLUSION_ZONE]
    assert _counts(container) == (6, 1, 1)
    # The ack was lost: the bus delivers the same batch again, to this worker...
    clock.set(START + timedelta(seconds=90))
    again = worker.handle(batch)
    consumer.process(container.alerts, list(again))
    # ...and, after a restart, to a new one, with the client's own resend of half of it.
    restarted = engine_runner.EngineWorker(container)
    restarted.load_plan()
    resent = [replace(f, receive_time=f.receive_time + timedelta(minutes=2)) for f in batch[3:]]
    third = restarted.handle(batch + resent)
    consumer.process(container.alerts, list(third))
    assert [e for e in again + third if e.kind is EventKind.EXCLUSION_ZONE] == []
    assert _counts(container) == (6, 1, 1)
    with container.engine.connect() as conn:
        [row] = conn.execute(select(violations).where(violations.c.kind == "exclusion_zone"))
    assert len(json.loads(row.fix_ids)) <= 6


def test_a_batch_of_resent_and_new_fixes_evaluates_the_new_ones(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    _wearer_with_tag(client, container)
    worker = engine_runner.EngineWorker(container)
    worker.load_plan()
    clock.set(START + timedelta(seconds=60))
    inside = [_fix(s) for s in range(0, 60, 10)]
    [started] = [e for e in worker.handle(inside) if e.kind is EventKind.EXCLUSION_ZONE]
    clock.set(START + timedelta(seconds=300))
    # The client resends what it was not sure of, then what came after: he left the zone.
    gone = [_fix(s, 0.05) for s in (230, 240, 250)]
    events = worker.handle(inside[3:] + gone)
    zone = [e for e in events if e.kind is EventKind.EXCLUSION_ZONE]
    assert [(e.episode_id, e.phase) for e in zone] == [(started.episode_id, EventPhase.ENDED)]
    assert _counts(container)[:2] == (9, 1)


def test_a_redelivered_batch_does_not_make_a_silent_tag_look_alive(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    """An hour after the tag went quiet the bus redelivers an old batch: those fixes were
    evaluated long ago, and must not end the tag's "no communication" as if it had spoken."""
    _wearer_with_tag(client, container)
    worker = engine_runner.EngineWorker(container)
    worker.load_plan()
    clock.set(START + timedelta(seconds=60))
    batch = [_fix(s, 0.05) for s in range(0, 60, 10)]
    worker.handle(batch)
    clock.set(START + timedelta(hours=1))
    silent = [e for e in worker.tick() if e.kind is EventKind.NO_COMMUNICATION]
    assert [e.phase for e in silent] == [EventPhase.STARTED]
    clock.set(START + timedelta(hours=1, minutes=1))
    assert worker.handle(batch) == []
    with container.engine.connect() as conn:
        [row] = conn.execute(select(violations).where(violations.c.kind == "no_communication"))
    assert row.end is None
    assert _counts(container)[0] == 6


async def test_a_fix_sent_twice_to_the_osmand_door_is_stored_once(container: Container) -> None:
    """The phone did not hear the first answer and sends the same report again: the door
    answers both, and the trail holds the report once."""
    container.settings = container.settings.model_copy(
        update={"gateway_tcp_ports": "", "gateway_osmand_port": 0, "gateway_owntracks_port": 0}
    )
    keys = fit_devices(container, ["902064"])
    stop = asyncio.Event()
    engine_task = asyncio.create_task(engine_runner.run(container, stop))
    running = await gateway_runner.start(container, mqtt=False)
    when = (START - timedelta(minutes=5)).strftime("%Y-%m-%dT%H%%3A%M%%3A%SZ")
    url = (
        f"http://127.0.0.1:{running.port('osmand')}/{keys['902064']}"
        f"?id=902064&lat=52.4862&lon=-1.8904&timestamp={when}&hdop=1.0"
    )
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(2):
                assert (await http.get(url)).status_code == 200
        await container.bus.drain()  # type: ignore[attr-defined]
    finally:
        await running.close()
        stop.set()
        await engine_task
    with container.engine.connect() as conn:
        rows = conn.execute(select(fixes.c.raw).where(fixes.c.device_id == "902064")).all()
    assert len(rows) == 1


def test_a_replay_into_a_trail_that_holds_its_fixes_adds_no_rows(tmp_path: Path) -> None:
    raw = scenario(circle("Z1", 200.0))
    stream = Stream().walk(0, 600, 10, -1_000.0, 0.0)
    table = read_fixes(stream.write(tmp_path / "fixes.csv"))
    trail = tmp_path / "trail.db"
    runs = []
    for _ in range(2):
        sink = sqlite_sink(trail, parse_plan(raw))
        runs.append(sink(table, 0, len(table)).tolist())
        sink.close()
    assert runs[0] == runs[1]
    assert len(set(runs[0])) == len(table)
    engine = create_engine(f"sqlite:///{trail}")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(fixes)).scalar_one() == len(table)
    engine.dispose()
