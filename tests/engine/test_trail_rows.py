"""Replay rows become trail-store Fixes faithfully (the column-wise build loses nothing)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from vigil.engine.replay import read_fixes
from vigil.engine.trail import fixes_from_table
from vigil.tracking.model import Alarm


def test_replay_rows_become_fixes_with_every_column_kept(tmp_path: Path) -> None:
    path = tmp_path / "fixes.csv"
    path.write_text(
        "device,time,lat,lon,accuracy_m,battery,alarm,approximate,invalid\n"
        "T1,2026-11-23T17:00:00.123456Z,52.1,-1.2,12,50,,,\n"
        "T2,2026-11-23T17:00:01Z,,,,,sos;tamper,,\n"
        "T1,2026-11-23T18:00:02+01:00,52.2,-1.3,,,strap_removed,true,\n"
        "T1,2026-11-23T17:00:03Z,52.3,-1.4,5,,,,true\n"
    )
    table = read_fixes(path)
    first, status, cell, flagged = fixes_from_table(table, 0, len(table))
    assert first.device_id == "T1"
    assert first.fix_time == datetime(2026, 11, 23, 17, 0, 0, 123456, tzinfo=UTC)
    assert first.fix_time.tzinfo is UTC
    assert first.receive_time == first.fix_time
    assert (first.lat, first.lon, first.accuracy_m, first.battery_pct) == (52.1, -1.2, 12.0, 50.0)
    assert (first.approximate, first.valid, first.alarms, first.protocol) == (
        False,
        True,
        frozenset(),
        "replay",
    )
    assert (status.device_id, status.lat, status.lon, status.accuracy_m) == ("T2", None, None, None)
    assert status.alarms == {Alarm.SOS, Alarm.TAMPER}
    assert status.battery_pct is None
    assert cell.fix_time == datetime(2026, 11, 23, 17, 0, 2, tzinfo=UTC)
    assert cell.approximate is True
    assert cell.alarms == {Alarm.STRAP_REMOVED}
    assert flagged.valid is False
    # A slice keeps the rows' own values, not the table's first ones.
    [only] = fixes_from_table(table, 3, 4)
    assert only == flagged
