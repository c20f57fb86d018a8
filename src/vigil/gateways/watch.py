"""The 3G/SG/ZJ smart-watch protocol: ``[VENDOR*ID*LEN*CONTENT]`` text frames over TCP.

Some firmwares add an index (``[ZJ*ID*INDEX*LEN*CONTENT]``). ``LEN`` is hex and frequently wrong
(real devices count characters, bytes or nothing at all), so frames are cut at the closing
bracket of the declared length when it fits, else at the next ``]`` — never trusted blindly.
"""

from __future__ import annotations

import re
from datetime import datetime

from vigil.gateways.model import (
    KMH_TO_MPS,
    Decoded,
    DecodeError,
    Draft,
    Session,
    utc_from_parts,
)
from vigil.text import ascii_digits
from vigil.tracking.model import Alarm

NAME = "watch"
MAX_FRAME = 16_384

POSITION = re.compile(
    r"(\d\d)(\d\d)(\d\d),"  # date ddmmyy
    r"(\d\d)(\d\d)(\d\d),"  # time hhmmss
    r"([AV]),"
    r" *(-?\d+(?:\.\d+)?),([NS]?),"
    r" *(-?\d+(?:\.\d+)?),([EW]?),"
    r"(\d+(?:\.\d*)?),"  # speed km/h
    r"(\d+(?:\.\d*)?),"  # course
    r"(-?\d+(?:\.\d*)?),"  # altitude
    r"(\d+),"  # satellites
    r"(\d+),"  # rssi
    r"(\d+),"  # battery %
    r"(\d+),"  # steps
    r"\d+,"  # tumbles
    r"([0-9A-Fa-f]+)"  # status bits
    r"(?:,(.*))?$",
    re.DOTALL,
)
HEX4 = re.compile(r"[0-9A-Fa-f]{4}")

# Status bits, in the order firmware documents them.
STATUS_BITS: tuple[tuple[int, Alarm], ...] = (
    (0, Alarm.LOW_BATTERY),
    (1, Alarm.GEOFENCE_EXIT),
    (2, Alarm.GEOFENCE_ENTER),
    (14, Alarm.POWER_CUT),
    (16, Alarm.SOS),
    (17, Alarm.LOW_BATTERY),
    (18, Alarm.GEOFENCE_EXIT),
    (19, Alarm.GEOFENCE_ENTER),
    (20, Alarm.STRAP_REMOVED),
    (21, Alarm.FALL_DOWN),
    (22, Alarm.FALL_DOWN),
)


def _reply(vendor: str, device: str, index: str | None, content: str) -> bytes:
    middle = f"{index}*" if index is not None else ""
    return f"[{vendor}*{device}*{middle}{len(content):04X}*{content}]".encode("ascii")


def parse_header(frame: bytes) -> tuple[str, str, str | None, str]:
    """Split a frame into vendor, device id, optional index and content (type,data)."""
    if len(frame) < 2 or frame[:1] != b"[" or frame[-1:] != b"]":
        raise DecodeError("bad_frame", "a watch frame is enclosed in [ ]")
    body = frame[1:-1]
    parts = body.split(b"*", 4)
    if len(parts) < 4:
        raise DecodeError("bad_frame", "expected VENDOR*ID*LEN*CONTENT")
    try:
        vendor, device = parts[0].decode("ascii"), parts[1].decode("ascii")
    except UnicodeDecodeError as exc:
        raise DecodeError("bad_frame", "vendor and id must be ASCII") from exc
    if not (vendor.isalnum() and len(vendor) == 2):
        raise DecodeError("bad_frame", f"vendor {vendor!r} is not two letters")
    if not device or not device.isalnum():
        raise DecodeError("bad_identity", f"device id {device!r} is not alphanumeric")
    index: str | None = None
    rest = parts[2:]
    if len(rest) == 3 and HEX4.fullmatch(rest[1].decode("ascii", "replace")):
        index = rest[0].decode("ascii", "replace")
        # The index is echoed in the answer, which must be ASCII (found by fuzzing).
        if not (index.isascii() and index.isalnum()):
            raise DecodeError("bad_frame", f"index {index!r} is not alphanumeric")
        rest = rest[1:]
    else:
        rest = [rest[0], b"*".join(rest[1:])]
    content = rest[1].decode("latin-1")
    return vendor, device, index, content


HEALTH_KINDS = ("PULSE", "HEART", "BLOOD", "BPHRT", "BTEMP2", "OXYGEN", "TEMP")


def decode(frame: bytes, session: Session, receive_time: datetime) -> Decoded:
    vendor, device, index, content = parse_header(frame)
    if session.device_id is not None and session.device_id != device:
        raise DecodeError("identity_changed", f"connection began as {session.device_id}")
    login = None if session.device_id == device else device
    session.device_id = device
    kind, _, data = content.partition(",")
    d = Draft(NAME, device, receive_time, frame.decode("latin-1"))
    out = Decoded(login=login)
    upper = kind.upper()
    if kind == "INIT":
        out.reply = _reply(vendor, device, index, "INIT,1")
    elif kind == "LK":
        out.reply = _reply(vendor, device, index, "LK")
        if _read_link(d, data):
            out.fixes.append(d.to_fix())
    elif upper.startswith(("UD", "AL", "WT")):
        _position(d, data)
        if upper.startswith("AL"):
            out.reply = _reply(vendor, device, index, "AL")
        out.fixes.append(d.to_fix())
    elif kind in ("TKQ", "TKQ2"):
        out.reply = _reply(vendor, device, index, kind)
    elif upper in HEALTH_KINDS and data:
        _read_health(d, kind, data)
        out.fixes.append(d.to_fix())
    elif kind == "JXTK":
        out.reply = _reply(vendor, device, index, "JXTKR,1")  # voice message: not kept
    return out


def _read_link(d: Draft, data: str) -> bool:
    """A keep-alive's step count and battery, when it carries them (it is then kept as a fix)."""
    values = data.split(",") if data else []
    if len(values) >= 3 and ascii_digits(values[0]) and ascii_digits(values[2]):
        d.attributes["steps"] = int(values[0])
        d.battery_pct = float(min(100, int(values[2])))
        return True
    return False


def _read_health(d: Draft, kind: str, data: str) -> None:
    upper = kind.upper()
    values = data.split(",")
    try:
        if upper == "BTEMP2":
            if int(values[0]) > 0:
                d.attributes["temperature_c"] = float(values[1])
        elif upper == "TEMP":
            d.attributes["temperature_c"] = float(values[0])
        elif upper == "OXYGEN":
            d.attributes["blood_oxygen"] = int(values[-1])
        else:
            _read_heart(d, upper, values)
    except (ValueError, IndexError) as exc:
        raise DecodeError("malformed", f"{kind} values {data!r}") from exc
    d.attributes["type"] = kind


def _read_heart(d: Draft, upper: str, values: list[str]) -> None:
    # Blood-pressure reports put high and low before the heart rate.
    i = 0
    if upper in ("BPHRT", "BLOOD"):
        d.attributes["pressure_high"] = values[0]
        d.attributes["pressure_low"] = values[1]
        i = 2
    if i < len(values) and values[i]:
        d.attributes["heart_rate"] = int(values[i])


def _position(d: Draft, data: str) -> None:
    m = POSITION.match(data)
    if m is None:
        raise DecodeError("malformed", "position fields do not match DATE,TIME,A/V,LAT,..")
    g = m.groups()
    day, month, year, hour, minute, second = (int(x) for x in g[0:6])
    d.fix_time = utc_from_parts(year, month, day, hour, minute, second)
    d.valid = g[6] == "A"
    lat, lon = float(g[7]), float(g[9])
    # Hemisphere letters are authoritative when present; some firmwares also sign the number.
    d.lat = -abs(lat) if g[8] == "S" else lat
    d.lon = -abs(lon) if g[10] == "W" else lon
    d.speed_mps = round(float(g[11]) * KMH_TO_MPS, 3)
    d.heading = float(g[12])
    d.altitude_m = float(g[13])
    d.satellites = int(g[14])
    d.attributes["rssi"] = int(g[15])
    d.battery_pct = float(min(100, int(g[16])))
    d.attributes["steps"] = int(g[17])
    _read_status(d, g[18])
    if not d.valid:
        # "V": the watch had no GNSS fix; the position is its last or a cell/Wi-Fi guess.
        d.approximate = True
    fields = (g[19] or "").split(",")
    if ascii_digits(fields[0]):
        d.attributes["cells"] = int(fields[0])


def _read_status(d: Draft, hex_status: str) -> None:
    status = int(hex_status, 16)
    d.attributes["status"] = hex_status
    for bit, alarm in STATUS_BITS:
        if status >> bit & 1:
            d.alarm(alarm)
            break  # firmware sets one alarm per report; the first bit wins
    if status >> 4 & 1:
        d.attributes["motion"] = True


def split_frames(buffer: bytearray) -> tuple[list[bytes], int]:
    frames: list[bytes] = []
    junk = 0
    while buffer:
        if buffer[0] != 0x5B:  # '['
            at = buffer.find(b"[")
            dropped = len(buffer) if at < 0 else at
            del buffer[:dropped]
            junk += dropped
            continue
        end = _frame_end(buffer)
        if end is None:
            if len(buffer) > MAX_FRAME:
                del buffer[:1]
                junk += 1
                continue
            break
        frames.append(bytes(buffer[: end + 1]))
        del buffer[: end + 1]
    return frames, junk


def _frame_end(buffer: bytearray) -> int | None:
    """Index of the closing ']' — by the declared length if that lands on ']', else the next."""
    stars = []
    at = 0
    for _ in range(4):
        at = buffer.find(b"*", at + 1)
        if at < 0 or at > 64:
            break
        stars.append(at)
    for i in range(1, len(stars)):
        field = bytes(buffer[stars[i - 1] + 1 : stars[i]])
        if len(field) == 4 and HEX4.fullmatch(field.decode("latin-1")):
            end = stars[i] + 1 + int(field, 16)
            if end < len(buffer) and buffer[end] == 0x5D:
                return end
    # Binary payloads (voice, photos) may contain ']'; a lying length leaves no better choice.
    close = buffer.find(b"]")
    return close if close >= 0 else None
