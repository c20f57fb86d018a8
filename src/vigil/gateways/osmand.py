"""OsmAnd / Traccar Client: HTTP GET or POST with a query form, or a JSON body.

Query form: ``id``/``deviceid``, ``lat``+``lon`` or ``location=lat,lon``, ``timestamp`` (Unix
seconds or milliseconds, ISO-8601, or ``yyyy-MM-dd HH:mm:ss``), ``speed`` in knots,
``bearing``/``heading``, ``altitude``, ``accuracy``, ``hdop``, ``batt``, ``charge``, ``valid``;
any other key is kept as an attribute. JSON form (Traccar Client 8+): ``device_id`` and a
``location`` with ``coords``, ``timestamp``, ``battery.level`` (0..1), speed in m/s.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from vigil.gateways.model import (
    KNOTS_TO_MPS,
    Decoded,
    DecodeError,
    Draft,
    Session,
    accuracy_from_hdop,
    from_epoch,
)
from vigil.text import ascii_digits

NAME = "osmand"
MAX_BODY = 64 * 1024
TRUE = {"true", "1", "yes", "on"}
FALSE = {"false", "0", "no", "off"}


def _number(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError as exc:
        raise DecodeError("malformed", f"{name}: {value!r} is not a number") from exc
    if not math.isfinite(number):
        raise DecodeError("malformed", f"{name}: {value!r} is not a finite number")
    return number


def parse_time(value: str) -> datetime:
    """Unix seconds or milliseconds, ISO-8601, or ``yyyy-MM-dd HH:mm:ss`` (UTC)."""
    text = value.strip()
    if ascii_digits(text.replace(".", "", 1)):
        number = float(text)
        return from_epoch(number / 1000.0 if number > 1e11 else number)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DecodeError("bad_time", f"timestamp: {value!r} is not a time") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _convert(value: str) -> Any:
    low = value.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        return value
    return number if math.isfinite(number) else value


def query_pairs(query: str) -> list[tuple[str, str]]:
    """``parse_qsl`` semantics, several times faster for the plain queries apps send."""
    if "%" in query or "+" in query or ";" in query:
        return parse_qsl(query, keep_blank_values=True)
    pairs = []
    for item in query.split("&"):
        if item:
            key, _, value = item.partition("=")
            pairs.append((key, value))
    return pairs


def _location(d: Draft, value: str) -> None:
    lat, _, lon = value.partition(",")
    d.lat, d.lon = _number("location", lat), _number("location", lon)


def _hdop(d: Draft, value: str) -> None:
    # Kept as an attribute: it stands in for accuracy only when the app sends no accuracy.
    d.attributes["hdop"] = _number("hdop", value)


# What each known query key does to the draft; any other key is kept as an attribute. A table
# rather than a chain of ifs: one dict lookup per key, and each key's meaning reads on one line.
QUERY_FIELDS: dict[str, Callable[[Draft, str], None]] = {
    "valid": lambda d, v: setattr(d, "valid", v.lower() in TRUE),
    "timestamp": lambda d, v: setattr(d, "fix_time", parse_time(v)),
    "lat": lambda d, v: setattr(d, "lat", _number("lat", v)),
    "lon": lambda d, v: setattr(d, "lon", _number("lon", v)),
    "location": _location,
    "speed": lambda d, v: setattr(d, "speed_mps", round(_number("speed", v) * KNOTS_TO_MPS, 3)),
    "bearing": lambda d, v: setattr(d, "heading", _number("bearing", v)),
    "heading": lambda d, v: setattr(d, "heading", _number("heading", v)),
    "altitude": lambda d, v: setattr(d, "altitude_m", _number("altitude", v)),
    "accuracy": lambda d, v: setattr(d, "accuracy_m", _number("accuracy", v)),
    "hdop": _hdop,
    "batt": lambda d, v: setattr(d, "battery_pct", _number("batt", v)),
    "charge": lambda d, v: setattr(d, "charging", v.lower() in TRUE),
}
# Cell towers and Wi-Fi networks come as repeated keys; every value is kept, in order.
REPEATED_KEYS = ("cell", "wifi")


def decode_query(query: str | list[tuple[str, str]], receive_time: datetime, raw: str) -> Draft:
    pairs = query_pairs(query) if isinstance(query, str) else query
    params: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        multi.setdefault(key, []).append(value)
        params[key] = value
    device = params.pop("id", None) or params.get("deviceid")
    params.pop("deviceid", None)
    if not device:
        raise DecodeError("missing_id", "id: a device id is required")
    d = Draft(NAME, device.strip(), receive_time, raw)
    for key, value in params.items():
        if setter := QUERY_FIELDS.get(key):
            setter(d, value)
        else:
            d.attributes[key] = multi[key] if key in REPEATED_KEYS else _convert(value)
    if d.accuracy_m is None or d.accuracy_m <= 0:
        d.accuracy_m = accuracy_from_hdop(d.attributes.get("hdop"))
    if (d.lat is None) != (d.lon is None):
        raise DecodeError("malformed", "lat and lon: both or neither are required")
    if d.lat is None:
        d.approximate = bool(d.attributes.get("cell") or d.attributes.get("wifi"))
    return d


def _json_location(body: bytes) -> tuple[str, dict[str, Any]]:
    """The device id and the (first) location of a Traccar Client JSON body."""
    try:
        root = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting thousands deep
        raise DecodeError("malformed", f"body is not JSON: {exc}") from exc
    if not isinstance(root, dict):
        raise DecodeError("malformed", "body: a JSON object is required")
    location = root.get("location")
    if isinstance(location, list) and location:
        location = location[0]
    if not isinstance(location, dict):
        raise DecodeError("malformed", "location: an object is required")
    device = root.get("device_id") or root.get("deviceId") or location.get("device_id")
    if not isinstance(device, str | int) or not str(device).strip():
        raise DecodeError("missing_id", "device_id: a device id is required")
    return str(device).strip(), location


def _coordinate(coords: dict[str, Any], key: str) -> float | None:
    value = coords.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DecodeError("malformed", f"location.coords.{key}: a number is required")
    if not math.isfinite(value):
        raise DecodeError("malformed", f"location.coords.{key}: a finite number is required")
    return float(value)


def _read_coords(d: Draft, coords: dict[str, Any]) -> None:
    d.lat, d.lon = _coordinate(coords, "latitude"), _coordinate(coords, "longitude")
    if d.lat is None or d.lon is None:
        raise DecodeError("malformed", "location.coords: latitude and longitude are required")
    d.accuracy_m = _coordinate(coords, "accuracy")
    d.altitude_m = _coordinate(coords, "altitude")
    # The app reports -1 for an unknown speed or heading.
    speed = _coordinate(coords, "speed")
    d.speed_mps = speed if speed is not None and speed >= 0 else None
    heading = _coordinate(coords, "heading")
    d.heading = heading if heading is not None and heading >= 0 else None


def _read_battery(d: Draft, battery: dict[str, Any]) -> None:
    level = battery.get("level")
    if isinstance(level, int | float) and not isinstance(level, bool) and 0 <= level <= 1:
        d.battery_pct = round(level * 100, 1)
    charging = battery.get("is_charging")
    if isinstance(charging, bool):
        d.charging = charging


def decode_json(body: bytes, receive_time: datetime) -> Draft:
    device, location = _json_location(body)
    d = Draft(NAME, device, receive_time, body.decode("utf-8", "replace"))
    coords = location.get("coords")
    if not isinstance(coords, dict):
        raise DecodeError("malformed", "location.coords: an object is required")
    _read_coords(d, coords)
    stamp = location.get("timestamp")
    if isinstance(stamp, str):
        d.fix_time = parse_time(stamp)
    battery = location.get("battery")
    if isinstance(battery, dict):
        _read_battery(d, battery)
    for key in ("is_moving", "odometer", "event"):
        if key in location:
            d.attributes[key] = location[key]
    activity = location.get("activity")
    if isinstance(activity, dict) and "type" in activity:
        d.attributes["activity"] = activity["type"]
    return d


def decode_request(query: str, body: bytes, content_type: str, receive_time: datetime) -> Decoded:
    """One HTTP request: the query string, form body or JSON body decide the fix."""
    if len(body) > MAX_BODY:
        raise DecodeError("oversize", f"body is over {MAX_BODY} bytes")
    raw = query
    if body and ("json" in content_type or body.lstrip()[:1] == b"{"):
        draft = decode_json(body, receive_time)
    else:
        pairs = query_pairs(query)
        if body and "x-www-form-urlencoded" in content_type:
            try:
                form = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DecodeError("malformed", "body: not UTF-8") from exc
            pairs += parse_qsl(form, keep_blank_values=True)
            raw = f"{query}&{form}" if query else form
        draft = decode_query(pairs, receive_time, raw)
    return Decoded(fixes=[draft.to_fix()], login=draft.device_id)


def decode(payload: bytes, session: Session, receive_time: datetime) -> Decoded:
    """A request as a field engineer pastes it: ``/?id=..&lat=..`` or a JSON body."""
    text = payload.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        return decode_request("", payload, "application/json", receive_time)
    _, _, query = text.partition("?") if "?" in text else ("", "", text.lstrip("/"))
    return decode_request(query, b"", "", receive_time)
