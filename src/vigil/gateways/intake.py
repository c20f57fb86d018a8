"""The last step of every gateway: validate decoded fixes, count, log, publish to the bus."""

from __future__ import annotations

from collections import defaultdict

from vigil.bus.model import Bus, Topic
from vigil.gateways import validate
from vigil.gateways.metrics import GatewayMetrics
from vigil.logs import get_logger
from vigil.tracking.model import Fix

log = get_logger(__name__)


class Intake:
    def __init__(self, bus: Bus, metrics: GatewayMetrics) -> None:
        self.bus = bus
        self.metrics = metrics

    def screen(self, protocol: str, fixes: list[Fix]) -> list[Fix]:
        """Drop (and count, and log) fixes no engine should see; keep the rest in order."""
        good: list[Fix] = []
        for fix in fixes:
            reason = validate.problem(fix)
            if reason is None:
                good.append(fix)
                continue
            self.metrics.rejected(protocol, reason)
            log.warning(
                "gateway.fix_rejected",
                protocol=protocol,
                device=fix.device_id,
                reason=reason,
                fix_time=fix.fix_time.isoformat(),
                raw=fix.raw[:512],
            )
        return good

    async def publish(self, protocol: str, fixes: list[Fix]) -> list[Fix]:
        good = self.screen(protocol, fixes)
        await self.hand_on(protocol, good)
        return good

    async def hand_on(self, protocol: str, good: list[Fix]) -> None:
        """Publish fixes ``screen`` already passed: one bus message list per device."""
        if not good:
            return
        first = good[0].device_id
        if all(fix.device_id == first for fix in good):  # one connection is one device
            await self.bus.publish(Topic.FIXES, good, key=first)
            self.metrics.accepted(protocol, len(good))
            return
        by_device: dict[str, list[Fix]] = defaultdict(list)
        for fix in good:
            by_device[fix.device_id].append(fix)
        for device_id, batch in by_device.items():
            await self.bus.publish(Topic.FIXES, batch, key=device_id)
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
