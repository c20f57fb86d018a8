"""Counters for the gateways: accepted fixes, rejections by reason, CRC mismatches, connections."""

from __future__ import annotations

from collections import Counter
from threading import Lock

from typing_extensions import TypedDict  # pydantic reads it as the API answer's schema


class GatewayCount(TypedDict):
    """One counter: how often a protocol's door saw an event (accepted, rejected, ...), and why."""

    protocol: str
    event: str
    reason: str
    count: int


class GatewayMetrics:
    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._lock = Lock()

    def count(self, protocol: str, event: str, reason: str = "", n: int = 1) -> None:
        with self._lock:
            self._counts[(protocol, event, reason)] += n

    def accepted(self, protocol: str, n: int = 1) -> None:
        self.count(protocol, "accepted", "", n)

    def rejected(self, protocol: str, reason: str, n: int = 1) -> None:
        self.count(protocol, "rejected", reason, n)

    def get(self, protocol: str, event: str, reason: str = "") -> int:
        return self._counts[(protocol, event, reason)]

    def rejections(self, protocol: str | None = None) -> dict[str, int]:
        return {
            reason: n
            for (p, event, reason), n in self._counts.items()
            if event == "rejected" and (protocol is None or p == protocol)
        }

    def snapshot(self) -> list[GatewayCount]:
        with self._lock:
            items = sorted(self._counts.items())
        return [GatewayCount(protocol=p, event=e, reason=r, count=n) for (p, e, r), n in items]
