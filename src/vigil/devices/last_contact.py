"""When each device was last heard from, with its battery and signal: read from the latest
message the trail store holds for it (a position or a heartbeat), for all listed devices at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from vigil.db.uow import UnitOfWork
from vigil.devices.model import HolderKind
from vigil.devices.service import DeviceView
from vigil.tracking.latest_fixes import LatestFix, WornDevice, latest_fixes

# The top of each protocol's signal scale as its devices report it: GT06 trackers 0-4 bars,
# Teltonika's GSM signal 0-5, the watches a percentage. Other protocols report none.
SIGNAL_SCALES = {"gt06": 4, "teltonika": 5, "watch": 100}
SIGNAL_WORDS = ((0.75, "strong"), (0.5, "good"), (0.25, "weak"), (0.0, "very weak"))


@dataclass(frozen=True)
class DeviceContact:
    last_contact: datetime
    """When Vigil received the device's latest message."""
    fix_time: datetime
    battery_pct: float | None
    charging: bool | None
    signal: str
    """The mobile signal in words with the device's own reading ("good (3 of 4)"), or ""."""
    satellites: int | None


def signal_text(protocol: str, rssi: int | None) -> str:
    scale = SIGNAL_SCALES.get(protocol)
    if rssi is None or scale is None:
        return ""
    ratio = min(max(rssi / scale, 0.0), 1.0)
    word = "none" if ratio == 0 else next(w for floor, w in SIGNAL_WORDS if ratio > floor)
    reading = f"{rssi}%" if scale == 100 else f"{rssi} of {scale}"
    return f"{word} ({reading})"


def _contact(latest: LatestFix) -> DeviceContact:
    return DeviceContact(
        last_contact=latest.receive_time,
        fix_time=latest.fix_time,
        battery_pct=latest.battery_pct,
        charging=latest.charging,
        signal=signal_text(latest.protocol, latest.rssi),
        satellites=latest.satellites,
    )


def last_contacts(uow: UnitOfWork, views: Sequence[DeviceView]) -> dict[str, DeviceContact]:
    """Each listed device's latest message, by external id (the caller has scoped the list)."""
    worn = [
        WornDevice(view.external_id, view.current.holder_id, view.current.fitted_at)
        for view in views
        if view.current and view.current.holder_kind is HolderKind.PERSON
    ]
    worn_ids = {device.device_id for device in worn}
    unworn = [view.external_id for view in views if view.external_id not in worn_ids]
    found = latest_fixes(uow.connection, worn, unworn)
    return {device_id: _contact(latest) for device_id, latest in found.items()}
