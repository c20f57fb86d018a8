"""Adaptive reporting: the engine says when a wearer's tag should report faster, and when not."""

from __future__ import annotations

from pathlib import Path

from tests.engine.helpers import Stream, circle, run, scenario
from vigil.engine.core import Engine, FixBatch
from vigil.engine.plan import parse_plan
from vigil.engine.replay import read_fixes


def _changes(raw: dict, stream: Stream, tmp_path: Path) -> list[tuple[float, str, bool]]:
    """Feed the fixes one by one; (fix time offset, device, fast) at each change."""
    table = read_fixes(stream.write(tmp_path / "fixes.csv"))
    engine = Engine(parse_plan(raw))
    seen = []
    t0 = float(table.t[0])
    for i in range(len(table.t)):
        batch: FixBatch = table.batch(i, i + 1, None)
        engine.process(batch)
        seen += [(float(table.t[i]) - t0, d, fast) for d, fast in engine.reporting_changes()]
    return seen


def test_entering_the_buffer_asks_for_faster_reports_and_leaving_it_asks_back(
    tmp_path: Path,
) -> None:
    stream = Stream().walk(0, 600, 60, -1200, -1200)  # far from a 300 m zone with a 200 m buffer
    stream.walk(660, 900, 60, -420, -420)  # in the buffer
    stream.walk(960, 2400, 60, -1200, -1200)  # away again
    changes = _changes(scenario(circle("Z1", 300, buffer=200)), stream, tmp_path)
    assert changes[0] == (660.0, "T1", True)
    # Back to normal only after the hold (300 s) has passed since the last fix in the buffer.
    assert changes[1][1:] == ("T1", False)
    assert 900 + 300 <= changes[1][0] <= 900 + 360
    assert len(changes) == 2


def test_a_lone_fix_inside_a_zone_without_a_buffer_asks_for_more_data(tmp_path: Path) -> None:
    stream = Stream().fix(0, -1000, acc=10.0).fix(60, -100, acc=10.0)
    changes = _changes(scenario(circle("Z1", 300)), stream, tmp_path)
    assert changes == [(60.0, "T1", True)]


def test_a_wearer_far_from_every_zone_is_never_commanded(tmp_path: Path) -> None:
    stream = Stream().walk(0, 3600, 60, -2000, -2000)
    records, engine = run(scenario(circle("Z1", 300, buffer=200)), stream, tmp_path)
    assert records == []
    assert engine.reporting_changes() == []
