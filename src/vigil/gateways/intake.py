"""The last step of every gateway: validate decoded fixes, refuse unknown devices, count, log,
keep refusals in quarantine and publish the rest to the bus."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from vigil.bus.model import Bus, Topic
from vigil.gateways import validate
from vigil.gateways.directory import DeviceCheck
from vigil.gateways.metrics import GatewayMetrics
from vigil.gateways.quarantine import Quarantine, Refused
from vigil.logs import get_logger
from vigil.tracking.model import Fix

log = get_logger(__name__)


@dataclass(frozen=True)
class PresentedKey:
    """The device key a report came with (None: it came with none)."""

    key: str | None


@dataclass(frozen=True)
class Screened:
    """What one read or request produced: fixes to publish and refusals to keep."""

    good: list[Fix] = field(default_factory=list)
    held: list[Refused] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.good or self.held)


class Intake:
    def __init__(
        self,
        bus: Bus,
        metrics: GatewayMetrics,
        devices: DeviceCheck,
        quarantine: Quarantine,
    ) -> None:
        self.bus = bus
        self.metrics = metrics
        self.devices = devices
        self.quarantine = quarantine

    def screen(
        self, protocol: str, fixes: list[Fix], presented: PresentedKey | None = None
    ) -> Screened:
        """Split fixes into those an engine may see (in order) and refusals to quarantine;
        malformed fixes are only counted and logged, since they name no device to look for.
        ``presented`` is the key a door that carries per-device keys was given (None where the
        channel cannot carry one or is authenticated otherwise)."""
        good: list[Fix] = []
        refused: list[Refused] = []
        devices = self.devices
        for fix in fixes:
            reason = validate.problem(fix)
            if reason is None:
                reason = devices.refusal(fix.device_id, fix.fix_time)
                if reason is None and presented is not None:
                    reason = devices.key_refusal(fix.device_id, presented.key)
                if reason is None:
                    good.append(fix)
                    continue
                refused.append(
                    Refused(
                        fix.receive_time, protocol, fix.device_id, reason, fix.fix_time, fix.raw
                    )
                )
            self.metrics.rejected(protocol, reason)
            log.warning(
                "gateway.fix_rejected",
                protocol=protocol,
                device=fix.device_id,
                reason=reason,
                fix_time=fix.fix_time.isoformat(),
                raw=fix.raw[:512],
            )
        return Screened(good, self.quarantine.admit(refused) if refused else [])

    def refuse_login(self, protocol: str, refused: Refused, peer: str) -> Screened:
        """A login from a device that is not registered: counted, logged, kept."""
        self.metrics.rejected(protocol, refused.reason)
        log.warning(
            "gateway.login_refused",
            protocol=protocol,
            device=refused.device_id,
            reason=refused.reason,
            peer=peer,
        )
        return Screened([], self.quarantine.admit([refused]))

    async def publish(self, protocol: str, fixes: list[Fix]) -> Screened:
        screened = self.screen(protocol, fixes)
        await self.hand_on(protocol, screened)
        return screened

    async def hand_on(self, protocol: str, screened: Screened) -> None:
        """Store refusals, then publish the fixes ``screen`` passed, keyed by the person they
        concern, so all of a person's devices (his tag, his victim's phone) reach the same engine
        in order. Both are durable before the caller answers anyone."""
        await self.quarantine.keep(screened.held)
        good = screened.good
        if not good:
            return
        by_person: dict[str, list[Fix]] = defaultdict(list)
        for fix in good:
            person = self.devices.person_at(fix.device_id, fix.fix_time)
            by_person[fix.device_id if person is None else str(person)].append(fix)
        for key, batch in by_person.items():
            await self.bus.publish(Topic.FIXES, batch, key=key)
        self.metrics.accepted(protocol, len(good))

    def rejected(self, protocol: str, reason: str, detail: str, peer: str = "") -> None:
        self.metrics.rejected(protocol, reason)
        log.warning(
            "gateway.message_rejected",
            protocol=protocol,
            reason=reason,
            detail=detail[:300],
            peer=peer,
        )
