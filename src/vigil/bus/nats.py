"""NATS JetStream bus for scale-out: same interface as the in-process bus, durable, partitioned.

Messages go to ``vigil.<topic>.<partition>``, the partition chosen by the key (the device id for
fixes), so one device's fixes stay in order on one partition. A worker subscribes with the set of
partitions it owns; each partition has a durable pull consumer, and a batch is acknowledged only
after its handler returns, so a crashed worker's batch is redelivered (at least once).

A consumer is named after the handler's code (module and qualified name), never after the order
of subscription, so a restarted process resumes where it stopped instead of replaying. Fan-out
subscribers (live pages) get an ephemeral consumer of every partition per process, so every web
process sees every change. Each message is published with an id derived from what it is (a fix:
device, fix time and raw frame), so a publish the client sends again after an outage, or a device
resends after an unanswered report, is dropped by the stream within its duplicate window.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import socket
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import FetchTimeoutError

from vigil.bus.codec import CodecError, decode, encode, payload_of
from vigil.bus.delivery import Delivery, DeliveryPolicy, Stopping
from vigil.bus.leases import PartitionLeases
from vigil.bus.memory import HeldDeadLetters
from vigil.bus.model import (
    DeadLetterSink,
    Handler,
    OnAssign,
    PartitionReport,
    Topic,
    partition_of,
)
from vigil.logs import get_logger

log = get_logger(__name__)

# How long the stream remembers message ids to drop resends: longer than an outage the client
# rides out with publishes buffered, and than a device keeps resending an unanswered report.
DUPLICATE_WINDOW_S = 15 * 60.0
# How often the per-partition backlog is asked of the server, for /metrics.
WAITING_EVERY_S = 5.0


def message_id(topic: Topic, message: object, payload: bytes) -> str:
    """What the message is, not when it was sent: a fix decoded again from a resent frame has a
    new receive time but the same device, fix time and raw frame."""
    identity = getattr(message, "identity", None)
    text = identity.encode("utf-8", "surrogatepass") if isinstance(identity, str) else None
    digest = hashlib.sha256(payload if text is None else text)
    return f"{topic.value}:{digest.hexdigest()[:32]}"


def _code_name(handler: Handler) -> str:
    function = getattr(handler, "__func__", handler)
    qualified = f"{getattr(function, '__module__', '')}.{getattr(function, '__qualname__', '')}"
    return re.sub(r"[^A-Za-z0-9_-]+", "_", qualified.replace("<locals>.", "")).strip("_")


def _member_id() -> str:
    """This process, as lease keys allow: host, process id and a random tail (pids are reused)."""
    raw = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    return re.sub(r"[^A-Za-z0-9_-]+", "_", raw)


def _said(event: str, url: str) -> Callable[[], Awaitable[None]]:
    async def callback() -> None:
        log.warning(event, url=url)

    return callback


def _error_logged(url: str) -> Callable[[Exception], Awaitable[None]]:
    async def callback(exc: Exception) -> None:
        log.warning("bus.nats_error", url=url, error=f"{type(exc).__name__}: {exc}")

    return callback


class NatsBus:
    def __init__(
        self,
        url: str = "nats://127.0.0.1:4222",
        *,
        stream: str = "VIGIL",
        subject_prefix: str = "vigil",
        partitions: int = 16,
        owned_partitions: set[int] | None = None,
        consumer_name: str = "vigil",
        fetch_batch: int = 1000,
        ack_wait_s: float = 15,
        dead_letters: DeadLetterSink | None = None,
        policy: DeliveryPolicy | None = None,
        leased: bool = False,
        lease_ttl_s: float = 10.0,
    ) -> None:
        self.dead_letters = dead_letters or HeldDeadLetters()
        self.policy = policy or DeliveryPolicy()
        self.url = url
        self.stream = stream
        self.prefix = subject_prefix
        self.partitions = partitions
        self.owned = set(range(partitions)) if owned_partitions is None else owned_partitions
        self.consumer_name = consumer_name
        self.fetch_batch = fetch_batch
        self.ack_wait_s = ack_wait_s
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._handlers: list[tuple[Topic, Handler, bool]] = []
        self._on_assign: dict[int, OnAssign] = {}
        self._tasks: list[asyncio.Task[None]] = []
        # Shared handlers' consumers by (handler index, partition): a stop signal and the task.
        self._consumers: dict[tuple[int, int], tuple[asyncio.Event, asyncio.Task[None]]] = {}
        # Without a static set, shared handlers lease their share of the partitions.
        self.leased = leased and owned_partitions is None
        self.lease_ttl_s = lease_ttl_s
        self.member = _member_id()
        self._lease_tasks: list[asyncio.Task[None]] = []
        self._leases: list[PartitionLeases] = []
        # Messages not yet acknowledged per (consumer group, partition) consumed here, as last
        # asked of the server (every WAITING_EVERY_S).
        self._waiting: dict[tuple[str, int], int] = {}
        self._stopping = asyncio.Event()
        self._started = False

    async def connect(self) -> None:
        self._nc = await nats.connect(
            self.url,
            # An outage is waited out for as long as it lasts, loudly: never given up on.
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            disconnected_cb=_said("bus.nats_disconnected", self.url),
            reconnected_cb=_said("bus.nats_reconnected", self.url),
            error_cb=_error_logged(self.url),
        )
        self._js = self._nc.jetstream()
        await self._js.add_stream(
            StreamConfig(
                name=self.stream,
                subjects=[f"{self.prefix}.>"],
                max_age=7 * 24 * 3600,
                duplicate_window=DUPLICATE_WINDOW_S,
            )
        )

    def is_connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError("NatsBus.connect() has not been awaited")
        return self._js

    def subject(self, topic: Topic, partition: int) -> str:
        return f"{self.prefix}.{topic.value}.{partition}"

    async def publish(self, topic: Topic, messages: list[Any], key: str | None = None) -> None:
        subject = self.subject(topic, partition_of(key, self.partitions))
        # Publish concurrently and wait for every acknowledgement: a fix is not "handed over"
        # until the stream has stored it.
        acks = []
        for message in messages:
            payload = encode(message)
            headers = {"Nats-Msg-Id": message_id(topic, message, payload)}
            acks.append(self.js.publish(subject, payload, headers=headers))
        await asyncio.gather(*acks)

    def subscribe(
        self,
        topic: Topic,
        handler: Handler,
        *,
        fan_out: bool = False,
        on_assign: OnAssign | None = None,
    ) -> None:
        self._handlers.append((topic, handler, fan_out))
        if on_assign is not None:
            self._on_assign[len(self._handlers) - 1] = on_assign
        if self._started:
            # Services subscribe from their own tasks, possibly after the bus has started.
            index = len(self._handlers) - 1
            self._tasks.append(asyncio.create_task(self._start_handler(index)))

    async def start(self) -> None:
        if self._js is None:
            await self.connect()
        self._started = True
        for index in range(len(self._handlers)):
            await self._start_handler(index)
        self._tasks.append(asyncio.create_task(self._count_waiting()))

    async def _count_waiting(self) -> None:
        """Keep the per-partition backlog fresh for /metrics (a scrape cannot wait on NATS)."""
        while not self._stopping.is_set():
            waiting: dict[tuple[str, int], int] = {}
            for index, partition in list(self._consumers):
                group = self._consumer_name(index)
                count = await self._waiting_on(f"{group}-{partition}")
                if count is not None:
                    waiting[(group, partition)] = count
            self._waiting = waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=WAITING_EVERY_S)

    async def _waiting_on(self, durable: str) -> int | None:
        try:
            info = await self.js.consumer_info(self.stream, durable)
        except Exception:  # NATS away, or the consumer just moved: asked again next round
            return None
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    def partition_report(self) -> PartitionReport:
        return PartitionReport([lease.view() for lease in self._leases], dict(self._waiting))

    def _consumer_name(self, index: int) -> str:
        topic, handler, _fan_out = self._handlers[index]
        code = _code_name(handler)
        # The same code subscribed twice in one process: told apart by which one it is.
        twin = sum(1 for t, h, _ in self._handlers[:index] if t == topic and _code_name(h) == code)
        suffix = f"-{twin}" if twin else ""
        return f"{self.consumer_name}-{topic.value.replace('.', '_')}-{code}{suffix}"

    async def _start_handler(self, index: int) -> None:
        topic, _handler, fan_out = self._handlers[index]
        if fan_out:
            # Fan-out listens to every partition, whoever holds it: ephemeral consumers from now
            # on, since a live page wants what happens next, not history.
            for partition in range(self.partitions):
                config = self._config()
                config.deliver_policy = DeliverPolicy.NEW
                config.inactive_threshold = 60.0
                subscription = await self.js.pull_subscribe(
                    self.subject(topic, partition), stream=self.stream, config=config
                )
                self._tasks.append(self._consumer_task(index, subscription, asyncio.Event()))
        elif self.leased:
            leases = PartitionLeases(
                self.js,
                bucket=f"{self.stream}_leases",
                group=self._consumer_name(index),
                member=self.member,
                partitions=self.partitions,
                ttl_s=self.lease_ttl_s,
                renew_s=self.lease_ttl_s / 3,
            )

            async def hold(partitions: set[int], index: int = index) -> None:
                await self._hold(index, partitions)

            self._leases.append(leases)
            self._lease_tasks.append(asyncio.create_task(leases.run(hold, self._stopping)))
        else:
            await self._hold(index, set(self.owned))

    def _config(self) -> ConsumerConfig:
        return ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=self.ack_wait_s)

    def _consumer_task(
        self, index: int, subscription: Any, stop: asyncio.Event
    ) -> asyncio.Task[None]:
        topic, handler, _fan_out = self._handlers[index]
        return asyncio.create_task(self._consume(topic, subscription, handler, stop))

    async def _hold(self, index: int, partitions: set[int]) -> None:
        """Consume exactly ``partitions`` for a shared handler: stop the others first (their
        unfinished batch is handed back at once), then start the new ones where the durable
        consumer left off."""
        topic, _handler, _fan_out = self._handlers[index]
        current = {p for (i, p) in self._consumers if i == index}
        for partition in sorted(current - partitions):
            stop, task = self._consumers.pop((index, partition))
            stop.set()
            await asyncio.gather(task, return_exceptions=True)
        on_assign = self._on_assign.get(index)
        if on_assign is not None and partitions != current:
            # Before the first message of a partition taken over: the handler's owner loads what
            # it needs for it (an engine, the wearers and their state the last holder saved).
            await on_assign(set(partitions))
        name = self._consumer_name(index)
        for partition in sorted(partitions - current):
            subscription = await self.js.pull_subscribe(
                self.subject(topic, partition),
                durable=f"{name}-{partition}",
                stream=self.stream,
                config=self._config(),
            )
            stop = asyncio.Event()
            self._consumers[(index, partition)] = (
                stop,
                self._consumer_task(index, subscription, stop),
            )

    def partitions_held(self, handler: Handler) -> set[int] | None:
        for index, (_topic, subscribed, fan_out) in enumerate(self._handlers):
            if subscribed == handler and not fan_out:
                return {p for (i, p) in self._consumers if i == index}
        return None

    async def _consume(
        self, topic: Topic, subscription: Any, handler: Handler, stop: asyncio.Event
    ) -> None:
        def stopping() -> bool:
            return self._stopping.is_set() or stop.is_set()

        while not stopping():
            try:
                received = await subscription.fetch(self.fetch_batch, timeout=0.5)
            except (FetchTimeoutError, TimeoutError):
                continue

            async def keep_batch(received: list[Any] = received) -> None:
                for item in received:
                    await item.in_progress()  # keep the batch ours while we retry

            delivery = Delivery(
                topic=topic,
                handler=handler,
                dead_letters=self.dead_letters,
                payload_of=payload_of,
                policy=self.policy,
                stopping=stopping,
                keep_alive=keep_batch,
            )
            try:
                await delivery.deliver(await self._decoded(topic, received))
            except Stopping:
                # Handed back at once, so whoever takes the partition over starts on it now.
                for item in received:
                    await item.nak()
                return
            for item in received:
                await item.ack()

    async def _decoded(self, topic: Topic, received: list[Any]) -> list[Any]:
        messages = []
        for item in received:
            try:
                messages.append(decode(item.data))
            except CodecError as exc:
                # Bytes no one can read are kept as they came, not retried forever.
                await self.dead_letters.put(topic, item.data, str(exc))
        return messages

    async def close(self) -> None:
        self._stopping.set()
        # Leases first: each lets its partitions go once their consumers have stopped.
        await asyncio.gather(*self._lease_tasks, return_exceptions=True)
        tasks = [*self._tasks, *(task for _stop, task in self._consumers.values())]
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._consumers.clear()
        self._lease_tasks.clear()
        self._leases.clear()
        if self._nc is not None:
            # Every handled batch is already acknowledged; what is not will be redelivered.
            await self._nc.close()
            self._nc = None
            self._js = None
