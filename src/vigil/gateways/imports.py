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


def _device(errors: ErrorCollector, where: str, value: Any) -> str:
    device = str(value or "").strip()
    if not device:
        errors.add(where, "is required")
    elif reason := text_problem(device, max_length=validate.MAX_DEVICE_ID):
        errors.add(where, reason)
    return device


def _time(errors: ErrorCollector, where: str, stamp: Any) -> datetime | None:
    if stamp in (None, ""):
        errors.add(where, "is required")
        return None
    try:
        return parse_time(str(stamp))
    except DecodeError as exc:
        errors.add(where, exc.detail or exc.reason)
        return None


def _alarms(errors: ErrorCollector, where: str, value: Any) -> frozenset[Alarm]:
    # A CSV cell lists alarms separated by semicolons; a JSON batch gives a list.
    names = value.split(";") if isinstance(value, str) else value or []
    alarms: set[Alarm] = set()
    for name in (str(n).strip() for n in names):
        if not name:
            continue
        try:
            alarms.add(Alarm(name))
        except ValueError:
            errors.add(where, f"{name!r} is not one of: {', '.join(a.value for a in Alarm)}")
    return frozenset(alarms)


def _fix(
    errors: ErrorCollector, where: str, row: dict[str, Any], protocol: str, now: datetime, raw: str
) -> Fix | None:
    """One row's fix, or None with every problem in it added to ``errors``."""
    before = len(errors.errors)
    device = _device(errors, f"{where}.device", row.get("device"))
    fix_time = _time(errors, f"{where}.time", row.get("time"))
    lat = _float(errors, f"{where}.lat", row.get("lat"), required=True)
    lon = _float(errors, f"{where}.lon", row.get("lon"), required=True)
    optional = {
        key: _float(errors, f"{where}.{key}", row.get(key), required=False)
        for key in ("accuracy_m", "speed_mps", "heading", "altitude_m", "battery_pct")
    }
    alarms = _alarms(errors, f"{where}.alarms", row.get("alarms"))
    if len(errors.errors) > before or fix_time is None:
        return None
    fix = Fix(
        device_id=device,
        fix_time=fix_time,
        receive_time=now,
        lat=lat,
        lon=lon,
        protocol=protocol,
        accuracy_m=optional["accuracy_m"],
        speed_mps=optional["speed_mps"],
        heading=optional["heading"],
        altitude_m=optional["altitude_m"],
        battery_pct=optional["battery_pct"],
        alarms=alarms,
        raw=raw,
        attributes={"import": protocol},
    )
    if problem := validate.problem(fix):
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


GPX_POINTS = ("trkpt", "rtept", "wpt")


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _gpx_fields(
    errors: ErrorCollector, where: str, point: ET.Element, device: str
) -> dict[str, Any]:
    """A GPX point's values under the names a CSV row uses, so both go through one check."""
    fields: dict[str, Any] = {"device": device, "lat": point.get("lat"), "lon": point.get("lon")}
    for child in point:
        name, text = _local_name(child.tag), (child.text or "").strip()
        if name == "time":
            fields["time"] = text
        elif name == "ele":
            fields["altitude_m"] = text
        elif name == "speed":
            fields["speed_mps"] = text
        elif name == "hdop" and text:
            # GPX carries dilution of precision, not metres; five metres per unit of HDOP is
            # the usual rule of thumb for a consumer receiver.
            try:
                fields["accuracy_m"] = float(text) * 5.0
            except ValueError:
                errors.add(f"{where}.hdop", f"{text!r} is not a number")
    return fields


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
    points = (element for element in root.iter() if _local_name(element.tag) in GPX_POINTS)
    fixes = []
    for number, point in enumerate(points, start=1):
        if number > MAX_ROWS:
            errors.add("file", f"more than {MAX_ROWS} points; split it")
            break
        where = f"point {number}"
        fields = _gpx_fields(errors, where, point, device)
        if not fields.get("time"):
            errors.add(
                f"{where}.time", "is required: a point without a time cannot be placed in a trail"
            )
            continue
        raw = ET.tostring(point, encoding="unicode")[:1000]
        if fix := _fix(errors, where, fields, "import_gpx", now, raw):
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
