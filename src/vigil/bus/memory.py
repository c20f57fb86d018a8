"""The in-process bus: subscribers get batches on the event loop, with bounded queues."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from vigil.bus.codec import payload_of
from vigil.bus.delivery import Delivery, DeliveryPolicy
from vigil.bus.model import DeadLetterSink, Handler, OnAssign, PartitionReport, Topic
from vigil.logs import get_logger

log = get_logger(__name__)

# How long close() waits for queued messages before giving up on them (an outage at shutdown).
CLOSE_WAIT_S = 10.0


class HeldDeadLetters:
    """Dead letters kept in memory, for a bus with no store wired (tests, benchmarks)."""

    def __init__(self) -> None:
        self.held: list[tuple[Topic, bytes, str]] = []

    async def put(self, topic: Topic, payload: bytes, error: str) -> None:
        self.held.append((topic, payload, error))


class _Receipt:
    """One publish's messages on one queue: done when the subscriber has handled them all (or
    stored the ones it could not handle as dead letters)."""

    __slots__ = ("future", "waiting")

    def __init__(self, count: int) -> None:
        self.waiting = count
        self.future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def handled(self) -> None:
        self.waiting -= 1
        if self.waiting == 0 and not self.future.done():
            self.future.set_result(None)

    def lost(self) -> None:
        if not self.future.done():
            self.future.set_exception(ConnectionError("the in-process bus stopped first"))


class InMemoryBus:
    """Each subscriber drains its own queue in micro-batches, so a slow one blocks nobody else.

    ``publish`` waits when a subscriber's queue is full (backpressure), rather than dropping: a
    dropped fix could be a missed violation. With ``confirm`` (the default) it also returns only
    once every subscriber has handled the messages, so a gateway that answers a device after the
    publish answers after the fix is stored, as it does with NATS once the stream has it; nothing
    lives only in this process's memory when a device has been told it may forget it.
    """

    def __init__(
        self,
        max_queue: int = 100_000,
        max_batch: int = 10_000,
        *,
        dead_letters: DeadLetterSink | None = None,
        policy: DeliveryPolicy | None = None,
        confirm: bool = True,
    ) -> None:
        self.dead_letters = dead_letters or HeldDeadLetters()
        self.policy = policy or DeliveryPolicy()
        self._handlers: dict[Topic, list[Handler]] = defaultdict(list)
        self._queues: dict[tuple[Topic, int], asyncio.Queue[Any]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._max_queue = max_queue
        self._max_batch = max_batch
        self._confirm = confirm

    def subscribe(
        self,
        topic: Topic,
        handler: Handler,
        *,
        fan_out: bool = False,
        on_assign: OnAssign | None = None,
    ) -> None:
        # One process: every handler sees every message, so sharing and fan-out are the same,
        # and no partition is ever assigned (``partitions_held`` is None).
        self._handlers[topic].append(handler)

    async def publish(self, topic: Topic, messages: list[Any], key: str | None = None) -> None:
        if not messages:
            return
        receipts: list[_Receipt] = []
        for index, _handler in enumerate(self._handlers[topic]):
            queue = self._queue(topic, index)
            receipt = _Receipt(len(messages)) if self._confirm else None
            if receipt is not None:
                receipts.append(receipt)
            for message in messages:
                # Only a full queue suspends the publisher; otherwise no await per fix.
                if queue.full():
                    await queue.put((message, receipt))
                else:
                    queue.put_nowait((message, receipt))
        if receipts:
            await asyncio.gather(*(receipt.future for receipt in receipts))

    def _queue(self, topic: Topic, index: int) -> asyncio.Queue[Any]:
        slot = (topic, index)
        if slot not in self._queues:
            queue: asyncio.Queue[Any] = asyncio.Queue(self._max_queue)
            self._queues[slot] = queue
            delivery = Delivery(
                topic=topic,
                handler=self._handlers[topic][index],
                dead_letters=self.dead_letters,
                payload_of=payload_of,
                policy=self.policy,
            )
            self._tasks.append(asyncio.create_task(self._drain(queue, delivery)))
        return self._queues[slot]

    async def _drain(self, queue: asyncio.Queue[Any], delivery: Delivery) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < self._max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            handled = False
            try:
                await delivery.deliver([message for message, _receipt in batch])
                handled = True
            finally:
                for _message, receipt in batch:
                    if receipt is not None:
                        receipt.handled() if handled else receipt.lost()
                    queue.task_done()

    async def start(self) -> None:
        """Nothing to connect: queues start on first publish."""

    def is_connected(self) -> bool:
        return True

    def partitions_held(self, handler: Handler) -> set[int] | None:
        return None  # one process sees everything

    def partition_report(self) -> PartitionReport:
        return PartitionReport()

    async def drain(self) -> None:
        """Wait until every published message has been handled (tests, shutdown)."""
        for queue in list(self._queues.values()):
            await queue.join()

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.drain(), CLOSE_WAIT_S)
        except TimeoutError:
            waiting = sum(queue.qsize() for queue in self._queues.values())
            log.error("bus.closed_with_messages_waiting", waiting=waiting)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for queue in self._queues.values():  # publishers still waiting are told, not left hanging
            while not queue.empty():
                _message, receipt = queue.get_nowait()
                if receipt is not None:
                    receipt.lost()
        self._tasks.clear()
        self._queues.clear()
