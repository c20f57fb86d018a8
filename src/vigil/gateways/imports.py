"""Bulk import for backfill and investigation: CSV, GPX (1.0/1.1) and a JSON batch.

All or nothing: every row is checked first and every problem reported (naming the row and
field), and only a clean file is published — so a half-imported trail never exists.
"""

from __future__ import annotations

import csv
import io
import json
import math
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from vigil.errors import ErrorCollector
from vigil.gateways import validate
from vigil.gateways.model import DecodeError
from vigil.gateways.osmand import parse_time
from vigil.text import text_problem
from vigil.tracking.model import Alarm, Fix

CSV_REQUIRED = ("device", "time", "lat", "lon", "accuracy_m")
CSV_OPTIONAL = ("speed_mps", "heading", "altitude_m", "battery_pct", "alarms")
MAX_ROWS = 100_000


def _float(errors: ErrorCollector, where: str, value: Any, *, required: bool) -> float | None:
    if value is None or value == "":
        if required:
            errors.add(where, "is required")
        return None
    if isinstance(value, bool):
        errors.add(where, "must be a number")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors.add(where, f"{value!r} is not a number")
        return None
    if not math.isfinite(number):
        errors.add(where, "must be a finite number")
        return None
    return number


def _fix(
    errors: ErrorCollector, where: str, row: dict[str, Any], protocol: str, now: datetime, raw: str
) -> Fix | None:
    before = len(errors.errors)
    device = str(row.get("device") or "").strip()
    if not device:
        errors.add(f"{where}.device", "is required")
    elif reason := text_problem(device, max_length=validate.MAX_DEVICE_ID):
        errors.add(f"{where}.device", reason)
    fix_time: datetime | None = None
    stamp = row.get("time")
    if stamp in (None, ""):
        errors.add(f"{where}.time", "is required")
    else:
        try:
            fix_time = parse_time(str(stamp))
        except DecodeError as exc:
            errors.add(f"{where}.time", exc.detail or exc.reason)
    lat = _float(errors, f"{where}.lat", row.get("lat"), required=True)
    lon = _float(errors, f"{where}.lon", row.get("lon"), required=True)
    accuracy = _float(errors, f"{where}.accuracy_m", row.get("accuracy_m"), required=False)
    values = {
        key: _float(errors, f"{where}.{key}", row.get(key), required=False)
        for key in ("speed_mps", "heading", "altitude_m", "battery_pct")
    }
    alarms: set[Alarm] = set()
    raw_alarms = row.get("alarms") or []
    names = raw_alarms.split(";") if isinstance(raw_alarms, str) else raw_alarms
    for name in names:
        if not str(name).strip():
            continue
        try:
            alarms.add(Alarm(str(name).strip()))
        except ValueError:
            errors.add(
                f"{where}.alarms", f"{name!r} is not one of: {', '.join(a.value for a in Alarm)}"
            )
    if len(errors.errors) > before or fix_time is None:
        return None
    fix = Fix(
        device_id=device,
        fix_time=fix_time,
        receive_time=now,
        lat=lat,
        lon=lon,
        protocol=protocol,
        accuracy_m=accuracy,
        speed_mps=values["speed_mps"],
        heading=values["heading"],
        altitude_m=values["altitude_m"],
        battery_pct=values["battery_pct"],
        alarms=frozenset(alarms),
        raw=raw,
        attributes={"import": protocol},
    )
    problem = validate.problem(fix)
    if problem:
        errors.add(where, problem.replace("_", " "))
        return None
    return fix


def _finish(errors: ErrorCollector, fixes: list[Fix], what: str) -> list[Fix]:
    if not fixes and not errors.errors:
        errors.add(what, "contains no fixes")
    errors.raise_if_any()
    return fixes


def from_csv(text: str, now: datetime) -> list[Fix]:
    errors = ErrorCollector()
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in CSV_REQUIRED if name not in header]
    if missing:
        errors.add("header", f"missing column(s): {', '.join(missing)}")
        errors.raise_if_any()
    fixes = []
    for number, row in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            errors.add("file", f"more than {MAX_ROWS} rows; split it")
            break
        clean = {(k or "").strip(): (v or "").strip() for k, v in row.items() if isinstance(v, str)}
        fix = _fix(
            errors,
            f"row {number}",
            clean,
            "import_csv",
            now,
            ",".join(row.get(k) or "" for k in header),
        )
        if fix:
            fixes.append(fix)
    return _finish(errors, fixes, "file")


def from_gpx(data: bytes, device: str, now: datetime) -> list[Fix]:
    errors = ErrorCollector()
    if not device.strip():
        errors.add("device", "is required for a GPX file")
        errors.raise_if_any()
    try:
        root = ET.fromstring(data)  # noqa: S314 - expat limits entity expansion
    except ET.ParseError as exc:
        errors.add("file", f"not GPX XML: {exc}")
        errors.raise_if_any()
        raise AssertionError("unreachable") from exc
    fixes = []
    number = 0
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag not in ("trkpt", "rtept", "wpt"):
            continue
        number += 1
        if number > MAX_ROWS:
            errors.add("file", f"more than {MAX_ROWS} points; split it")
            break
        fields: dict[str, Any] = {
            "device": device,
            "lat": element.get("lat"),
            "lon": element.get("lon"),
        }
        for child in element:
            name = child.tag.rsplit("}", 1)[-1]
            if name == "time":
                fields["time"] = (child.text or "").strip()
            elif name == "ele":
                fields["altitude_m"] = (child.text or "").strip()
            elif name == "hdop" and child.text:
                try:
                    fields["accuracy_m"] = float(child.text) * 5.0
                except ValueError:
                    errors.add(f"point {number}.hdop", f"{child.text!r} is not a number")
            elif name == "speed":
                fields["speed_mps"] = (child.text or "").strip()
        if not fields.get("time"):
            errors.add(
                f"point {number}.time",
                "is required: a point without a time cannot be placed in a trail",
            )
            continue
        raw = ET.tostring(element, encoding="unicode")[:1000]
        fix = _fix(errors, f"point {number}", fields, "import_gpx", now, raw)
        if fix:
            fixes.append(fix)
    return _finish(errors, fixes, "file")


def from_json(data: bytes | Any, now: datetime) -> list[Fix]:
    errors = ErrorCollector()
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            errors.add("body", f"not JSON: {exc}")
            errors.raise_if_any()
    items = data.get("fixes") if isinstance(data, dict) else None
    if not isinstance(items, list):
        errors.add("fixes", "a list of fixes is required")
        errors.raise_if_any()
        return []
    if len(items) > MAX_ROWS:
        errors.add("fixes", f"more than {MAX_ROWS}; split the batch")
        errors.raise_if_any()
    fixes = []
    for number, item in enumerate(items):
        if not isinstance(item, dict):
            errors.add(f"fixes[{number}]", "must be an object")
            continue
        fix = _fix(errors, f"fixes[{number}]", item, "import_json", now, json.dumps(item)[:1000])
        if fix:
            fixes.append(fix)
    return _finish(errors, fixes, "fixes")
