"""GT06 (Concox and its many clones) over TCP: ``78 78`` / ``79 79`` frames, CRC-ITU, acks.

Frame: start (2), length (1, or 2 for ``79 79``), type (1), content, serial (2), CRC-16/X-25
over length..serial (2), ``0D 0A``. The device logs in with its IMEI (type 0x01) and expects every
login, position, status and alarm frame acknowledged with an echo of type and serial.
"""

from __future__ import annotations

import re
import struct
from datetime import UTC, datetime

from vigil.gateways.binary import Reader, crc16_x25, is_printable
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

NAME = "gt06"
MAX_FRAME = 2048

MSG_LOGIN = 0x01
MSG_GPS = 0x10
MSG_GPS_LBS_6 = 0x11
MSG_GPS_LBS_1 = 0x12
MSG_STATUS = 0x13
MSG_STRING = 0x15
MSG_GPS_LBS_STATUS_1 = 0x16
MSG_WIFI = 0x17  # also GPS_LBS_RFID on some models
MSG_LBS_EXTEND = 0x18
MSG_LBS_STATUS = 0x19
MSG_GPS_PHONE = 0x1A
MSG_GPS_LBS_EXTEND = 0x1E
MSG_STRING_INFO = 0x21
MSG_GPS_LBS_2 = 0x22
MSG_HEARTBEAT = 0x23
MSG_LBS_MULTIPLE_3 = 0x24
MSG_GPS_LBS_STATUS_2 = 0x26
MSG_GPS_LBS_STATUS_3 = 0x27
MSG_LBS_MULTIPLE_1 = 0x28
MSG_ADDRESS_REQUEST = 0x2A
MSG_LBS_WIFI = 0x2C
MSG_GPS_LBS_4 = 0x2D
MSG_LBS_MULTIPLE_2 = 0x2E
MSG_GPS_LBS_5 = 0x31
MSG_GPS_LBS_STATUS_4 = 0x32
MSG_WIFI_5 = 0x33
MSG_X1_GPS = 0x34  # LBS_3 on SL4X
MSG_X1_PHOTO_INFO = 0x35
MSG_STATUS_2 = 0x36  # X1 photo data when extended
MSG_GPS_LBS_3 = 0x37
MSG_BMS = 0x40
MSG_MULTIMEDIA = 0x41
MSG_WIFI_2 = 0x69
MSG_GPS_MODULAR = 0x70
MSG_COMMANDS = (0x80, 0x81, 0x82)
MSG_TIME_REQUEST = 0x8A
MSG_OBD = 0x8C
MSG_INFO = 0x94
MSG_ALARM = 0x95
MSG_ADDRESS_RESPONSE = 0x97
MSG_SERIAL = 0x9B
MSG_GPS_LBS_7 = 0xA0
MSG_LBS_2 = 0xA1
MSG_WIFI_3 = 0xA2  # GPS_LBS_STATUS_5 on LW 4G models
MSG_FENCE_SINGLE = 0xA3
MSG_FENCE_MULTI = 0xA4
MSG_LBS_ALARM = 0xA5
MSG_LBS_ADDRESS = 0xA7
MSG_WIFI_4 = 0xF3

HAS_GPS = frozenset(
    {
        MSG_GPS,
        MSG_GPS_LBS_1,
        MSG_GPS_LBS_2,
        MSG_GPS_LBS_3,
        MSG_GPS_LBS_4,
        MSG_GPS_LBS_5,
        MSG_GPS_LBS_6,
        MSG_GPS_LBS_STATUS_1,
        MSG_GPS_LBS_STATUS_2,
        MSG_GPS_LBS_STATUS_3,
        MSG_GPS_LBS_STATUS_4,
        MSG_GPS_PHONE,
        MSG_GPS_LBS_EXTEND,
        MSG_GPS_LBS_7,
        MSG_FENCE_SINGLE,
        MSG_FENCE_MULTI,
    }
)
HAS_LBS = frozenset(
    {
        MSG_LBS_STATUS,
        MSG_GPS_LBS_1,
        MSG_GPS_LBS_2,
        MSG_GPS_LBS_3,
        MSG_GPS_LBS_4,
        MSG_GPS_LBS_5,
        MSG_GPS_LBS_6,
        MSG_GPS_LBS_STATUS_1,
        MSG_GPS_LBS_STATUS_2,
        MSG_GPS_LBS_STATUS_3,
        MSG_GPS_LBS_STATUS_4,
        MSG_GPS_LBS_7,
        MSG_FENCE_SINGLE,
        MSG_FENCE_MULTI,
        MSG_LBS_ALARM,
        MSG_LBS_ADDRESS,
    }
)
HAS_STATUS = frozenset(
    {
        MSG_STATUS,
        MSG_STATUS_2,
        MSG_LBS_STATUS,
        MSG_GPS_LBS_STATUS_1,
        MSG_GPS_LBS_STATUS_2,
        MSG_GPS_LBS_STATUS_3,
        MSG_GPS_LBS_STATUS_4,
        MSG_FENCE_MULTI,
        MSG_LBS_ALARM,
    }
)
LBS_ONLY = frozenset(
    {
        MSG_LBS_MULTIPLE_1,
        MSG_LBS_MULTIPLE_2,
        MSG_LBS_MULTIPLE_3,
        MSG_LBS_EXTEND,
        MSG_LBS_WIFI,
        MSG_LBS_2,
        MSG_WIFI_5,
    }
)

# The alarm byte at the end of status blocks.
STATUS_ALARMS: dict[int, Alarm] = {
    0x01: Alarm.SOS,
    0x02: Alarm.POWER_CUT,
    0x03: Alarm.SHOCK,
    0x09: Alarm.SHOCK,
    0x04: Alarm.GEOFENCE_ENTER,
    0x05: Alarm.GEOFENCE_EXIT,
    0x06: Alarm.OVERSPEED,
    0x0E: Alarm.LOW_BATTERY,
    0x0F: Alarm.LOW_BATTERY,
    0x11: Alarm.POWER_OFF,
    0x0C: Alarm.TAMPER,
    0x13: Alarm.TAMPER,
    0x25: Alarm.TAMPER,
    0x18: Alarm.STRAP_REMOVED,
    0x19: Alarm.LOW_BATTERY,
    0x1A: Alarm.BRAKING,
    0x28: Alarm.BRAKING,
    0x1B: Alarm.CORNERING,
    0x2A: Alarm.CORNERING,
    0x2B: Alarm.CORNERING,
    0x2E: Alarm.CORNERING,
    0x23: Alarm.FALL_DOWN,
    0x29: Alarm.ACCELERATION,
    0x2C: Alarm.ACCIDENT,
    0x30: Alarm.JAMMING,
}
# Alarm packets (0x95) carry an event code of their own.
EVENT_ALARMS: dict[int, Alarm] = {
    0x0E: Alarm.LOW_BATTERY,  # low external power
    0x80: Alarm.SHOCK,
    0x87: Alarm.OVERSPEED,
    0x88: Alarm.POWER_CUT,
    0x90: Alarm.ACCELERATION,
    0x91: Alarm.BRAKING,
    0x92: Alarm.CORNERING,
    0x93: Alarm.ACCIDENT,
}
# Bits 3..5 of the terminal-information byte.
TERMINAL_ALARMS: dict[int, Alarm] = {
    1: Alarm.SHOCK,
    2: Alarm.POWER_CUT,
    3: Alarm.LOW_BATTERY,
    4: Alarm.SOS,
    6: Alarm.GEOFENCE_EXIT,
    7: Alarm.STRAP_REMOVED,
}

LOCATION_TEXT = re.compile(
    r"Current position!Lat:([NS])(\d+\.\d+),Lon:([EW])(\d+\.\d+),Course:(\d+\.\d+),"
    r"Speed:(\d+\.\d+),DateTime:(\d{4})-(\d\d)-(\d\d) +(\d\d):(\d\d):(\d\d)"
)


# Clones reuse type numbers with different layouts; the length tells them apart.
_VARIANTS: dict[tuple[int, int], str] = {
    (MSG_GPS_LBS_1, 0x24): "vxt01",
    (MSG_GPS_LBS_STATUS_1, 0x24): "vxt01",
    (MSG_LBS_MULTIPLE_3, 0x31): "wanway_s20",
    (MSG_LBS_MULTIPLE_3, 0x2E): "sr411_mini",
    (MSG_GPS_LBS_1, 0x21): "benway",
    (MSG_GPS_LBS_1, 0x2B): "s5",
    (MSG_STATUS, 0x13): "obd6",
    (MSG_GPS_LBS_1, 0x29): "wetrust",
    (MSG_X1_GPS, 0x37): "sl4x",
    (MSG_GPS_LBS_5, 0x2A): "sl4x",
    (MSG_GPS_LBS_STATUS_4, 0x27): "sl4x",
    (MSG_GPS_LBS_STATUS_4, 0x29): "sl4x",
    (MSG_GPS_LBS_2, 0x2F): "seeworld",
    (MSG_GPS_LBS_STATUS_1, 0x26): "seeworld",
    (MSG_WIFI, 0x28): "rfid",
    (MSG_WIFI_3, 0x40): "lw4g",
}


def _variant(extended: bool, length: int, msg_type: int, frame: bytes) -> str:
    """Clones reuse type numbers with different layouts; the length tells them apart."""
    if extended:
        return "standard"
    found = _VARIANTS.get((msg_type, length))
    if found is not None:
        return found
    if msg_type == MSG_GPS_LBS_1 and length >= 0x71:
        return "gt06e_card"
    if msg_type == MSG_LBS_STATUS and length >= 0x17:
        return "space10x"
    if msg_type == MSG_ALARM and frame[4:6] == b"\xff\xff":
        return "jc400"
    return "standard"


def response(extended: bool, msg_type: int, serial: int, content: bytes = b"") -> bytes:
    if not extended and not content:  # the plain acknowledgement, sent for nearly every frame
        body = bytes((5, msg_type, (serial >> 8) & 0xFF, serial & 0xFF))
        return b"\x78\x78" + body + crc16_x25(body).to_bytes(2, "big") + b"\r\n"
    length = 5 + len(content)
    if extended:
        head = length.to_bytes(2, "big")
        start = b"\x79\x79"
    else:
        head = bytes((length & 0xFF,))
        start = b"\x78\x78"
    body = head + bytes((msg_type,)) + content + serial.to_bytes(2, "big")
    return start + body + crc16_x25(body).to_bytes(2, "big") + b"\r\n"


# Date and time (6), satellites (1), latitude and longitude (4 + 4), speed (1), course (2).
_GPS_BLOCK = struct.Struct(">6BBIIBH")


class _Frame:
    __slots__ = ("draft", "extended", "msg_type", "r", "serial", "session", "variant")

    def __init__(
        self,
        r: Reader,
        draft: Draft,
        session: Session,
        extended: bool,
        msg_type: int,
        serial: int,
        variant: str,
    ) -> None:
        self.r = r
        self.draft = draft
        self.session = session
        self.extended = extended
        self.msg_type = msg_type
        self.serial = serial
        self.variant = variant

    def ack(self) -> bytes:
        return response(False, self.msg_type, self.serial)

    def date(self) -> datetime:
        r = self.r
        parts = (r.u8(), r.u8(), r.u8(), r.u8(), r.u8(), r.u8())
        return utc_from_parts(*parts, offset_s=self.session.utc_offset_s)

    def gps(
        self,
        has_length: bool = False,
        satellites: bool = True,
        speed: bool = True,
        long_speed: bool = False,
    ) -> bool:
        r, d = self.r, self.draft
        if satellites and speed and not (has_length or long_speed):
            # The layout nearly every position frame uses: one unpack for all 18 bytes.
            year, month, day, hour, minute, second, sats, lat_raw, lon_raw, kmh, flags = (
                _GPS_BLOCK.unpack_from(r.data, r.take_at(_GPS_BLOCK.size))
            )
            d.fix_time = utc_from_parts(
                year, month, day, hour, minute, second, self.session.utc_offset_s
            )
            d.satellites = sats & 0x0F
            lat = lat_raw / 60.0 / 30000.0
            lon = lon_raw / 60.0 / 30000.0
            d.speed_mps = round(kmh * KMH_TO_MPS, 3)
        else:
            d.fix_time = self.date()
            if has_length and r.u8() == 0:
                return False
            if satellites:
                d.satellites = r.u8() & 0x0F
            lat = r.u32() / 60.0 / 30000.0
            lon = r.u32() / 60.0 / 30000.0
            if speed:
                d.speed_mps = round((r.u16() if long_speed else r.u8()) * KMH_TO_MPS, 3)
            flags = r.u16()
        d.heading = float(flags & 0x3FF)
        d.valid = bool(flags & (1 << 12))
        if not flags & (1 << 10):
            lat = -lat
        if flags & (1 << 11):
            lon = -lon
        d.lat, d.lon = lat, lon
        if flags & (1 << 14):
            d.attributes["ignition"] = bool(flags & (1 << 15))
        return True

    def lbs(self, has_length: bool) -> None:
        r, t = self.r, self.msg_type
        length = 0
        if has_length:
            length = r.u8()
            if length == 0:
                # Some firmwares zero-fill the whole cell block after a zero length.
                block = r.data[r.pos + 9 : min(r.pos + 45, r.end)]
                if not any(block):
                    r.skip(min(r.remaining, 45))
                return
        mcc = r.u16()
        mnc = r.u16() if mcc & 0x8000 or t == MSG_GPS_LBS_6 or self.variant == "sl4x" else r.u8()
        wide = t in (MSG_LBS_ALARM, MSG_GPS_LBS_7) or (t == MSG_WIFI_3 and self.variant == "lw4g")
        lac = r.u32() if wide else r.u16()
        if wide or self.variant == "sl4x":
            cid = r.u64()
        elif t == MSG_GPS_LBS_6 or self.variant == "seeworld":
            cid = r.u32()
        else:
            cid = r.u24()
        self.draft.attributes["cell"] = {"mcc": mcc & 0x7FFF, "mnc": mnc, "lac": lac, "cid": cid}
        if length > 9:
            r.skip(length - 9)  # the length counts itself and the 8 bytes just read

    def status(self) -> None:
        d = self.draft
        status = self.r.u8()
        d.attributes["status"] = status
        d.attributes["ignition"] = bool(status & 0b10)
        d.charging = bool(status & 0b100)
        d.attributes["blocked"] = bool(status & 0x80)
        code = (status >> 3) & 0b111
        if code == 7 and self.variant == "vxt01":
            d.alarm(Alarm.OVERSPEED)
        else:
            d.alarm(TERMINAL_ALARMS.get(code))

    def battery_level(self, value: int) -> None:
        if value <= 6:
            self.draft.battery_pct = float(value * 100 // 6)
        elif value <= 100:
            self.draft.battery_pct = float(value)


def decode(frame: bytes, session: Session, receive_time: datetime) -> Decoded:
    """Decode one complete frame (as cut by ``split_frames``)."""
    if len(frame) < 5:
        raise DecodeError("truncated", "a GT06 frame is at least 5 bytes")
    start = frame[:2]
    if start == b"\x78\x78":
        extended, length, msg_type, body = False, frame[2], frame[3], 4
    elif start == b"\x79\x79":
        extended = True
        length, msg_type, body = (frame[2] << 8) | frame[3], frame[4], 5
    else:
        raise DecodeError("bad_frame", "a GT06 frame starts with 7878 or 7979")
    if len(frame) < body + 6:
        raise DecodeError("truncated", "no room for serial and CRC")
    # A captured frame may have lost its CR LF; then its CRC cannot be found either.
    terminated = frame[-2:] == b"\r\n"
    tail = len(frame) - (2 if terminated else 0)
    crc_ok = terminated and crc16_x25(memoryview(frame)[2 : tail - 2]) == int.from_bytes(
        frame[tail - 2 : tail], "big"
    )
    serial = int.from_bytes(frame[tail - 4 : tail - 2], "big")
    declared = (2 + 1 + length + 2) if not extended else (2 + 2 + length + 2)
    # Clones that send a wrong length byte: upstream firmware still puts the fields in order,
    # so read up to the terminator rather than stopping at the declared end.
    r = Reader(frame, body, tail - 4 if declared == len(frame) else tail)
    raw = frame.hex()

    if msg_type == MSG_LOGIN and not extended:
        return _login(r, session, length, serial, crc_ok)
    if session.device_id is None:
        raise DecodeError("not_logged_in", f"type 0x{msg_type:02x} before a login frame")
    draft = Draft(NAME, session.device_id, receive_time, raw)
    f = _Frame(
        r, draft, session, extended, msg_type, serial, _variant(extended, length, msg_type, frame)
    )
    produced, reply = _decode_extended(f) if extended else _decode_basic(f, length, receive_time)
    out = Decoded(reply=reply, crc_ok=crc_ok)
    if produced:
        draft.attributes["type"] = msg_type
        out.fixes.append(draft.to_fix(crc_ok))
    return out


def _login(r: Reader, session: Session, length: int, serial: int, crc_ok: bool) -> Decoded:
    imei = r.take(8).hex()[1:]
    if not ascii_digits(imei):
        raise DecodeError("bad_identity", f"login IMEI {imei!r} is not BCD digits")
    if r.remaining >= 2:
        r.skip(2)  # type identification code (absent on older firmware)
    if length - 5 > 10 and r.remaining >= 2:
        bits = r.u16()
        hours, minutes = (bits >> 4) // 100, (bits >> 4) % 100
        offset = (hours * 60 + minutes) * 60
        session.utc_offset_s = -offset if bits & 0x8 else offset
    session.device_id = imei
    return Decoded(reply=response(False, MSG_LOGIN, serial), login=imei, crc_ok=crc_ok)


def _decode_basic(f: _Frame, length: int, now: datetime) -> tuple[bool, bytes]:
    r, d, t = f.r, f.draft, f.msg_type
    variant = f.variant

    if t == MSG_HEARTBEAT:
        status = r.u8()
        d.attributes["armed"] = bool(status & 1)
        d.attributes["ignition"] = bool(status & 2)
        d.charging = bool(status & 4)
        if r.remaining >= 2:
            d.attributes["battery_v"] = round(r.u16() * 0.01, 2)
        if r.remaining >= 1:
            d.attributes["rssi"] = r.u8()
        return True, f.ack()
    if t == MSG_ADDRESS_REQUEST:
        address = b"NA&&NA&&0##"
        content = bytes((len(address),)) + b"\x00\x00\x00\x00" + address
        return False, response(True, MSG_ADDRESS_RESPONSE, 0, content)
    if t == MSG_TIME_REQUEST:
        at = now.astimezone(UTC)
        content = bytes((at.year - 2000, at.month, at.day, at.hour, at.minute, at.second))
        return False, response(False, MSG_TIME_REQUEST, 0, content)
    if t == MSG_X1_GPS and variant != "sl4x":
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
    if t == MSG_X1_PHOTO_INFO:
        return False, b""  # photo transfer: not kept
    if (t == MSG_WIFI and variant != "rfid") or t in (MSG_WIFI_2, MSG_WIFI_4):
        bcd = r.take(6)
        digits = [(b >> 4) * 10 + (b & 0x0F) for b in bcd]
        d.fix_time = utc_from_parts(*digits)
        d.approximate = True
        reply = b"" if t == MSG_WIFI_4 else b"\x78\x78\x00" + bytes((t,)) + bcd + b"\r\n"
        return True, reply
    if t == MSG_INFO:
        d.attributes["power_v"] = round(r.i16() * 0.01, 2)
        return True, b""
    if t == MSG_LBS_MULTIPLE_3 and variant == "sr411_mini":
        f.gps()
        f.lbs(False)
        d.attributes["ignition"] = r.u8() > 0
        d.attributes["power_v"] = round(r.u16() * 0.01, 2)
        d.attributes["battery_v"] = round(r.u16() * 0.01, 2)
        return True, f.ack()
    if t in LBS_ONLY or (t == MSG_WIFI_3 and variant != "lw4g") or (t == MSG_X1_GPS):
        # Cell and Wi-Fi observations only: a time and no coordinates of our own.
        d.fix_time = f.date()
        d.approximate = True
        return True, f.ack()
    if t == MSG_STRING:
        size = r.u8()
        if size > 0:
            r.skip(4)  # server flag
            text = r.take(min(size - 4, r.remaining)).decode("ascii", "replace")
            if text.startswith("<ICCID:"):
                d.attributes["iccid"] = text[7:27]
            else:
                d.attributes["result"] = text
        return True, f.ack()
    if t == MSG_BMS:
        r.skip(8)
        d.fix_time = datetime.fromtimestamp(r.u32(), tz=UTC)
        return True, f.ack()
    if t == MSG_STATUS and r.remaining == 16:
        r.skip(1 + 2 + 1 + 1)  # information content, satellites, alarm, language
        d.battery_pct = float(r.u8())
        return True, f.ack()
    if (
        t in HAS_GPS
        or t in HAS_LBS
        or t in HAS_STATUS
        or (t == MSG_WIFI and variant == "rfid")
        or (t == MSG_WIFI_3 and variant == "lw4g")
    ):
        return _decode_location(f), f.ack()
    if t == MSG_ALARM:
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
    # A type this decoder does not know: keep it as a position-less status (the device is
    # alive, and the raw frame is evidence) and acknowledge it so the device moves on.
    d.attributes["unparsed"] = True
    return True, (b"" if t in MSG_COMMANDS else f.ack())


def _decode_location(f: _Frame) -> bool:
    r, d, t, variant = f.r, f.draft, f.msg_type, f.variant
    lw4g = t == MSG_WIFI_3 and variant == "lw4g"
    rfid = t == MSG_WIFI and variant == "rfid"
    if t == MSG_LBS_STATUS and variant == "space10x":
        return False  # several cells and no position: nothing to keep
    if t in HAS_GPS or lw4g or rfid:
        start = r.pos
        try:
            f.gps()
        except DecodeError:
            # Same type number, another clone's layout: keep the frame as a status only.
            r.pos = start
            d.fix_time = d.lat = d.lon = None
            d.attributes["unparsed"] = True
            return True
    try:
        _location_details(f, lw4g, rfid)
    except DecodeError as exc:
        if exc.reason != "truncated":
            raise
        d.attributes["truncated"] = True  # the position stands; later optional blocks ran short
    return True


def _location_details(f: _Frame, lw4g: bool, rfid: bool) -> None:
    r, d, t, variant = f.r, f.draft, f.msg_type, f.variant
    if (t in HAS_LBS or lw4g or rfid) and r.remaining > 0:
        has_length = (
            t in HAS_STATUS
            and t not in (MSG_LBS_STATUS, MSG_LBS_ALARM)
            and not (t == MSG_GPS_LBS_STATUS_1 and variant == "vxt01")
            and not lw4g
        )
        f.lbs(has_length)
    if t in HAS_STATUS or lw4g:
        if lw4g:
            r.skip(1)  # network indicator
        f.status()
        if variant == "obd6":
            signal = r.u16()
            d.satellites = ((signal >> 10) & 0x1F) + ((signal >> 5) & 0x1F)
            d.alarm(STATUS_ALARMS.get(r.u8()))
            r.skip(1)  # language
            d.battery_pct = float(r.u8())
            r.skip(1)  # working mode
            d.attributes["power_v"] = round(r.u16() / 100.0, 2)
        else:
            if lw4g:
                d.attributes["power_v"] = round(r.u16() * 0.01, 2)
            f.battery_level(r.u8())
            d.attributes["rssi"] = r.u8()
            extension = r.u8()
            if variant != "vxt01":
                d.alarm(STATUS_ALARMS.get(extension))
    if t == MSG_STATUS_2:
        r.skip(1)  # language
        while r.remaining > 0:
            module, size = r.u16(), r.u8()
            if module == 0x0018:
                d.attributes["battery_v"] = round(r.u16() / 100.0, 2)
            elif module == 0x006A:
                d.battery_pct = float(r.u8())
            else:
                r.skip(size)
    if t == MSG_GPS_LBS_1:
        if variant in ("vxt01", "s5"):
            f.status()
            d.attributes["power_v"] = round(r.u16() * 0.01, 2)
            d.attributes["rssi"] = r.u8()
            alarm = r.u8()
            if variant == "s5":
                d.alarm(STATUS_ALARMS.get(alarm))
        elif variant == "wetrust":
            d.attributes["odometer"] = r.u32()
            d.attributes["card"] = r.take(r.u8()).decode("ascii", "replace")
            if r.u8() > 0:
                d.alarm(Alarm.GENERAL)
            d.attributes["card_status"] = r.u8()
            d.attributes["driving_time"] = r.u16()
    if t == MSG_GPS_LBS_2 and variant == "seeworld":
        d.attributes["ignition"] = r.u8() > 0
        r.skip(2)
        d.attributes["odometer"] = r.u32()
        r.skip(4)
        temperature = r.u16()
        if temperature & 0x8000:
            temperature = -(temperature & 0x7FFF)
        d.attributes["temperature_c"] = round(temperature * 0.01, 2)
        d.attributes["humidity"] = round(r.u16() * 0.01, 2)
    if t == MSG_GPS_LBS_STATUS_4 and variant == "sl4x":
        d.altitude_m = float(r.i16())
    if t in (MSG_GPS_LBS_2, MSG_GPS_LBS_3, MSG_GPS_LBS_4, MSG_GPS_LBS_5) and r.remaining >= 3:
        d.attributes["ignition"] = r.u8() > 0
        d.attributes["event"] = r.u8()
        d.attributes["archive"] = r.u8() > 0
        if variant == "sl4x":
            if r.remaining > 2:
                d.attributes["odometer"] = r.u32()
            d.altitude_m = float(r.i16())
    if t == MSG_GPS_LBS_3 and r.remaining >= 3:
        module, size = r.u16(), r.u8()
        if module == 0x0027:
            d.attributes["power_v"] = round(r.u16() * 0.01, 2)
        elif module == 0x003B:
            d.accuracy_m = round(r.u16() * 0.01, 2)
        else:
            r.skip(min(size, r.remaining))
    if rfid:
        d.attributes["driver_id"] = r.take(8).hex()
    if r.remaining in (3, 7):
        d.attributes["ignition"] = r.u8() > 0
        r.skip(1)
        d.attributes["archive"] = r.u8() > 0
    if r.remaining == 4:
        d.attributes["odometer"] = r.u32()


def _decode_extended(f: _Frame) -> tuple[bool, bytes]:
    r, d, t = f.r, f.draft, f.msg_type
    if t == MSG_STRING_INFO:
        r.skip(4)
        encoding = r.u8()
        data = r.take(r.remaining)
        text = (
            data.decode("ascii", "replace")
            if encoding == 1
            else data.decode("utf-16-be", "replace")
        )
        found = LOCATION_TEXT.search(text)
        if found:
            g = found.groups()
            d.lat = float(g[1]) * (-1 if g[0] == "S" else 1)
            d.lon = float(g[3]) * (-1 if g[2] == "W" else 1)
            d.heading = float(g[4])
            d.speed_mps = round(float(g[5]) * 0.514444, 3)
            d.fix_time = utc_from_parts(*(int(x) for x in g[6:12]))
            d.valid = True
        else:
            d.attributes["result"] = text
        return True, b""
    if t == MSG_INFO:
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
        return True, b""
    if t == MSG_STATUS_2:  # X1 photo data: not kept
        return False, b""
    if t in (MSG_GPS_LBS_STATUS_4, MSG_WIFI_5):  # AZ735 position and alarm
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
        return True, response(True, t, f.serial)
    if t == MSG_OBD:
        d.fix_time = f.date()
        d.attributes["ignition"] = r.u8() > 0
        return True, b""
    if t == MSG_GPS_MODULAR:
        return _modular(f), response(False, MSG_GPS_MODULAR, f.serial)
    if t == MSG_MULTIMEDIA:
        return False, response(True, t, f.serial)  # photos and video: not kept
    if t == MSG_SERIAL:
        r.skip(1)
        data = r.take(r.remaining)
        d.attributes["result"] = data.decode("ascii").strip() if is_printable(data) else data.hex()
        return True, b""
    d.attributes["unparsed"] = True
    return True, b""


def _modular(f: _Frame) -> bool:
    r, d = f.r, f.draft
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
            event = r.u8()
            d.attributes["event"] = event
            d.alarm(
                {0x11: Alarm.LOW_BATTERY, 0x12: Alarm.LOW_BATTERY, 0x13: Alarm.POWER_CUT}.get(
                    event, Alarm.STRAP_REMOVED if event == 0x14 else None
                )
            )
        elif module == 0x33:
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
        if r.pos > end:
            raise DecodeError("bad_frame", f"module 0x{module:02x} overran its length")
        r.pos = min(end, r.end)
    return True


def split_frames(buffer: bytearray) -> tuple[list[bytes], int]:
    """Cut complete frames off the front of a TCP stream buffer.

    Returns the frames and the number of junk bytes dropped while looking for a start marker.
    An incomplete frame stays in the buffer for the next read.
    """
    frames: list[bytes] = []
    junk = 0
    while len(buffer) >= 5:
        if buffer[0] == buffer[1] and buffer[0] in (0x78, 0x79):
            if buffer[0] == 0x78:
                size = 2 + 1 + buffer[2] + 2
            else:
                size = 2 + 2 + ((buffer[2] << 8) | buffer[3]) + 2
            if size > MAX_FRAME:
                del buffer[:1]
                junk += 1
                continue
            if len(buffer) >= size:
                if buffer[size - 2 : size] == b"\r\n":
                    frames.append(bytes(buffer[:size]))
                    del buffer[:size]
                    continue
                # Some clones send a wrong length byte: fall back to the first CR LF, unless
                # another frame starts before it (then this was junk that looked like a start).
                end = buffer.find(b"\r\n", 4)
                nxt = _next_start(buffer, 2)
                if end < 0 or (0 <= nxt < end):
                    drop = nxt if nxt > 0 else 1
                    del buffer[:drop]
                    junk += drop
                    continue
                frames.append(bytes(buffer[: end + 2]))
                del buffer[: end + 2]
                continue
            break
        nxt = _next_start(buffer, 1)
        if nxt < 0:
            dropped = len(buffer) - 1
            del buffer[:dropped]
            junk += dropped
            break
        del buffer[:nxt]
        junk += nxt
    return frames, junk


def _next_start(buffer: bytearray, at: int) -> int:
    a = buffer.find(b"\x78\x78", at)
    b = buffer.find(b"\x79\x79", at)
    found = [x for x in (a, b) if x >= 0]
    return min(found) if found else -1
