"""The bus interface and its topics. Parts publish and subscribe; they never call each other."""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Topic(StrEnum):
    # Normalised fixes (tracking.model.Fix) from gateways and imports, keyed by device id.
    FIXES = "fixes"
    # Engine events (engine.events.EngineEvent): violations started/updated/ended, warnings,
    # device events.
    ENGINE_EVENTS = "engine.events"
    # Alert changes for live pages (alerts part).
    ALERTS = "alerts"


Handler = Callable[[list[Any]], Awaitable[None]]
# Told the partitions a shared handler is about to consume, before the first message of any
# partition it gains (and after it stopped consuming those it lost).
OnAssign = Callable[[set[int]], Awaitable[None]]


def partition_of(key: str | None, partitions: int) -> int:
    """Where a key's messages go. crc32 rather than hash(): the same key must land on the same
    partition in every process."""
    return 0 if key is None else zlib.crc32(key.encode("utf-8", "surrogatepass")) % partitions


@dataclass(frozen=True)
class LeaseView:
    """One handler group's partitions as this process last saw them: what it holds, and which
    no process has held for longer than a takeover takes (nobody consumes their messages)."""

    group: str
    held: frozenset[int]
    unconsumed: frozenset[int]
    changes: int


@dataclass(frozen=True)
class PartitionReport:
    """Who consumes what, for readiness and metrics: each leased group as seen from here, and
    the messages waiting (not yet acknowledged) on each partition this process consumes."""

    leases: list[LeaseView] = field(default_factory=list)
    waiting: dict[tuple[str, int], int] = field(default_factory=dict)


class DeadLetterSink(Protocol):
    async def put(self, topic: Topic, payload: bytes, error: str) -> None:
        """Keep a message no handler could take, with its bytes and why, durably."""


class Bus(Protocol):
    async def publish(self, topic: Topic, messages: list[Any], key: str | None = None) -> None:
        """Deliver messages to every subscriber of the topic, in order per key."""

    def subscribe(
        self,
        topic: Topic,
        handler: Handler,
        *,
        fan_out: bool = False,
        on_assign: OnAssign | None = None,
    ) -> None:
        """Register a handler that receives batches of messages. Across processes, handlers of
        the same code share the messages (each message to one process); with ``fan_out`` every
        process's handler receives every message (live pages). ``on_assign`` is awaited with the
        partitions the handler will consume whenever they change, before any message of a newly
        taken partition reaches it (an engine loads the wearers of a dead process's partitions
        before their fixes); a bus whose handlers see every message never calls it."""

    async def start(self) -> None:
        """Begin delivering to the handlers subscribed so far."""

    def is_connected(self) -> bool:
        """Whether publishing can succeed now (readiness)."""

    def partitions_held(self, handler: Handler) -> set[int] | None:
        """The partitions a shared handler consumes now; None when it sees every message."""

    def partition_report(self) -> PartitionReport:
        """Leases and waiting messages as last seen (empty when one process sees everything)."""

    async def close(self) -> None:
        """Stop delivering; what was handled is acknowledged, the rest is redelivered or drained."""
