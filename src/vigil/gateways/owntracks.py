"""OwnTracks (phone app), over HTTP or MQTT: JSON messages validated like the OwnTracks schema.

The device identity is ``<user>/<device>``: the MQTT topic ``owntracks/<user>/<device>`` or, in
HTTP mode, the ``X-Limit-U``/``X-Limit-D`` headers (or ``?u=&d=``). ``location`` and
``transition`` messages become fixes; ``lwt`` (the broker's notice that the phone dropped off)
becomes a position-less status; the app's other messages (waypoints, cards, commands) are
valid but carry nothing to track.

Validation follows the OwnTracks message schema (``_type`` required and from its list; per-type
required fields; ``lat``/``lon`` numbers, ``tst`` an integer, ...), written out here so the
gateway needs no schema file at run time; the tests check it agrees with the published schema.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid as uuidlib
from datetime import datetime
from typing import Any, NoReturn

from vigil.gateways.model import KMH_TO_MPS, Decoded, DecodeError, Draft, Session, from_epoch
from vigil.tracking.model import Alarm

NAME = "owntracks"
MAX_BODY = 64 * 1024
TYPES = frozenset(
    {
        "beacon",
        "card",
        "cmd",
        "configuration",
        "location",
        "lwt",
        "request",
        "status",
        "steps",
        "transition",
        "waypoint",
        "waypoints",
    }
)
ACTIONS = frozenset(
    {
        "action",
        "clearWaypoints",
        "dump",
        "reportLocation",
        "reportSteps",
        "response",
        "setConfiguration",
        "setWaypoints",
        "status",
        "waypoints",
    }
)
REQUESTS = frozenset({"tour", "tours", "untour"})
REQUIRED = {
    "location": ("lat", "lon", "tst"),
    "lwt": ("tst",),
    "steps": ("from", "steps", "to", "tst"),
    "transition": ("acc", "event", "lat", "lon", "tst", "wtst"),
    "cmd": ("action",),
}
BASE64 = re.compile(r"^[-A-Za-z0-9+/]*={0,3}$")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fail(field: str, reason: str) -> NoReturn:
    raise DecodeError("schema", f"{field}: {reason}")


def _check_common_fields(message: dict[str, Any]) -> None:
    """The fields any message type may carry, each checked only when present."""
    for key in ("lat", "lon"):
        if key in message and not _is_number(message[key]):
            _fail(key, "must be a number")
    if "tst" in message and not _is_int(message["tst"]):
        _fail("tst", "must be an integer (Unix seconds)")
    if "action" in message and message["action"] not in ACTIONS:
        _fail("action", f"{message['action']!r} is not an OwnTracks action")
    if "request" in message and message["request"] not in REQUESTS:
        _fail("request", f"{message['request']!r} is not tour, tours or untour")
    if "ntours" in message and not (_is_int(message["ntours"]) and message["ntours"] >= 0):
        _fail("ntours", "must be a whole number")
    if "tours" in message and not isinstance(message["tours"], list):
        _fail("tours", "must be a list")
    if "uuid" in message:
        if not isinstance(message["uuid"], str):
            _fail("uuid", "must be a string")
        try:
            uuidlib.UUID(message["uuid"])
        except ValueError:
            _fail("uuid", "is not a UUID")


def _check_card(message: dict[str, Any]) -> None:
    face = message.get("face")
    if face is not None:
        if not isinstance(face, str) or not BASE64.match(face):
            _fail("face", "must be base64")
        try:
            base64.b64decode(face, validate=True)
        except (binascii.Error, ValueError):
            _fail("face", "must be base64")
    if "name" in message and not isinstance(message["name"], str):
        _fail("name", "must be a string")


def validate(message: Any) -> None:
    """Raise ``DecodeError('schema', '<field>: <reason>')`` unless the message is valid."""
    if not isinstance(message, dict):
        _fail("body", "a JSON object is required")
    kind = message.get("_type")
    if kind is None:
        _fail("_type", "is required")
    if kind not in TYPES:
        _fail("_type", f"{kind!r} is not an OwnTracks message type")
    _check_common_fields(message)
    for key in REQUIRED.get(kind, ()):
        if key not in message:
            _fail(key, f"is required in a {kind} message")
    if kind == "steps":
        for key in ("distance", "floorsdown", "floorsup", "from", "steps", "to"):
            if key in message and not _is_int(message[key]):
                _fail(key, "must be an integer")
    if kind == "card":
        _check_card(message)
    if "response" in message and "request" not in message:
        _fail("request", "is required with a response")
    if message.get("request") == "untour" and "uuid" not in message:
        _fail("uuid", "is required to untour")


def _payload_json(payload: bytes) -> Any:
    if len(payload) > MAX_BODY:
        raise DecodeError("oversize", f"message is over {MAX_BODY} bytes")
    try:
        return json.loads(payload)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting thousands deep
        raise DecodeError("malformed", f"body is not JSON: {exc}") from exc


def _read_position(d: Draft, message: dict[str, Any]) -> None:
    d.lat, d.lon = float(message["lat"]), float(message["lon"])
    d.fix_time = from_epoch(message["tst"])
    # The app sends negative or out-of-range values for what it does not know; those stay unset.
    acc: Any = message.get("acc")
    if _is_number(acc) and acc >= 0:
        d.accuracy_m = float(acc)
    if _is_number(message.get("alt")):
        d.altitude_m = float(message["alt"])
    if _is_number(message.get("vel")) and message["vel"] >= 0:
        d.speed_mps = round(message["vel"] * KMH_TO_MPS, 3)
    if _is_number(message.get("cog")) and message["cog"] >= 0:
        d.heading = float(message["cog"])
    if _is_number(message.get("batt")) and 0 <= message["batt"] <= 100:
        d.battery_pct = float(message["batt"])
    bs = message.get("bs")
    if bs in (1, 2, 3):  # battery status: 1 unplugged, 2 charging, 3 full
        d.charging = bs in (2, 3)
    _keep(d, message, ("tid", "conn", "t", "m", "vac", "SSID", "BSSID", "inregions", "tag"))


def _keep(d: Draft, message: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in message:
            d.attributes[key] = message[key]


TRANSITION_ALARMS = {"enter": Alarm.GEOFENCE_ENTER, "leave": Alarm.GEOFENCE_EXIT}


def decode_message(
    message: dict[str, Any], device_id: str, receive_time: datetime, raw: str
) -> list[Draft]:
    validate(message)
    kind = message["_type"]
    d = Draft(NAME, device_id, receive_time, raw)
    if kind in ("location", "transition"):
        _read_position(d, message)
        if kind == "transition":
            d.alarm(TRANSITION_ALARMS.get(message.get("event", "")))
            _keep(d, message, ("event", "desc", "rid", "wtst"))
        d.attributes["message"] = kind
        return [d]
    if kind == "lwt":
        d.attributes["message"] = "lwt"
        d.attributes["connected_since"] = message["tst"]
        return [d]
    return []


def decode_payload(payload: bytes, device_id: str, receive_time: datetime) -> Decoded:
    """One HTTP body or MQTT message. An empty body is the app checking in: nothing to do."""
    if not payload.strip():
        return Decoded()
    message = _payload_json(payload)
    raw = payload.decode("utf-8", "replace")
    messages = message if isinstance(message, list) else [message]
    drafts: list[Draft] = []
    for item in messages:
        drafts.extend(decode_message(item, device_id, receive_time, raw))
    return Decoded(fixes=[d.to_fix() for d in drafts], login=device_id)


def identity(user: str | None, device: str | None) -> str:
    if not user or not device:
        raise DecodeError("missing_id", "X-Limit-U and X-Limit-D (or u and d) name the device")
    user, device = user.strip(), device.strip()
    if "/" in user or "/" in device or not user or not device:
        raise DecodeError("missing_id", "user and device names may not contain '/'")
    return f"{user}/{device}"


def identity_from_topic(topic: str) -> str:
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != "owntracks":
        raise DecodeError("missing_id", f"topic {topic!r} is not owntracks/<user>/<device>")
    return identity(parts[1], parts[2])


def decode(payload: bytes, session: Session, receive_time: datetime) -> Decoded:
    """For ``vigil decode``: the session's device id, or a placeholder naming the gap."""
    return decode_payload(payload, session.device_id or "unknown/unknown", receive_time)
