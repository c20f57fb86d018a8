"""The movement simulator's scripted incidents, replayed: every one is raised, near its true time.

The simulator (``vigil.sim``) is written independently of the engine and records the ground truth
of each incident it scripts; this checks the two agree end to end through ``vigil engine replay``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from typer.testing import CliRunner

from vigil.cli import app
from vigil.sim.generate import simulate
from vigil.sim.model import SimConfig

# How far a raised start may be from the truth: battery levels are whole percent in FIXES.csv
# (so "20%" appears a few minutes early); the rest are within a fix or two.
TOLERANCE_S = {"battery_low": 900.0, "no_communication": 120.0}


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def test_every_scripted_incident_of_two_simulated_days_is_raised_near_its_true_start(
    tmp_path: Path,
) -> None:
    simulation = simulate(SimConfig(wearers=20, days=2, seed=3))
    paths = simulation.write(tmp_path)
    out = tmp_path / "EVENTS.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "engine",
            "replay",
            str(paths["scenario"]),
            str(paths["fixes"]),
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in out.read_text().splitlines()]
    truth = json.loads(paths["truth"].read_text())["incidents"]
    assert truth
    for incident in truth:
        tolerance = TOLERANCE_S.get(incident["kind"], 60.0)
        matches = [
            e
            for e in events
            if e["person"] == incident["person"]
            and e["kind"] == incident["kind"]
            and e["condition"] == incident["condition"]
            and abs(_ts(e["start"]) - _ts(incident["start"])) <= tolerance
        ]
        assert matches, f"not raised: {incident}"
    # Nobody is placed in an exclusion zone the simulator never sent them into.
    entered = {(i["person"], i["condition"]) for i in truth if i["kind"] == "exclusion_zone"}
    raised = {(e["person"], e["condition"]) for e in events if e["kind"] == "exclusion_zone"}
    assert raised <= entered
