"""The three kinds of false violation found on cases written outside the engine's own benchmark.

Each is a wearer at home, outside the zone, whose fixes at some moment *look* inside it. An officer
would have had to phone a victim about each one. They are tested on the rules (the engine fed
directly) and through ``vigil engine replay`` (CSV in, JSON lines out).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from tests.engine.helpers import Stream, circle, of_kind, run, scenario
from vigil.cli import app


def _home_with_noise(stream: Stream, start: int, end: int, rng: np.random.Generator) -> None:
    """A fix a minute at home, 150 m outside a 300 m zone, ordinary noise, 25 m accuracy."""
    for second in range(start, end, 60):
        stream.fix(second, -450 + rng.normal(0, 8), rng.normal(0, 8), acc=25.0)


def lone_confident_fix() -> Stream:
    rng = np.random.default_rng(16)
    stream = Stream()
    _home_with_noise(stream, 0, 1800, rng)
    stream.fix(1830, -205, acc=25.0)  # about 95 m inside, claiming 25 m accuracy
    _home_with_noise(stream, 1860, 3600, rng)
    return stream


def fixes_that_know_they_are_bad() -> Stream:
    rng = np.random.default_rng(17)
    stream = Stream()
    _home_with_noise(stream, 0, 1800, rng)
    # Consecutive fixes whose discs are larger than the zone, points well inside it.
    for k, accuracy in enumerate((437.5, 400.0, 1200.0, 800.0, 650.0)):
        stream.fix(1800 + 20 * k, -120 + 15 * k, 30.0, acc=accuracy)
    _home_with_noise(stream, 1920, 3600, rng)
    return stream


def impossible_movement() -> Stream:
    # Home 2.3 km away; three fixes 11 s apart deep inside the zone; home again.
    stream = Stream().walk(0, 600, 60, -2300, -2300, acc=25.0)
    for second in (611, 622, 633):
        stream.fix(second, 0.0, acc=10.0)
    stream.walk(660, 1800, 60, -2300, -2300, acc=25.0)
    return stream


CASES = {
    "lone_confident_fix": lone_confident_fix,
    "fixes_that_know_they_are_bad": fixes_that_know_they_are_bad,
    "impossible_movement": impossible_movement,
}


def test_a_lone_confident_fix_deep_inside_between_home_fixes_raises_no_violation(
    tmp_path: Path,
) -> None:
    records, engine = run(scenario(circle("Z1", 300)), lone_confident_fix(), tmp_path)
    assert of_kind(records, "exclusion_zone") == []
    # The fix did open a visit (pending, asking for more data) that the next home fix dropped.
    assert engine.zs["st"][0] == 0


def test_a_lone_fix_however_deep_never_confirms_on_its_own(tmp_path: Path) -> None:
    # 250 m inside a 300 m zone with 5 m accuracy, and the wearer never seen again: pending.
    stream = Stream().fix(0, -1000, acc=10.0).fix(60, -50, acc=5.0)
    records, engine = run(scenario(circle("Z1", 300)), stream, tmp_path)
    assert of_kind(records, "exclusion_zone") == []
    assert engine.zs["st"][0] == 1  # pending: a visit waiting for corroboration


def test_fixes_whose_accuracy_disc_is_wider_than_the_zone_carry_no_inside_evidence(
    tmp_path: Path,
) -> None:
    records, _ = run(scenario(circle("Z1", 300)), fixes_that_know_they_are_bad(), tmp_path)
    assert of_kind(records, "exclusion_zone") == []


def test_the_share_of_the_zone_a_disc_may_cover_is_a_setting(tmp_path: Path) -> None:
    # Three fixes 100 m inside with 140 m accuracy: under half the 300 m radius they count; with
    # the share lowered to a third they carry no inside evidence and nothing is confirmed.
    stream = Stream().fix(0, -1000, acc=10.0)
    for k in range(4):
        stream.fix(60 + 60 * k, -200, acc=140.0)
    counted, _ = run(scenario(circle("Z1", 300)), stream, tmp_path)
    (tmp_path / "strict").mkdir()
    strict, _ = run(
        scenario(circle("Z1", 300), settings={"inside_accuracy_share": 0.33}),
        stream,
        tmp_path / "strict",
    )
    assert len(of_kind(counted, "exclusion_zone")) == 1
    assert of_kind(strict, "exclusion_zone") == []


def test_three_fixes_after_an_impossible_jump_deep_inside_raise_no_violation(
    tmp_path: Path,
) -> None:
    records, _ = run(scenario(circle("Z1", 300)), impossible_movement(), tmp_path)
    assert of_kind(records, "exclusion_zone") == []


def test_a_real_entry_is_still_confirmed_by_two_fixes_and_says_which(tmp_path: Path) -> None:
    rng = np.random.default_rng(18)
    stream = Stream()
    _home_with_noise(stream, 0, 600, rng)
    stream.walk(600, 900, 30, -450, -150, acc=15.0)  # walks in and stays 150 m deep
    stream.walk(930, 1200, 30, -150, -150, acc=15.0)
    records, _ = run(scenario(circle("Z1", 300)), stream, tmp_path)
    [violation] = of_kind(records, "exclusion_zone")
    detail = violation["detail"]
    assert detail["fixes_inside"] >= 2
    assert detail["corroborating_evidence"] >= 0.5
    assert "no single fix decided it" in detail["reason"]
    assert len(violation["fix_ids"]) >= 2


def test_none_of_the_three_false_violations_come_out_of_vigil_replay(tmp_path: Path) -> None:
    for name, make in CASES.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "scenario.json").write_text(json.dumps(scenario(circle("Z1", 300))))
        make().write(folder / "fixes.csv")
        out = folder / "events.jsonl"
        result = CliRunner().invoke(
            app,
            [
                "engine",
                "replay",
                str(folder / "scenario.json"),
                str(folder / "fixes.csv"),
                "--out",
                str(out),
                "--quiet",
            ],
        )
        assert result.exit_code == 0, result.output
        kinds = [json.loads(line)["kind"] for line in out.read_text().splitlines()]
        assert "exclusion_zone" not in kinds, name
