"""Decoding the content of basic (``78 78``) GT06 frames, one step per kind of message."""

from __future__ import annotations

from datetime import UTC, datetime

from vigil.gateways.gt06_frame import Frame, response
from vigil.gateways.gt06_location import decode_location
from vigil.gateways.gt06_types import (
    EVENT_ALARMS,
    HAS_GPS,
    HAS_LBS,
    HAS_STATUS,
    LBS_ONLY,
    MSG_ADDRESS_REQUEST,
    MSG_ADDRESS_RESPONSE,
    MSG_ALARM,
    MSG_BMS,
    MSG_COMMANDS,
    MSG_HEARTBEAT,
    MSG_INFO,
    MSG_LBS_MULTIPLE_3,
    MSG_STATUS,
    MSG_STRING,
    MSG_TIME_REQUEST,
    MSG_WIFI,
    MSG_WIFI_2,
    MSG_WIFI_3,
    MSG_WIFI_4,
    MSG_X1_GPS,
    MSG_X1_PHOTO_INFO,
)
from vigil.gateways.model import utc_from_parts
from vigil.tracking.model import Alarm


def decode_basic(f: Frame, length: int, now: datetime) -> tuple[bool, bytes]:
    """Fill the frame's fix; return whether it produced one, and the reply to send."""
    t, variant = f.msg_type, f.variant
    if t == MSG_HEARTBEAT:
        return _heartbeat(f)
    if t == MSG_ADDRESS_REQUEST:
        return False, _address_reply()
    if t == MSG_TIME_REQUEST:
        return False, _time_reply(now)
    if t == MSG_X1_GPS and variant != "sl4x":
        return _x1_position(f)
    if t == MSG_X1_PHOTO_INFO:
        return False, b""  # photo transfer: not kept
    if (t == MSG_WIFI and variant != "rfid") or t in (MSG_WIFI_2, MSG_WIFI_4):
        return _wifi(f)
    if t == MSG_INFO:
        f.draft.attributes["power_v"] = round(f.r.i16() * 0.01, 2)
        return True, b""
    if t == MSG_LBS_MULTIPLE_3 and variant == "sr411_mini":
        return _sr411_mini(f)
    if t in LBS_ONLY or (t == MSG_WIFI_3 and variant != "lw4g") or (t == MSG_X1_GPS):
        return _cells_only(f)
    if t == MSG_STRING:
        return _string(f)
    if t == MSG_BMS:
        return _bms(f)
    if t == MSG_STATUS and f.r.remaining == 16:
        return _short_status(f)
    if _carries_location(t, variant):
        return decode_location(f), f.ack()
    if t == MSG_ALARM:
        return _alarm(f, length)
    # A type this decoder does not know: keep it as a position-less status (the device is
    # alive, and the raw frame is evidence) and acknowledge it so the device moves on.
    f.draft.attributes["unparsed"] = True
    return True, (b"" if t in MSG_COMMANDS else f.ack())


def _carries_location(t: int, variant: str) -> bool:
    return (
        t in HAS_GPS
        or t in HAS_LBS
        or t in HAS_STATUS
        or (t == MSG_WIFI and variant == "rfid")
        or (t == MSG_WIFI_3 and variant == "lw4g")
    )


def _heartbeat(f: Frame) -> tuple[bool, bytes]:
    r, d = f.r, f.draft
    status = r.u8()
    d.attributes["armed"] = bool(status & 1)
    d.attributes["ignition"] = bool(status & 2)
    d.charging = bool(status & 4)
    if r.remaining >= 2:
        d.attributes["battery_v"] = round(r.u16() * 0.01, 2)
    if r.remaining >= 1:
        d.attributes["rssi"] = r.u8()
    return True, f.ack()


def _address_reply() -> bytes:
    address = b"NA&&NA&&0##"
    content = bytes((len(address),)) + b"\x00\x00\x00\x00" + address
    return response(True, MSG_ADDRESS_RESPONSE, 0, content)


def _time_reply(now: datetime) -> bytes:
    at = now.astimezone(UTC)
    content = bytes((at.year - 2000, at.month, at.day, at.hour, at.minute, at.second))
    return response(False, MSG_TIME_REQUEST, 0, content)


def _x1_position(f: Frame) -> tuple[bool, bytes]:
    r, d = f.r, f.draft
    r.skip(4)  # data and alarm
    f.gps()
    r.skip(2)  # terminal info
    d.attributes["odometer"] = r.u32()
    r.skip(2 + 1 + 2 + 4)  # cell
    driver = r.u32()
    if driver:
        d.attributes["driver_id"] = str(driver)
    d.attributes["battery_v"] = round(r.u16() * 0.01, 2)
    d.attributes["power_v"] = round(r.u16() * 0.01, 2)
    return True, b""


def _wifi(f: Frame) -> tuple[bool, bytes]:
    r, d, t = f.r, f.draft, f.msg_type
    bcd = r.take(6)
    digits = [(b >> 4) * 10 + (b & 0x0F) for b in bcd]
    d.fix_time = utc_from_parts(*digits)
    d.approximate = True
    reply = b"" if t == MSG_WIFI_4 else b"\x78\x78\x00" + bytes((t,)) + bcd + b"\r\n"
    return True, reply


def _sr411_mini(f: Frame) -> tuple[bool, bytes]:
    r, d = f.r, f.draft
    f.gps()
    f.lbs(False)
    d.attributes["ignition"] = r.u8() > 0
    d.attributes["power_v"] = round(r.u16() * 0.01, 2)
    d.attributes["battery_v"] = round(r.u16() * 0.01, 2)
    return True, f.ack()


def _cells_only(f: Frame) -> tuple[bool, bytes]:
    # Cell and Wi-Fi observations only: a time and no coordinates of our own.
    f.draft.fix_time = f.date()
    f.draft.approximate = True
    return True, f.ack()


def _string(f: Frame) -> tuple[bool, bytes]:
    r, d = f.r, f.draft
    size = r.u8()
    if size > 0:
        r.skip(4)  # server flag
        text = r.take(min(size - 4, r.remaining)).decode("ascii", "replace")
        if text.startswith("<ICCID:"):
            d.attributes["iccid"] = text[7:27]
        else:
            d.attributes["result"] = text
    return True, f.ack()


def _bms(f: Frame) -> tuple[bool, bytes]:
    f.r.skip(8)
    f.draft.fix_time = datetime.fromtimestamp(f.r.u32(), tz=UTC)
    return True, f.ack()


def _short_status(f: Frame) -> tuple[bool, bytes]:
    f.r.skip(1 + 2 + 1 + 1)  # information content, satellites, alarm, language
    f.draft.battery_pct = float(f.r.u8())
    return True, f.ack()


def _alarm(f: Frame, length: int) -> tuple[bool, bytes]:
    r, d, variant = f.r, f.draft, f.variant
    extended_alarm = length - 5 > 7
    if extended_alarm:
        jc400 = variant == "jc400"
        if jc400:
            r.skip(3)  # marker and version
        f.gps(satellites=jc400, speed=jc400, long_speed=jc400)
    else:
        d.fix_time = f.date()
    if variant == "jc400":
        d.attributes["power_v"] = round(r.u16() * 0.1, 1)
    event = r.u8()
    d.attributes["event"] = event
    if event == 0x01:
        d.alarm(Alarm.SOS if extended_alarm else Alarm.GENERAL)
    else:
        d.alarm(EVENT_ALARMS.get(event))
    return True, f.ack()
