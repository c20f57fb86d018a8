"""Decoding GT06 position frames: the GPS block, then the cell, status and per-clone extras."""

from __future__ import annotations

from vigil.gateways.binary import Reader
from vigil.gateways.gt06_frame import Frame
from vigil.gateways.gt06_types import (
    HAS_GPS,
    HAS_LBS,
    HAS_STATUS,
    MSG_GPS_LBS_1,
    MSG_GPS_LBS_2,
    MSG_GPS_LBS_3,
    MSG_GPS_LBS_4,
    MSG_GPS_LBS_5,
    MSG_GPS_LBS_STATUS_1,
    MSG_GPS_LBS_STATUS_4,
    MSG_LBS_ALARM,
    MSG_LBS_STATUS,
    MSG_STATUS_2,
    MSG_WIFI,
    MSG_WIFI_3,
    STATUS_ALARMS,
)
from vigil.gateways.model import DecodeError, Draft
from vigil.tracking.model import Alarm


def decode_location(f: Frame) -> bool:
    """Fill the fix from a position frame; return whether there is anything to keep."""
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


def _location_details(f: Frame, lw4g: bool, rfid: bool) -> None:
    r, d, t, variant = f.r, f.draft, f.msg_type, f.variant
    if (t in HAS_LBS or lw4g or rfid) and r.remaining > 0:
        f.lbs(_cell_block_has_length(t, variant, lw4g))
    if t in HAS_STATUS or lw4g:
        _status_block(f, lw4g)
    if t == MSG_STATUS_2:
        _status_modules(r, d)
    if t == MSG_GPS_LBS_1:
        _gps_lbs_1_extras(f)
    if t == MSG_GPS_LBS_2 and variant == "seeworld":
        _seeworld_extras(r, d)
    if t == MSG_GPS_LBS_STATUS_4 and variant == "sl4x":
        d.altitude_m = float(r.i16())
    if t in (MSG_GPS_LBS_2, MSG_GPS_LBS_3, MSG_GPS_LBS_4, MSG_GPS_LBS_5) and r.remaining >= 3:
        _ignition_event_archive(r, d, variant)
    if t == MSG_GPS_LBS_3 and r.remaining >= 3:
        _gps_lbs_3_module(r, d)
    if rfid:
        d.attributes["driver_id"] = r.take(8).hex()
    _trailing_fields(r, d)


def _cell_block_has_length(t: int, variant: str, lw4g: bool) -> bool:
    return (
        t in HAS_STATUS
        and t not in (MSG_LBS_STATUS, MSG_LBS_ALARM)
        and not (t == MSG_GPS_LBS_STATUS_1 and variant == "vxt01")
        and not lw4g
    )


def _status_block(f: Frame, lw4g: bool) -> None:
    r, d, variant = f.r, f.draft, f.variant
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
        return
    if lw4g:
        d.attributes["power_v"] = round(r.u16() * 0.01, 2)
    f.battery_level(r.u8())
    d.attributes["rssi"] = r.u8()
    extension = r.u8()
    if variant != "vxt01":
        d.alarm(STATUS_ALARMS.get(extension))


def _status_modules(r: Reader, d: Draft) -> None:
    r.skip(1)  # language
    while r.remaining > 0:
        module, size = r.u16(), r.u8()
        if module == 0x0018:
            d.attributes["battery_v"] = round(r.u16() / 100.0, 2)
        elif module == 0x006A:
            d.battery_pct = float(r.u8())
        else:
            r.skip(size)


def _gps_lbs_1_extras(f: Frame) -> None:
    r, d, variant = f.r, f.draft, f.variant
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


def _seeworld_extras(r: Reader, d: Draft) -> None:
    d.attributes["ignition"] = r.u8() > 0
    r.skip(2)
    d.attributes["odometer"] = r.u32()
    r.skip(4)
    temperature = r.u16()
    if temperature & 0x8000:
        temperature = -(temperature & 0x7FFF)
    d.attributes["temperature_c"] = round(temperature * 0.01, 2)
    d.attributes["humidity"] = round(r.u16() * 0.01, 2)


def _ignition_event_archive(r: Reader, d: Draft, variant: str) -> None:
    d.attributes["ignition"] = r.u8() > 0
    d.attributes["event"] = r.u8()
    d.attributes["archive"] = r.u8() > 0
    if variant == "sl4x":
        if r.remaining > 2:
            d.attributes["odometer"] = r.u32()
        d.altitude_m = float(r.i16())


def _gps_lbs_3_module(r: Reader, d: Draft) -> None:
    module, size = r.u16(), r.u8()
    if module == 0x0027:
        d.attributes["power_v"] = round(r.u16() * 0.01, 2)
    elif module == 0x003B:
        d.accuracy_m = round(r.u16() * 0.01, 2)
    else:
        r.skip(min(size, r.remaining))


def _trailing_fields(r: Reader, d: Draft) -> None:
    if r.remaining in (3, 7):
        d.attributes["ignition"] = r.u8() > 0
        r.skip(1)
        d.attributes["archive"] = r.u8() > 0
    if r.remaining == 4:
        d.attributes["odometer"] = r.u32()
