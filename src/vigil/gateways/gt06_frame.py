"""Reading a GT06 frame's shared blocks (date, GPS, cell, status, battery) and building replies."""

from __future__ import annotations

import struct
from datetime import datetime

from vigil.gateways.binary import Reader, crc16_x25
from vigil.gateways.gt06_types import (
    MSG_GPS_LBS_6,
    MSG_GPS_LBS_7,
    MSG_LBS_ALARM,
    MSG_WIFI_3,
    TERMINAL_ALARMS,
)
from vigil.gateways.model import KMH_TO_MPS, Draft, Session, utc_from_parts
from vigil.tracking.model import Alarm


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


class Frame:
    """One frame being read: its reader, the fix it fills, and what tells clones apart."""

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
        if satellites and speed and not (has_length or long_speed):
            lat, lon, flags = self._gps_block()
        else:
            fields = self._gps_fields(has_length, satellites, speed, long_speed)
            if fields is None:
                return False
            lat, lon, flags = fields
        d = self.draft
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

    def _gps_block(self) -> tuple[float, float, int]:
        """The layout nearly every position frame uses: one unpack for all 18 bytes."""
        r, d = self.r, self.draft
        year, month, day, hour, minute, second, sats, lat_raw, lon_raw, kmh, flags = (
            _GPS_BLOCK.unpack_from(r.data, r.take_at(_GPS_BLOCK.size))
        )
        d.fix_time = utc_from_parts(
            year, month, day, hour, minute, second, self.session.utc_offset_s
        )
        d.satellites = sats & 0x0F
        d.speed_mps = round(kmh * KMH_TO_MPS, 3)
        return lat_raw / 60.0 / 30000.0, lon_raw / 60.0 / 30000.0, flags

    def _gps_fields(
        self, has_length: bool, satellites: bool, speed: bool, long_speed: bool
    ) -> tuple[float, float, int] | None:
        """The variants' layouts, field by field; None when a length byte says no GPS."""
        r, d = self.r, self.draft
        d.fix_time = self.date()
        if has_length and r.u8() == 0:
            return None
        if satellites:
            d.satellites = r.u8() & 0x0F
        lat = r.u32() / 60.0 / 30000.0
        lon = r.u32() / 60.0 / 30000.0
        if speed:
            d.speed_mps = round((r.u16() if long_speed else r.u8()) * KMH_TO_MPS, 3)
        return lat, lon, r.u16()

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
