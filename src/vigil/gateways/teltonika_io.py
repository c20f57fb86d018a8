"""What a Teltonika IO element means: each IO id the tags send, read onto the fix.

GH3000 (Codec 7) and the Codec 8 family number their elements differently, so each has its own
table. An id neither table knows is kept as a plain ``io<id>`` attribute, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable

from vigil.gateways.model import Draft, accuracy_from_hdop
from vigil.tracking.model import Alarm


def _signed(value: int, size: int) -> int:
    bits = size * 8
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


# An IO element's handler: (draft, IO id, value, size in bytes). An id with no handler is kept
# as a plain ``io<id>`` attribute; tables rather than a chain of ifs, since this runs for every IO
# element of every record.
IoHandler = Callable[[Draft, int, int, int], None]


def _keep(d: Draft, io_id: int, value: int, size: int) -> None:
    d.attributes[f"io{io_id}"] = value


def _scaled(name: str, factor: float, digits: int) -> IoHandler:
    def read(d: Draft, io_id: int, value: int, size: int) -> None:
        d.attributes[name] = round(value * factor, digits)

    return read


def _switch(name: str) -> IoHandler:
    def read(d: Draft, io_id: int, value: int, size: int) -> None:
        d.attributes[name] = value == 1

    return read


def _alarm_when_set(alarm: Alarm) -> IoHandler:
    def read(d: Draft, io_id: int, value: int, size: int) -> None:
        if value == 1:
            d.alarm(alarm)
        else:
            _keep(d, io_id, value, size)

    return read


def _battery_pct(d: Draft, io_id: int, value: int, size: int) -> None:
    d.battery_pct = float(value)


def _hdop(d: Draft, io_id: int, value: int, size: int) -> None:
    d.attributes["hdop"] = round(value * 0.1, 1)
    d.accuracy_m = accuracy_from_hdop(d.attributes["hdop"])


def _rssi(d: Draft, io_id: int, value: int, size: int) -> None:
    d.attributes["rssi"] = value


def _driver_id(d: Draft, io_id: int, value: int, size: int) -> None:
    if value:  # zero: no iButton present
        d.attributes["driver_id"] = f"{value:016X}"


def _temperature(d: Draft, io_id: int, value: int, size: int) -> None:
    # Sensors 1-3 are IO 72-74, in tenths of a degree, signed.
    d.attributes[f"temp{io_id - 71}_c"] = round(_signed(value, size) * 0.1, 1)


MANOEUVRES = {1: Alarm.ACCELERATION, 2: Alarm.BRAKING, 3: Alarm.CORNERING}


def _manoeuvre(d: Draft, io_id: int, value: int, size: int) -> None:
    d.alarm(MANOEUVRES.get(value))


GH3000_IO: dict[int, IoHandler] = {
    1: _battery_pct,
    20: _hdop,
    67: _scaled("battery_v", 0.001, 3),
    222: _alarm_when_set(Alarm.SOS),
}
AVL_IO: dict[int, IoHandler] = {
    66: _scaled("power_v", 0.001, 3),
    67: _scaled("battery_v", 0.001, 3),
    113: _battery_pct,
    181: _scaled("pdop", 0.1, 1),
    182: _hdop,
    239: _switch("ignition"),
    240: _switch("motion"),
    21: _rssi,
    78: _driver_id,
    72: _temperature,
    73: _temperature,
    74: _temperature,
    236: _alarm_when_set(Alarm.GENERAL),
    252: _alarm_when_set(Alarm.POWER_CUT),  # unplugged
    247: _alarm_when_set(Alarm.ACCIDENT),  # crash detected
    253: _manoeuvre,
    318: _alarm_when_set(Alarm.JAMMING),
}


def read_io(table: dict[int, IoHandler], d: Draft, io_id: int, value: int, size: int) -> None:
    table.get(io_id, _keep)(d, io_id, value, size)
