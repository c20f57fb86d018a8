"""Devices: kinds, and the rule that one holder at a time has a device. No framework imports."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class DeviceType(StrEnum):
    GPS_TAG = "gps_tag"
    RF_TAG = "rf_tag"
    HOME_UNIT = "home_unit"
    ALCOHOL_TAG = "alcohol_tag"
    PROTECTED_PERSON_PHONE = "protected_person_phone"
    PROTECTED_PERSON_WATCH = "protected_person_watch"


# Devices carried by a protected person (for proximity), not worn by the person monitored.
PROTECTED_PERSON_DEVICES = frozenset(
    {DeviceType.PROTECTED_PERSON_PHONE, DeviceType.PROTECTED_PERSON_WATCH}
)


class HolderKind(StrEnum):
    PERSON = "person"
    PROTECTED_PERSON = "protected_person"


class DeviceStatus(StrEnum):
    IN_STOCK = "in_stock"
    ALLOCATED = "allocated"
    FAULTY = "faulty"
    RETIRED = "retired"


# IMEIs, serials and app install ids: letters, digits and a few separators.
# OwnTracks names a device "user/device", hence the slash.
EXTERNAL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{2,63}$")


def holder_kind_for(device_type: DeviceType) -> HolderKind:
    if device_type in PROTECTED_PERSON_DEVICES:
        return HolderKind.PROTECTED_PERSON
    return HolderKind.PERSON


def luhn_ok(digits: str) -> bool:
    """The IMEI check digit (Luhn)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def imei_with_check_digit(first_14: str) -> str:
    for check in "0123456789":
        if luhn_ok(first_14 + check):
            return first_14 + check
    raise AssertionError("unreachable: one check digit always fits")


@dataclass(frozen=True)
class Span:
    """A fitted-to-removed interval; ``removed_at`` None means still fitted."""

    fitted_at: datetime
    removed_at: datetime | None

    def overlaps(self, other: Span) -> bool:
        self_end = self.removed_at or datetime.max.replace(tzinfo=self.fitted_at.tzinfo)
        other_end = other.removed_at or datetime.max.replace(tzinfo=other.fitted_at.tzinfo)
        return self.fitted_at < other_end and other.fitted_at < self_end

    def covers(self, at: datetime) -> bool:
        return self.fitted_at <= at and (self.removed_at is None or at < self.removed_at)
