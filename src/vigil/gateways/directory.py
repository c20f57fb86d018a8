"""Which devices may send fixes, and when.

A fix is taken only from a device that is registered and fitted to someone at the fix's time;
anything else could be a forged or mis-registered tag, and a position from it must never become
evidence. The doors check every fix, so they check a snapshot of the device register held in
memory (a lookup, not a database round trip per fix), refreshed in the background: a tag
registered a moment ago is refused until the next refresh, and its frames wait in quarantine or
are sent again by the device, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from vigil.db.uow import UnitOfWork
from vigil.devices.keys import key_hash, key_hashes
from vigil.devices.service import allocation_spans
from vigil.logs import get_logger

log = get_logger(__name__)

UNKNOWN_DEVICE = "unknown_device"
NOT_ALLOCATED = "not_allocated"
# A report through a door that carries per-device keys, without the device's current key.
BAD_DEVICE_KEY = "bad_device_key"

# (fitted at, removed at or None while still fitted, the monitored person it concerns)
Span = tuple[datetime, datetime | None, int | None]


class DeviceCheck(Protocol):
    def refusal(self, device_id: str, at: datetime) -> str | None:
        """Why a fix from ``device_id`` at ``at`` must be refused, or None to take it."""

    def knows(self, device_id: str) -> bool:
        """Whether the device is registered at all (a login says no more than that)."""

    def key_refusal(self, device_id: str, key: str | None) -> str | None:
        """Why ``key`` does not prove a report comes from ``device_id``, or None if it does."""

    def person_at(self, device_id: str, at: datetime) -> int | None:
        """The monitored person a fix from the device at ``at`` concerns."""


@dataclass(frozen=True)
class KnownDevices:
    """One snapshot of the register: every device's external id and the spans it was fitted."""

    spans: Mapping[str, Sequence[Span]] = field(default_factory=dict)
    key_hashes: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, uow: UnitOfWork) -> KnownDevices:
        return cls(allocation_spans(uow), key_hashes(uow))

    def refusal(self, device_id: str, at: datetime) -> str | None:
        spans = self.spans.get(device_id)
        if spans is None:
            return UNKNOWN_DEVICE
        return None if self._span(spans, at) is not None else NOT_ALLOCATED

    @staticmethod
    def _span(spans: Sequence[Span], at: datetime) -> Span | None:
        for span in spans:
            fitted_at, removed_at, _person = span
            if fitted_at <= at and (removed_at is None or at < removed_at):
                return span
        return None

    def person_at(self, device_id: str, at: datetime) -> int | None:
        span = self._span(self.spans.get(device_id, ()), at)
        return None if span is None else span[2]

    def knows(self, device_id: str) -> bool:
        return device_id in self.spans

    def key_refusal(self, device_id: str, key: str | None) -> str | None:
        expected = self.key_hashes.get(device_id)
        if expected is None or key is None:
            return BAD_DEVICE_KEY
        return None if hmac.compare_digest(expected, key_hash(key)) else BAD_DEVICE_KEY


class DeviceDirectory:
    """The snapshot a long-running door checks against, kept fresh by ``run``."""

    def __init__(self, unit_of_work: Callable[[], UnitOfWork], refresh_s: float) -> None:
        self._unit_of_work = unit_of_work
        self.refresh_s = refresh_s
        self.current = KnownDevices()

    def refusal(self, device_id: str, at: datetime) -> str | None:
        return self.current.refusal(device_id, at)

    def knows(self, device_id: str) -> bool:
        return self.current.knows(device_id)

    def key_refusal(self, device_id: str, key: str | None) -> str | None:
        return self.current.key_refusal(device_id, key)

    def person_at(self, device_id: str, at: datetime) -> int | None:
        return self.current.person_at(device_id, at)

    def _load(self) -> KnownDevices:
        with self._unit_of_work() as uow:
            return KnownDevices.load(uow)

    async def refresh(self) -> None:
        self.current = await asyncio.to_thread(self._load)

    async def run(self) -> None:
        """Refresh until cancelled; a failed refresh keeps the last snapshot (a database outage
        must not turn every fitted tag away) and is tried again next time."""
        while True:
            await asyncio.sleep(self.refresh_s)
            try:
                await self.refresh()
            except Exception as exc:
                log.warning("gateway.directory_refresh_failed", error=str(exc))
