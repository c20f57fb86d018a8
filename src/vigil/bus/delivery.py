"""How every bus hands a batch to its handler, so both buses keep one contract.

A failing batch is never dropped, and one bad message never costs the others:

- An outage (the database or network is down) fails every message alike. The batch is retried,
  with growing pauses, for as long as it takes; nothing is dead-lettered during an outage.
- Any other failure is the message's own fault (a value the store cannot take, a handler bug for
  that input). The batch is halved until the failing messages stand alone, so the rest are
  handled in order; a message that still fails alone after a few tries goes to the dead-letter
  store with its bytes and the error, for an operator to see and replay.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from vigil.bus.model import DeadLetterSink, Handler, Topic
from vigil.logs import get_logger

log = get_logger(__name__)


def is_network_outage(exc: BaseException) -> bool:
    """The default outage test; the wiring adds the database's own (see ``db.engine``)."""
    return isinstance(exc, (ConnectionError, TimeoutError))


@dataclass(frozen=True)
class DeliveryPolicy:
    tries_alone: int = 3  # a message failing alone this often is dead-lettered
    first_pause_s: float = 0.05
    longest_pause_s: float = 5.0
    is_outage: Callable[[BaseException], bool] = is_network_outage


class Stopping(Exception):
    """The bus is closing mid-retry: leave the batch unacknowledged for redelivery."""


@dataclass
class Delivery:
    """One topic's handler with the policy, the dead-letter sink and a way to see a message's
    bytes (the wire payload on NATS, the encoded message in process)."""

    topic: Topic
    handler: Handler
    dead_letters: DeadLetterSink
    payload_of: Callable[[Any], bytes]
    policy: DeliveryPolicy = DeliveryPolicy()
    stopping: Callable[[], bool] = lambda: False
    keep_alive: Callable[[], Any] | None = None  # e.g. NATS in-progress acks while retrying

    async def deliver(self, messages: Sequence[Any]) -> None:
        """Return once every message is handled or dead-lettered; raise ``Stopping`` if the bus
        closes first."""
        if messages:
            await self._deliver(list(messages))

    async def _deliver(self, messages: list[Any]) -> None:
        pause = self.policy.first_pause_s
        tries = 0
        while True:
            if self.stopping():
                raise Stopping
            try:
                await self.handler(messages)
                return
            except Exception as exc:
                error = exc
            if self.policy.is_outage(error):
                log.warning(
                    "bus.outage_retry",
                    topic=self.topic.value,
                    batch=len(messages),
                    error=f"{type(error).__name__}: {error}",
                    pause_s=pause,
                )
            else:
                tries += 1
                if len(messages) > 1:
                    # Halve rather than go one by one: a poisoned message in 10,000 costs about
                    # 2 * log2(10,000) extra calls, and order within each half is kept.
                    middle = len(messages) // 2
                    await self._deliver(messages[:middle])
                    await self._deliver(messages[middle:])
                    return
                if tries >= self.policy.tries_alone:
                    await self._dead_letter(messages[0], error)
                    return
            if self.keep_alive is not None:
                await self.keep_alive()
            await asyncio.sleep(pause)
            pause = min(pause * 2, self.policy.longest_pause_s)

    async def _dead_letter(self, message: Any, error: Exception) -> None:
        reason = f"{type(error).__name__}: {error}"
        log.error("bus.dead_lettered", topic=self.topic.value, error=reason)
        payload = self.payload_of(message)
        # Storing the dead letter is itself waited out through an outage: it must not be lost.
        pause = self.policy.first_pause_s
        while True:
            try:
                await self.dead_letters.put(self.topic, payload, reason)
                return
            except Exception as exc:
                if self.stopping():
                    raise Stopping from exc
                log.warning("bus.dead_letter_store_failed", error=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.policy.longest_pause_s)
