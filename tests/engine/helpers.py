"""Building scenarios and fix streams for engine tests: positions given in metres from a point."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from vigil.engine.core import Engine
from vigil.engine.plan import parse_plan
from vigil.engine.replay import read_fixes, replay, write_events

# Birmingham city centre: an exclusion zone's centre in most tests.
LON0, LAT0 = -1.8904, 52.4862
T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # a Monday, 17:00 GMT


def at(
    east_m: float, north_m: float, lon0: float = LON0, lat0: float = LAT0
) -> tuple[float, float]:
    """(lon, lat) of a point east/north metres away (plenty accurate at test scale)."""
    lat = lat0 + north_m / 111_250.0
    lon = lon0 + east_m / (111_320.0 * math.cos(math.radians(lat0)))
    return lon, lat


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def circle(ident: str, radius: float, buffer: float | None = None, **extra: Any) -> dict[str, Any]:
    condition = {
        "id": ident,
        "type": "exclusion_zone",
        "geometry": {"type": "Point", "coordinates": [LON0, LAT0]},
        "radius_m": radius,
        **extra,
    }
    if buffer is not None:
        condition["buffer_m"] = buffer
    return condition


def scenario(
    *conditions: dict[str, Any], devices: tuple[str, ...] = ("T1",), **top: Any
) -> dict[str, Any]:
    return {
        "timezone": "Europe/London",
        "persons": [{"id": "P1", "devices": list(devices), "conditions": list(conditions)}],
        **top,
    }


@dataclass
class Stream:
    """Rows of FIXES.csv in arrival order."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def fix(
        self,
        when: datetime | float,
        east: float | None,
        north: float = 0.0,
        *,
        acc: float | None = 10.0,
        device: str = "T1",
        **extra: Any,
    ) -> Stream:
        moment = T0 + timedelta(seconds=when) if isinstance(when, int | float) else when
        lon, lat = at(east, north) if east is not None else (None, None)
        self.rows.append(
            {
                "device": device,
                "time": iso(moment),
                "lat": lat,
                "lon": lon,
                "accuracy_m": acc,
                **extra,
            }
        )
        return self

    def walk(
        self,
        start_s: float,
        end_s: float,
        every_s: float,
        east_from: float | None,
        east_to: float | None,
        north: float = 0.0,
        **extra: Any,
    ) -> Stream:
        steps = round((end_s - start_s) / every_s)
        for i in range(steps + 1):
            share = i / steps if steps else 0.0
            east = None
            if east_from is not None and east_to is not None:
                east = east_from + (east_to - east_from) * share
            self.fix(start_s + i * every_s, east, north, **extra)
        return self

    def write(self, path: Path) -> Path:
        columns = ["device", "time", "lat", "lon", "accuracy_m"]
        for row in self.rows:
            for key in row:
                if key not in columns:
                    columns.append(key)
        lines = [",".join(columns)]
        for row in self.rows:
            cells = []
            for key in columns:
                value = row.get(key)
                cells.append(
                    ""
                    if value is None
                    else (f"{value:.7f}" if isinstance(value, float) else str(value))
                )
            lines.append(",".join(cells))
        path.write_text("\n".join(lines) + "\n")
        return path


def run(
    raw_scenario: dict[str, Any], stream: Stream, tmp_path: Path, chunk: int = 65_536
) -> tuple[list[dict[str, Any]], Engine]:
    """Replay through the same path as ``vigil engine replay`` (CSV in, JSONL out); return the
    records."""
    (tmp_path / "scenario.json").write_text(json.dumps(raw_scenario))
    table = read_fixes(stream.write(tmp_path / "fixes.csv"))
    engine = replay(parse_plan(raw_scenario), table, chunk=chunk)
    out = tmp_path / "events.jsonl"
    write_events(engine.ledger.episodes, out)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    return records, engine


def of_kind(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [record for record in records if record["kind"] == kind]


def parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def seconds(value: str | None) -> float:
    moment = parse(value)
    assert moment is not None
    return (moment - T0).total_seconds()
