"""Stored state: a restart mid-violation neither loses nor repeats anything (both databases)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from tests.conftest import make_settings
from tests.engine.helpers import T0, Stream, circle, scenario
from tests.engine.test_curfews import curfew, two_wearers
from vigil.bootstrap import build_container
from vigil.clock import FrozenClock
from vigil.engine import service
from vigil.engine.core import Engine, FixBatch
from vigil.engine.events import EventPhase
from vigil.engine.plan import parse_plan
from vigil.engine.replay import read_fixes
from vigil.engine.tables import engine_state, violations


def _batch(stream: Stream, path: Path, first_id: int) -> FixBatch:
    table = read_fixes(stream.write(path))
    batch = table.batch(0, len(table))
    batch.fix_id = np.arange(first_id, first_id + len(table), dtype=np.int64)
    return batch


def _run(
    db_url: str,
    plan_raw: dict,
    start: datetime,
    stream: Stream | None,
    path: Path,
    first_id: int,
    until: datetime | None = None,
):
    clock = FrozenClock(until or start)
    container = build_container(make_settings(db_url), clock=clock)
    engine = Engine(parse_plan(plan_raw), start=start.timestamp())
    with container.uow() as uow:
        service.restore(uow, engine)
        if stream is not None:
            engine.process(_batch(stream, path, first_id))
        if until is not None:
            engine.advance(until.timestamp())
        events = engine.ledger.drain()
        service.store_events(uow, events)
        service.save_state(uow, engine)
        uow.commit()
    rows = []
    with container.engine.connect() as connection:
        rows = list(connection.execute(select(violations).order_by(violations.c.id)))
        states = connection.execute(select(func.count()).select_from(engine_state)).scalar_one()
    container.engine.dispose()
    return events, rows, states


def test_a_restart_mid_violation_ends_the_same_violation_without_raising_it_again(
    db_url: str, tmp_path: Path
) -> None:
    raw = scenario(circle("Z1", 300))
    # 1.4 km from the first spot to the zone's centre takes the wearer 40 s (35 m/s by car).
    first = Stream().walk(0, 300, 10, -1000, -1000).walk(340, 600, 10, 0, 0)
    events, rows, states = _run(db_url, raw, T0, first, tmp_path / "a.csv", 1)
    [started] = [e for e in events if e.kind.value == "exclusion_zone"]
    assert started.phase is EventPhase.STARTED
    assert len(rows) == 1
    assert rows[0].end is None
    assert states >= 1
    # The process stops; a new one starts from storage and the wearer is still inside, then leaves.
    second = Stream().walk(620, 900, 10, 0, 0).walk(940, 1030, 10, -1000, -1000)
    events, rows, _ = _run(
        db_url, raw, T0 + timedelta(seconds=615), second, tmp_path / "b.csv", 1000
    )
    phases = [(e.episode_id, e.phase) for e in events if e.kind.value == "exclusion_zone"]
    assert phases == [(started.episode_id, EventPhase.ENDED)]
    [row] = [r for r in rows if r.kind == "exclusion_zone"]
    assert row.episode_id == started.episode_id
    assert row.end is not None
    assert 900 <= (row.end.replace(tzinfo=UTC) - T0).total_seconds() <= 940
    proof = json.loads(row.fix_ids)
    assert any(i < 1000 for i in proof)
    assert any(i >= 1000 for i in proof)


def test_a_curfew_timer_due_while_stopped_fires_once_after_the_restart(
    db_url: str, tmp_path: Path
) -> None:
    raw = two_wearers(curfew())
    away = Stream()
    for minute in range(0, 90, 5):
        away.fix(minute * 60, 0, 0, acc=15)
    evening = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)
    _run(db_url, raw, T0, away, tmp_path / "a.csv", 1, until=evening)
    # Down from 18:30 to 19:30; the 19:05 check was stored and is now overdue.
    later = datetime(2026, 11, 23, 19, 30, tzinfo=UTC)
    events, rows, _ = _run(db_url, raw, later, None, tmp_path / "b.csv", 100, until=later)
    curfews = [r for r in rows if r.kind == "curfew"]
    assert len(curfews) == 1
    assert curfews[0].start.replace(tzinfo=UTC) == datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
    # Another restart: nothing new.
    events, rows, _ = _run(
        db_url,
        raw,
        later + timedelta(minutes=5),
        None,
        tmp_path / "c.csv",
        200,
        until=later + timedelta(minutes=5),
    )
    assert [e for e in events if e.kind.value == "curfew" and e.phase is EventPhase.STARTED] == []
    assert len([r for r in rows if r.kind == "curfew"]) == 1
