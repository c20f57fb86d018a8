"""The stored violation as the engine recorded it, read back by episode id (both databases)."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.engine.helpers import T0, Stream, circle, scenario, seconds
from tests.engine.test_restart import _batch
from vigil.bootstrap import build_container
from vigil.clock import FrozenClock
from vigil.engine import service
from vigil.engine.core import Engine
from vigil.engine.plan import parse_plan
from vigil.errors import ValidationError


def test_a_stored_violation_is_read_back_with_its_reasoning_and_proving_fixes(
    db_url: str, tmp_path: Path
) -> None:
    # Outside for five minutes, a walk (at 8 m/s) to the middle of a 300 m zone, eight minutes
    # there, and out again: the edge is crossed at 384 s and at 936 s.
    stream = Stream().walk(0, 290, 10, -1000, -1000).walk(300, 420, 10, -1000, 0)
    stream.walk(430, 890, 10, 0, 0).walk(900, 1020, 10, 0, -1000)
    container = build_container(make_settings(db_url), clock=FrozenClock(T0))
    engine = Engine(parse_plan(scenario(circle("Z1", 300))), start=T0.timestamp())
    engine.process(_batch(stream, tmp_path / "fixes.csv", 500))
    events = engine.ledger.drain()
    with container.uow() as uow:
        service.store_events(uow, events)
        uow.commit()
    [episode] = [e for e in engine.ledger.episodes if e.kind.value == "exclusion_zone"]
    with container.uow() as uow:
        record = service.get_violation(uow, episode.id)
        missing = service.get_violation(uow, "0" * 24)
        with pytest.raises(ValidationError, match="episode_id"):
            service.get_violation(uow, " ")
    container.engine.dispose()
    assert missing is None
    assert record is not None
    assert record["episode_id"] == episode.id
    assert (record["person_id"], record["condition_id"], record["kind"]) == (
        "P1",
        "Z1",
        "exclusion_zone",
    )
    assert record["retrospective"] is False
    assert record["withdrawn"] is False
    # Start and end are the estimated crossings, not the fixes that confirmed them.
    assert T0 + timedelta(seconds=380) <= record["start"] <= T0 + timedelta(seconds=390)
    assert record["start"].tzinfo is not None
    assert record["end"] is not None
    assert T0 + timedelta(seconds=930) <= record["end"] <= T0 + timedelta(seconds=945)
    assert record["raised_at"] <= record["start"] + timedelta(seconds=60)
    # The proving fixes are stored ids (first row 500): fixes inside that confirmed it, and the
    # fixes outside that ended it.
    times = [seconds(row["time"]) for row in stream.rows]
    inside = {500 + i for i, when in enumerate(times) if 390 <= when <= 930}
    after = {500 + i for i, when in enumerate(times) if when > 936}
    assert record["fix_ids"] == episode.fix_ids
    assert set(record["fix_ids"]) & inside
    assert set(record["fix_ids"]) & after
    assert set(record["fix_ids"]) <= inside | after
    assert record["detail"]["rule"] in {"dwell", "sequential"}
    assert record["detail"]["reason"]
    assert record["updated_at"].tzinfo == UTC or record["updated_at"].utcoffset() == timedelta(0)
