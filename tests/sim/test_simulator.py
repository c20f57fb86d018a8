"""The movement simulator: deterministic, realistic noise, and scripted incidents that really
happen in the output."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from pyproj import Geod
from typer.testing import CliRunner

from vigil.cli import app as cli
from vigil.gateways.commands import CommandQueue, CommandState
from vigil.sim import live
from vigil.sim.generate import simulate
from vigil.sim.model import IncidentKind, SimConfig, Simulation
from vigil.tracking.model import Alarm, Fix

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def week() -> Simulation:
    return simulate(SimConfig(wearers=12, days=3, seed=42, incident_rate=0.6))


def _zone(sim: Simulation, person: str, condition: str) -> dict:  # type: ignore[type-arg]
    entry = next(p for p in sim.scenario["persons"] if p["id"] == person)
    return next(c for c in entry["conditions"] if c["id"] == condition)


def _distance(lat: float, lon: float, point: list[float]) -> float:
    return float(GEOD.inv(lon, lat, point[0], point[1])[2])


def test_the_same_seed_gives_identical_files(tmp_path: Path) -> None:
    config = SimConfig(wearers=3, days=1, seed=9, incident_rate=1.0)
    first = simulate(config).write(tmp_path / "a")
    second = simulate(config).write(tmp_path / "b")
    for name in ("scenario", "fixes", "truth"):
        assert first[name].read_bytes() == second[name].read_bytes()
    other = simulate(SimConfig(wearers=3, days=1, seed=10, incident_rate=1.0)).write(tmp_path / "c")
    assert other["fixes"].read_bytes() != first["fixes"].read_bytes()


def test_fixes_come_in_arrival_order_with_realistic_accuracy(week: Simulation) -> None:
    received = [r.received for r in week.rows]
    assert received == sorted(received)
    late = [r for r in week.rows if (r.received - r.fix_time) > timedelta(minutes=5)]
    assert late, "some fixes are buffered and uploaded late"
    out_of_order = sum(
        1 for a, b in zip(week.rows, week.rows[1:], strict=False) if b.fix_time < a.fix_time
    )
    assert out_of_order > 0
    accuracy = np.array(
        [r.accuracy_m for r in week.rows if r.accuracy_m is not None and r.device.startswith("T")]
    )
    ordinary = accuracy[accuracy <= 60]
    assert ordinary.min() >= 10
    assert 0.97 < ordinary.size / accuracy.size < 1.0  # the rest are outliers
    assert accuracy.max() >= 160  # an outlier admits it is hundreds of metres out


def test_ordinary_days_never_enter_the_zone(week: Simulation) -> None:
    entered = {t.person for t in week.truth if t.kind == "exclusion_zone"}
    for person in week.scenario["persons"]:
        if person["id"] in entered:
            continue
        zone = _zone(week, person["id"], "Z1")
        device = person["devices"][0]
        for row in week.rows:
            if row.device == device and row.lat is not None and row.accuracy_m <= 60:
                d = _distance(row.lat, row.lon, zone["geometry"]["coordinates"])
                # Noise of up to ~3 sigma can stray, but never deep inside.
                assert d > zone["radius_m"] - 150


def test_scripted_entries_show_in_the_fixes_while_they_last(week: Simulation) -> None:
    entries = [t for t in week.truth if t.kind == "exclusion_zone"]
    assert entries
    for truth in entries:
        zone = _zone(week, truth.person, "Z1")
        device = truth.person.replace("P", "T")
        assert truth.end is not None
        inside = [
            r
            for r in week.rows
            if r.device == device and r.lat is not None and truth.start <= r.fix_time <= truth.end
        ]
        deep = [
            r
            for r in inside
            if _distance(r.lat, r.lon, zone["geometry"]["coordinates"]) + r.accuracy_m  # type: ignore[arg-type]
            < zone["radius_m"] + 30
        ]
        assert len(deep) >= len(inside) // 2 > 0


def test_every_incident_kind_appears_with_its_evidence(week: Simulation) -> None:
    incidents = {t.incident for t in week.truth}
    assert incidents == {k.value for k in IncidentKind}
    for truth in week.truth:
        device = truth.person.replace("P", "T")
        mine = [r for r in week.rows if r.device == device]
        if truth.kind == "strap_removed":
            assert any(r.alarm == "strap_removed" and r.fix_time == truth.start for r in mine)
        elif truth.kind == "no_gps":
            assert truth.end is not None
            lost = [r for r in mine if truth.start <= r.fix_time < truth.end]
            assert lost
            assert all(r.lat is None for r in lost)
        elif truth.kind == "no_communication":
            assert truth.end is not None
            assert not [r for r in mine if truth.start < r.fix_time < truth.end]
        elif truth.kind == "battery_low":
            before = [r for r in mine if r.fix_time <= truth.start]
            assert before[-1].battery is not None
            assert before[-1].battery <= 21
        elif truth.kind == "curfew":
            assert truth.end is not None
            assert truth.end - truth.start > timedelta(hours=1)
        elif truth.kind == "proximity":
            victim = truth.person.replace("P", "V")
            assert any(r.device == victim for r in week.rows)


def test_cli_writes_replay_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["sim", "generate", "--wearers", "2", "--days", "1", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    with (tmp_path / "FIXES.csv").open() as handle:
        reader = csv.reader(handle)
        assert next(reader)[:7] == [
            "device",
            "time",
            "lat",
            "lon",
            "accuracy_m",
            "battery",
            "alarm",
        ]
        first = next(reader)
    assert first[1].endswith("Z")
    scenario = json.loads((tmp_path / "SCENARIO.json").read_text())
    assert scenario["timezone"] == "Europe/London"
    assert {c["type"] for c in scenario["persons"][0]["conditions"]} >= {"exclusion_zone", "curfew"}
    assert "incidents" in json.loads((tmp_path / "TRUTH.json").read_text())


def test_a_bad_start_date_names_the_option(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["sim", "generate", "--out", str(tmp_path), "--start", "soon"])
    assert result.exit_code != 0
    assert "--start" in result.output


async def test_live_mode_opens_with_a_strap_removal_then_a_zone_entry() -> None:
    plan = simulate(SimConfig(wearers=3, days=1, seed=3)).scenario
    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    seen = []
    stream = live.fixes(plan, start, speed=3600.0, tick_s=0.01)
    async for batch in stream:
        seen.extend(batch)
        if seen[-1].fix_time > start + timedelta(minutes=30):
            break
    await stream.aclose()  # type: ignore[attr-defined]
    first, third = (person["devices"][0] for person in (plan["persons"][0], plan["persons"][2]))
    straps = [f for f in seen if f.device_id == first and Alarm.STRAP_REMOVED in f.alarms]
    assert straps, "the first wearer's strap comes off, so the demo shows an alert at once"
    assert min(f.fix_time for f in straps) < start + timedelta(minutes=3)
    zone = next(c for c in plan["persons"][2]["conditions"] if c["type"] == "exclusion_zone")
    inside = [
        f
        for f in seen
        if f.device_id == third
        and f.lat is not None
        and _distance(f.lat, f.lon, zone["geometry"]["coordinates"]) < zone["radius_m"]  # type: ignore[arg-type]
    ]
    assert inside, "the third wearer walks into the exclusion zone within minutes"
    assert min(f.fix_time for f in inside) < start + timedelta(minutes=25)


def _zone_from(plan: dict) -> dict:  # type: ignore[type-arg]
    return next(c for c in plan["persons"][0]["conditions"] if c["type"] == "exclusion_zone")


def test_live_service_does_nothing_outside_the_demo() -> None:
    class NotDemo:
        class settings:
            environment = "production"

    asyncio.run(live.run(NotDemo(), asyncio.Event()))


async def test_a_simulated_tag_told_to_report_faster_does_and_says_so() -> None:
    plan = simulate(SimConfig(wearers=3, days=1, seed=3)).scenario
    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    device = plan["persons"][0]["devices"][0]
    commands = CommandQueue()
    commands.request(device, fast=True, now=start)
    seen: list[Fix] = []
    stream = live.fixes(plan, start, speed=3600.0, tick_s=0.01, commands=commands)
    async for batch in stream:
        seen.extend(batch)
        if seen[-1].fix_time > start + timedelta(minutes=30):
            break
    await stream.aclose()  # type: ignore[attr-defined]
    [command] = commands.history(device)
    assert command.state == CommandState.ACKNOWLEDGED
    mine = sorted(f.fix_time for f in seen if f.device_id == device)
    other = plan["persons"][1]["devices"][0]
    theirs = [f for f in seen if f.device_id == other]
    # About one fix every 10 s for the commanded tag against one every 30 s for the others.
    assert len(mine) > 2.5 * len(theirs)
