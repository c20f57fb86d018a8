"""Decoding the content of extended (``79 79``) GT06 frames, one step per kind of message."""

from __future__ import annotations

from datetime import UTC, datetime

from vigil.gateways.binary import Reader, is_printable
from vigil.gateways.gt06_frame import Frame, response
from vigil.gateways.gt06_types import (
    LOCATION_TEXT,
    MSG_GPS_LBS_STATUS_4,
    MSG_GPS_MODULAR,
    MSG_INFO,
    MSG_MULTIMEDIA,
    MSG_OBD,
    MSG_SERIAL,
    MSG_STATUS_2,
    MSG_STRING_INFO,
    MSG_WIFI_5,
)
from vigil.gateways.model import KMH_TO_MPS, DecodeError, Draft, utc_from_parts
from vigil.tracking.model import Alarm


def decode_extended(f: Frame) -> tuple[bool, bytes]:
    """Fill the frame's fix; return whether it produced one, and the reply to send."""
    r, d, t = f.r, f.draft, f.msg_type
    if t == MSG_STRING_INFO:
        _string_info(r, d)
        return True, b""
    if t == MSG_INFO:
        _info(f)
        return True, b""
    if t == MSG_STATUS_2:  # X1 photo data: not kept
        return False, b""
    if t in (MSG_GPS_LBS_STATUS_4, MSG_WIFI_5):  # AZ735 position and alarm
        _az735(f)
        return True, response(True, t, f.serial)
    if t == MSG_OBD:
        d.fix_time = f.date()
        d.attributes["ignition"] = r.u8() > 0
        return True, b""
    if t == MSG_GPS_MODULAR:
        return _modular(r, d), response(False, MSG_GPS_MODULAR, f.serial)
    if t == MSG_MULTIMEDIA:
        return False, response(True, t, f.serial)  # photos and video: not kept
    if t == MSG_SERIAL:
        r.skip(1)
        data = r.take(r.remaining)
        d.attributes["result"] = data.decode("ascii").strip() if is_printable(data) else data.hex()
        return True, b""
    d.attributes["unparsed"] = True
    return True, b""


def _string_info(r: Reader, d: Draft) -> None:
    r.skip(4)
    encoding = r.u8()
    data = r.take(r.remaining)
    text = data.decode("ascii", "replace") if encoding == 1 else data.decode("utf-16-be", "replace")
    found = LOCATION_TEXT.search(text)
    if not found:
        d.attributes["result"] = text
        return
    g = found.groups()
    d.lat = float(g[1]) * (-1 if g[0] == "S" else 1)
    d.lon = float(g[3]) * (-1 if g[2] == "W" else 1)
    d.heading = float(g[4])
    d.speed_mps = round(float(g[5]) * 0.514444, 3)
    d.fix_time = utc_from_parts(*(int(x) for x in g[6:12]))
    d.valid = True


def _info(f: Frame) -> None:
    r, d = f.r, f.draft
    sub = r.u8()
    d.attributes["info_type"] = sub
    if sub == 0x00 and r.remaining >= 2:
        d.attributes["adc1"] = round(r.u16() * 0.01, 2)
    elif sub == 0x04:
        for pair in r.take(r.remaining).decode("ascii", "replace").split(";"):
            key, _, value = pair.partition("=")
            if key and value:
                d.attributes[f"info_{key.lower()}"] = value
    elif sub == 0x05:
        if r.remaining >= 7:
            f.date()
            d.fix_time = None
        flags = r.u8()
        d.attributes["door"] = bool(flags & 1)
    elif sub == 0x0A:
        r.skip(16)
        d.attributes["iccid"] = r.take(10).hex().replace("f", "")
    elif sub == 0x0B:
        d.attributes["network"] = "4G" if r.u8() > 0 else "2G"
    elif sub == 0x1B:
        data = r.take(r.remaining)
        if data[:1].isalpha():
            d.attributes["serial"] = data.decode("ascii", "replace").strip()
        elif len(data) >= 6:
            d.attributes["driver_id"] = data[2:6].hex()


def _az735(f: Frame) -> None:
    r, d, t = f.r, f.draft, f.msg_type
    if not f.gps(has_length=True):
        d.lat = d.lon = None
    if r.u8():
        r.pos -= 1
        f.lbs(True)
        d.attributes["rssi"] = r.u8()
    r.skip(r.u8())  # additional cells
    r.skip(r.u8())  # wifi
    status = r.u8()
    d.attributes["status"] = status
    if t == MSG_WIFI_5 and status in (0xA2, 0xA3):
        d.alarm(Alarm.LOW_BATTERY)
    elif t == MSG_WIFI_5 and status == 0xA4:
        d.alarm(Alarm.GENERAL)


def _modular(r: Reader, d: Draft) -> bool:
    while r.remaining > 0:
        module, size = r.u16(), r.u16()
        end = r.pos + size
        if module == 0x09:
            d.satellites = r.u8()
        elif module == 0x18:
            d.attributes["battery_v"] = round(r.u16() * 0.01, 2)
        elif module == 0x28:
            d.attributes["hdop"] = round(r.u8() * 0.1, 1)
        elif module == 0x2A:
            value = r.u8()
            d.attributes["door"] = (value & 0x0F) > 0
            if value >> 4:
                d.alarm(Alarm.TAMPER)
        elif module == 0x2B:
            _modular_event(r, d)
        elif module == 0x33:
            _modular_position(r, d)
        if r.pos > end:
            raise DecodeError("bad_frame", f"module 0x{module:02x} overran its length")
        r.pos = min(end, r.end)
    return True


def _modular_event(r: Reader, d: Draft) -> None:
    event = r.u8()
    d.attributes["event"] = event
    d.alarm(
        {0x11: Alarm.LOW_BATTERY, 0x12: Alarm.LOW_BATTERY, 0x13: Alarm.POWER_CUT}.get(
            event, Alarm.STRAP_REMOVED if event == 0x14 else None
        )
    )


def _modular_position(r: Reader, d: Draft) -> None:
    d.fix_time = datetime.fromtimestamp(r.u32(), tz=UTC)
    d.satellites = r.u8()
    d.altitude_m = float(r.i16())
    lat = r.u32() / 60.0 / 30000.0
    lon = r.u32() / 60.0 / 30000.0
    d.speed_mps = round(r.u8() * KMH_TO_MPS, 3)
    flags = r.u16()
    d.heading = float(flags & 0x3FF)
    d.valid = bool(flags & (1 << 12))
    d.lat = lat if flags & (1 << 10) else -lat
    d.lon = -lon if flags & (1 << 11) else lon
