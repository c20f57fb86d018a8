"""GT06 message type numbers, the alarm codes they carry, and the clone variants that reuse them."""

from __future__ import annotations

import re

from vigil.tracking.model import Alarm

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


def variant_of(extended: bool, length: int, msg_type: int, frame: bytes) -> str:
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
