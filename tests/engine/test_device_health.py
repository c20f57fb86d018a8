"""Device health: tamper and SOS at once, battery, silence, no GPS, sustained alcohol."""

from __future__ import annotations

from pathlib import Path

from tests.engine.helpers import Stream, circle, of_kind, run, scenario, seconds


def test_strap_removal_tamper_and_sos_are_raised_at_once_and_not_repeated(tmp_path: Path) -> None:
    stream = Stream().walk(0, 100, 10, -1000, -1000)
    for second in (110, 120, 130):
        stream.fix(second, -1000, alarm="strap_removed")
    stream.fix(140, -1000, alarm="tamper;sos")
    stream.walk(150, 200, 10, -1000, -1000)
    records, _ = run(scenario(circle("Z1", 300)), stream, tmp_path)
    [strap] = of_kind(records, "strap_removed")
    assert (seconds(strap["start"]), seconds(strap["raised_at"])) == (110, 110)
    assert strap["end"] is None  # a moment: people end it, not the tag
    assert len(of_kind(records, "tamper")) == 1
    assert len(of_kind(records, "sos")) == 1
    assert strap["condition"] is None
    assert strap["device"] == "T1"


def test_a_low_battery_is_raised_once_and_ends_when_charged(tmp_path: Path) -> None:
    stream = Stream()
    for i, level in enumerate([40, 30, 16, 14, 12, 10, 9, 18, 25, 60]):
        stream.fix(i * 60, -1000, battery=level)
    records, _ = run(scenario(circle("Z1", 300)), stream, tmp_path)
    [low] = of_kind(records, "battery_low")
    assert (seconds(low["start"]), seconds(low["end"])) == (120, 480)  # at 20%, back at 25%


def test_silence_beyond_the_deadline_is_no_communication(tmp_path: Path) -> None:
    stream = Stream().walk(0, 600, 60, -1000, -1000)
    stream.walk(3000, 3600, 60, -1000, -1000)  # 40 minutes of silence in between
    raw = scenario(circle("Z1", 300), settings={"no_communication_s": 1200})
    records, _ = run(raw, stream, tmp_path)
    [silent] = of_kind(records, "no_communication")
    assert seconds(silent["start"]) == 600
    assert seconds(silent["raised_at"]) == 1800
    assert seconds(silent["end"]) == 3000


def test_a_tag_that_talks_but_has_no_position_is_no_gps_and_severe_near_a_zone(
    tmp_path: Path,
) -> None:
    stream = Stream().walk(0, 300, 60, -450, -450)  # 150 m from the zone's edge
    stream.walk(360, 2400, 60, None, 0)  # heartbeats without a position
    stream.fix(2460, -450)
    raw = scenario(circle("Z1", 300), settings={"no_gps_s": 900})
    records, _ = run(raw, stream, tmp_path)
    [lost] = of_kind(records, "no_gps")
    assert seconds(lost["start"]) == 300
    assert seconds(lost["end"]) == 2460
    assert lost["detail"]["severity"] == "high"


def test_alcohol_over_the_threshold_only_counts_when_sustained(tmp_path: Path) -> None:
    alcohol = {"id": "A1", "type": "alcohol", "threshold": 20, "sustained_s": 1800}
    stream = Stream()
    readings = [5, 25, 30, 8, 25, 26, 28, 30, 31, 29, 27, 10]  # every 10 minutes
    for i, reading in enumerate(readings):
        stream.fix(i * 600, -1000, alcohol=reading)
    records, _ = run(scenario(alcohol), stream, tmp_path)
    [episode] = of_kind(records, "alcohol")
    assert seconds(episode["start"]) == 2400  # the second run, which lasted long enough
    assert seconds(episode["raised_at"]) == 4200
    assert seconds(episode["end"]) == 6600
