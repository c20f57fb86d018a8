"""What every decoder shares: the per-connection session, the decode result, the error, units.

No framework imports: decoders are pure functions of (bytes or text, session, receive time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from vigil.tracking.model import Alarm, Fix

KNOTS_TO_MPS = 0.514444
KMH_TO_MPS = 1 / 3.6
# Typical user-equivalent range error of a consumer GNSS receiver: accuracy ≈ HDOP × 5 m.
HDOP_TO_METRES = 5.0


class DecodeError(ValueError):
    """A message that cannot be decoded. ``reason`` is a short stable code used for counting."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class Session:
    """What one connection has learned so far (the device identity after a login)."""

    protocol: str
    device_id: str | None = None
    # GT06 devices may announce their clock's offset from UTC at login.
    utc_offset_s: int = 0
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class Decoded:
    """The outcome of one frame: fixes (possibly position-less status), a reply, a login."""

    fixes: list[Fix] = field(default_factory=list)
    reply: bytes = b""
    login: str | None = None
    # The protocol says to drop the connection (e.g. a rejected Teltonika login).
    close: bool = False
    crc_ok: bool = True


def accuracy_from_hdop(hdop: float | None) -> float | None:
    if hdop is None or not math.isfinite(hdop) or hdop <= 0:
        return None
    return round(hdop * HDOP_TO_METRES, 1)


def utc_from_parts(
    year: int, month: int, day: int, hour: int, minute: int, second: int, offset_s: int = 0
) -> datetime:
    """A UTC datetime from device clock parts; a bad date is a DecodeError, not a crash."""
    if year < 100:
        year += 2000
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise DecodeError("bad_time", str(exc)) from exc
    return local - timedelta(seconds=offset_s) if offset_s else local


def from_epoch(seconds: float) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise DecodeError("bad_time", f"timestamp {seconds} is out of range") from exc


def alarms(*names: Alarm | None) -> frozenset[Alarm]:
    return frozenset(a for a in names if a is not None)


NO_ALARMS: frozenset[Alarm] = frozenset()


@dataclass(slots=True)
class Draft:
    """A fix being filled in by a decoder; ``to_fix`` freezes it."""

    protocol: str
    device_id: str
    receive_time: datetime
    raw: str
    fix_time: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    valid: bool = True
    accuracy_m: float | None = None
    approximate: bool = False
    speed_mps: float | None = None
    heading: float | None = None
    altitude_m: float | None = None
    satellites: int | None = None
    battery_pct: float | None = None
    charging: bool | None = None
    alarms: set[Alarm] = field(default_factory=set)
    attributes: dict[str, Any] = field(default_factory=dict)

    def alarm(self, alarm: Alarm | None) -> None:
        if alarm is not None:
            self.alarms.add(alarm)

    def to_fix(self, crc_ok: bool = True) -> Fix:
        # A draft makes one fix: its attribute dict is handed over rather than copied (this
        # runs once per fix on the gateways' hot path).
        attributes = self.attributes if crc_ok else {**self.attributes, "crc_ok": False}
        lat, lon = self.lat, self.lon
        has_position = lat is not None and lon is not None
        return Fix(
            device_id=self.device_id,
            fix_time=self.fix_time or self.receive_time,
            receive_time=self.receive_time,
            lat=lat if has_position else None,
            lon=lon if has_position else None,
            protocol=self.protocol,
            accuracy_m=self.accuracy_m,
            approximate=self.approximate,
            valid=self.valid if has_position else False,
            speed_mps=self.speed_mps,
            heading=self.heading,
            altitude_m=self.altitude_m,
            satellites=self.satellites,
            battery_pct=self.battery_pct,
            charging=self.charging,
            alarms=frozenset(self.alarms) if self.alarms else NO_ALARMS,
            raw=self.raw,
            attributes=attributes,
        )
