"""``vigil engine replay``: formats, and bad input named by field with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.engine.helpers import Stream, circle, scenario
from vigil.cli import app

KEYS = ["person", "condition", "kind", "start", "end", "raised_at", "retrospective"]


def _invoke(tmp_path: Path, raw: object, csv_text: str) -> tuple[int, str, Path]:
    (tmp_path / "scenario.json").write_text(json.dumps(raw))
    (tmp_path / "fixes.csv").write_text(csv_text)
    out = tmp_path / "events.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "engine",
            "replay",
            str(tmp_path / "scenario.json"),
            str(tmp_path / "fixes.csv"),
            "--out",
            str(out),
            "--quiet",
        ],
    )
    return result.exit_code, result.output, out


def test_replay_writes_one_json_line_per_event_in_the_documented_shape(tmp_path: Path) -> None:
    stream = Stream().walk(0, 1200, 10, -1000, 800)
    code, _, out = _invoke(
        tmp_path,
        scenario(circle("Z1", 300, buffer=200)),
        stream.write(tmp_path / "x.csv").read_text(),
    )
    assert code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["kind"] for line in lines] == ["approach_warning", "exclusion_zone"]
    for line in lines:
        assert list(line)[: len(KEYS)] == KEYS
        assert line["start"].endswith("Z")
        assert line["raised_at"].endswith("Z")


def test_the_issue_example_scenario_with_offsets_and_optional_columns_is_accepted(
    tmp_path: Path,
) -> None:
    example = {
        "timezone": "Europe/London",
        "persons": [
            {
                "id": "P1",
                "devices": ["T1"],
                "conditions": [
                    {
                        "id": "Z1",
                        "type": "exclusion_zone",
                        "geometry": {"type": "Point", "coordinates": [-1.8904, 52.4862]},
                        "radius_m": 300,
                        "buffer_m": 200,
                    },
                    {
                        "id": "Z2",
                        "type": "exclusion_zone",
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [[-1.9, 52.4], [-1.8, 52.4], [-1.8, 52.5], [-1.9, 52.4]]
                            ],
                        },
                    },
                    {
                        "id": "H1",
                        "type": "curfew",
                        "geometry": {"type": "Point", "coordinates": [-1.95, 52.45]},
                        "radius_m": 60,
                        "timetable": [
                            {
                                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                "start": "19:00",
                                "end": "07:00",
                            }
                        ],
                        "grace_s": 300,
                    },
                    {"id": "X1", "type": "proximity", "device": "VP1", "distance_m": 500},
                ],
            }
        ],
    }
    csv_text = (
        "device,time,lat,lon,accuracy_m,battery,alarm,extra\n"
        "T1,2026-11-23T17:00:00Z,52.45,-1.95,12,80,,a\n"
        "T1,2026-11-23T17:01:00+00:00,52.45,-1.95,,79,,b\n"
        "T1,2026-06-01T18:02:00+01:00,,,,78,strap_removed,c\n"
    )
    code, output, out = _invoke(tmp_path, example, csv_text)
    assert code == 0, output
    kinds = [json.loads(line)["kind"] for line in out.read_text().splitlines()]
    assert "strap_removed" in kinds


def test_a_bad_time_is_reported_by_line_and_column_and_nothing_is_written(tmp_path: Path) -> None:
    csv_text = (
        "device,time,lat,lon,accuracy_m\n"
        "T1,2026-11-23T17:00:00Z,52.4,-1.9,10\n"
        "T1,2026-11-23 17:01,52.4,-1.9,10\n"
    )
    code, output, out = _invoke(tmp_path, scenario(circle("Z1", 300)), csv_text)
    assert code == 2
    assert "line 3: time" in output
    assert not out.exists()


def test_a_bad_scenario_names_the_field_and_the_reason(tmp_path: Path) -> None:
    raw = scenario(
        circle("Z1", -5),
        {
            "id": "H1",
            "type": "curfew",
            "geometry": {"type": "Point", "coordinates": [-1.9, 52.4]},
            "radius_m": 60,
            "timetable": [{"days": ["funday"], "start": "25:00", "end": "07:00"}],
        },
    )
    code, output, out = _invoke(tmp_path, raw, "device,time,lat,lon,accuracy_m\n")
    assert code == 2
    assert "persons[0].conditions[0].radius_m" in output
    assert "persons[0].conditions[1].timetable[0].days" in output
    assert not out.exists()


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    code, output, _ = _invoke(
        tmp_path,
        scenario(circle("Z1", 300)),
        "device,time,lat,lon\nT1,2026-11-23T17:00:00Z,52.4,-1.9\n",
    )
    assert code == 2
    assert "accuracy_m" in output


def test_replay_onto_a_sqlite_trail_store_cites_the_stored_fixes(tmp_path: Path) -> None:
    import sqlite3

    stream = Stream().walk(0, 1200, 10, -1000, 800)
    (tmp_path / "scenario.json").write_text(json.dumps(scenario(circle("Z1", 300))))
    stream.write(tmp_path / "fixes.csv")
    out = tmp_path / "events.jsonl"
    trail = tmp_path / "trail.db"
    result = CliRunner().invoke(
        app,
        [
            "engine",
            "replay",
            str(tmp_path / "scenario.json"),
            str(tmp_path / "fixes.csv"),
            "--out",
            str(out),
            "--trail",
            str(trail),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    [violation] = [json.loads(line) for line in out.read_text().splitlines()]
    with sqlite3.connect(trail) as connection:
        count = connection.execute("SELECT count(*) FROM fixes").fetchone()[0]
        marks = ",".join("?" * len(violation["fix_ids"]))
        cited = connection.execute(
            f"SELECT device_id, person_id FROM fixes WHERE id IN ({marks})",  # noqa: S608
            violation["fix_ids"],
        ).fetchall()
    assert count == len(stream.rows)
    assert set(cited) == {("T1", "P1")}


def test_replay_refuses_to_mix_its_trail_into_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "scenario.json").write_text(json.dumps(scenario(circle("Z1", 300))))
    Stream().walk(0, 60, 10, -1000, -1000).write(tmp_path / "fixes.csv")
    trail = tmp_path / "trail.db"
    trail.write_bytes(b"not empty")
    result = CliRunner().invoke(
        app,
        [
            "engine",
            "replay",
            str(tmp_path / "scenario.json"),
            str(tmp_path / "fixes.csv"),
            "--out",
            str(tmp_path / "events.jsonl"),
            "--trail",
            str(trail),
            "--quiet",
        ],
    )
    assert result.exit_code == 2
    assert "--trail" in result.output
    assert not (tmp_path / "events.jsonl").exists()
