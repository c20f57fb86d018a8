"""The delivery worker: one loop per channel claims due deliveries, sends them, records attempts.

Each channel has its own loop, so a channel that is down (or slow to time out) delays only its
own deliveries. Runs as a background service of ``vigil serve`` (with the escalation timer) and
as its own process, ``vigil alerts worker``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from datetime import datetime, timedelta

from vigil.alerts import outbox
from vigil.alerts.channels import CHANNELS
from vigil.alerts.channels.base import Channel, ChannelError, Message
from vigil.alerts.config import AlertSettings
from vigil.alerts.runtime import AlertsRuntime
from vigil.db.uow import UnitOfWork
from vigil.logs import get_logger
from vigil.security import audit

log = get_logger(__name__)
# How many deliveries of one channel are in flight at once.
PER_CHANNEL_CONCURRENCY = 8
# The longest pause between failing rounds: deliveries resume at most this long after an outage.
ROUND_BACKOFF_CAP_S = 5.0


def round_wait_s(poll_s: float, failed: int) -> float:
    """The pause before the next round: the poll interval, doubled after each failed round in a
    row up to ``ROUND_BACKOFF_CAP_S``, so an outage is not a log line per channel every poll."""
    if not failed:
        return poll_s
    return float(max(poll_s, min(ROUND_BACKOFF_CAP_S, poll_s * 2**failed)))


def worker_name() -> str:
    """Unique per process start: a restarted worker must not pass for the one that died."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class DeliveryWorker:
    def __init__(
        self,
        alerts: AlertsRuntime,
        name: str | None = None,
    ) -> None:
        self.alerts = alerts
        self.channels: dict[str, Channel] = alerts.outbound
        self.settings: AlertSettings = alerts.settings
        self.name = name or worker_name()
        self.lease = timedelta(seconds=self.settings.outbox_lease_s)
        self.backoff_base = timedelta(seconds=self.settings.outbox_backoff_base_s)
        self.backoff_cap = timedelta(seconds=self.settings.outbox_backoff_cap_s)

    async def run(self, stop: asyncio.Event) -> None:
        loops = [
            asyncio.create_task(self._channel_loop(name, stop), name=f"alerts.deliver.{name}")
            for name in self.channels
        ]
        try:
            await stop.wait()
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)

    async def _channel_loop(self, channel: str, stop: asyncio.Event) -> None:
        woken = self.alerts.wakeup.register()
        failed = 0  # rounds in a row that failed (the database is down, most likely)
        while not stop.is_set():
            woken.clear()
            try:
                sent = await self.run_once(channel)
                failed = 0
            except Exception:
                failed += 1
                log.exception("alerts.delivery_round_failed", channel=channel, in_a_row=failed)
                sent = 0
            if sent:
                continue  # there may be more due right now
            with contextlib.suppress(TimeoutError):
                wait = round_wait_s(self.settings.outbox_poll_s, failed)
                await asyncio.wait_for(woken.wait(), timeout=wait)

    async def run_once(self, channel: str) -> int:
        """Claim and send one batch of a channel's due deliveries; returns how many were tried."""
        claimed = await asyncio.to_thread(self._claim, channel)
        if not claimed:
            return 0
        limit = asyncio.Semaphore(PER_CHANNEL_CONCURRENCY)

        async def one(delivery: outbox.Claimed) -> None:
            async with limit:
                await self.deliver(delivery)

        await asyncio.gather(*(one(d) for d in claimed))
        return len(claimed)

    def _claim(self, channel: str) -> list[outbox.Claimed]:
        # The claim is committed before anything is sent: another worker must not take it.
        with self.alerts.uow() as uow:
            claimed = outbox.claim(
                uow,
                channel=channel,
                worker=self.name,
                lease=self.lease,
                limit=self.settings.outbox_batch,
            )
            uow.commit()
        return claimed

    async def deliver(self, delivery: outbox.Claimed) -> None:
        started = self.alerts.clock.now()
        error: str | None = None
        permanent = False
        try:
            message = await asyncio.to_thread(self._prepare, delivery)
            await self.channels[delivery.channel].send(message)
        except ChannelError as exc:
            error, permanent = str(exc), exc.permanent
        except Exception as exc:  # a bug in one channel must not stop the loop
            log.exception("alerts.channel_crashed", channel=delivery.channel)
            error = f"unexpected: {exc!r}"
        if error is not None:
            log.warning(
                "alerts.delivery_failed",
                delivery_id=delivery.id,
                channel=delivery.channel,
                attempt=delivery.attempt,
                permanent=permanent,
                error=error,
            )
        await asyncio.to_thread(self._record, delivery, started, error, permanent)

    def _record(
        self, delivery: outbox.Claimed, started: datetime, error: str | None, permanent: bool
    ) -> None:
        with self.alerts.uow() as uow:
            kept = outbox.record_attempt(
                uow,
                delivery,
                worker=self.name,
                started_at=started,
                error=error,
                permanent=permanent,
                backoff_base=self.backoff_base,
                backoff_cap=self.backoff_cap,
            )
            uow.commit()
        if not kept:
            log.warning("alerts.claim_lost", delivery_id=delivery.id)

    def _prepare(self, delivery: outbox.Claimed) -> Message:
        """Resolve what must not sit in the outbox: protected persons' phone numbers, and the
        safety context for police. Each read is audited by the registry and here."""
        recipient = delivery.recipient
        body = dict(delivery.body)
        needs_phone = delivery.channel == "protected_person"
        context_for = body.pop("safety_context_for", None)
        if needs_phone or context_for:
            directory = self.alerts.context.directory
            with self.alerts.uow() as uow:
                # The attempt is on record even if a lookup below fails.
                self._record_preparation(uow, delivery, needs_phone, list(context_for or []))
                uow.commit()
                if needs_phone:
                    phone = directory.protected_person_phone(uow, recipient, self.name)
                    if not phone:
                        raise ChannelError("no phone number on record", permanent=True)
                    recipient = phone
                if context_for:
                    body["safety_context"] = [
                        directory.safety_context(uow, str(pid), self.name) for pid in context_for
                    ]
                uow.commit()
        return Message(
            delivery_id=delivery.id,
            channel=delivery.channel,
            recipient=recipient,
            subject=delivery.subject,
            body=body,
            idempotency_key=delivery.idempotency_key,
        )

    def _record_preparation(
        self, uow: UnitOfWork, delivery: outbox.Claimed, phone: bool, contexts: list[str]
    ) -> None:
        audit.record(
            uow.connection,
            at=uow.clock.now(),
            actor=f"worker:{self.name}",
            action="alert.delivery_prepared",
            subject_type="alert_delivery",
            subject_id=delivery.id,
            detail={
                "channel": delivery.channel,
                "protected_person_phone": phone,
                "safety_context_for": contexts,
            },
        )


async def run(alerts: AlertsRuntime, stop: asyncio.Event) -> None:
    """Background service: delivery loops for every channel."""
    worker = DeliveryWorker(alerts)
    for name in sorted(set(CHANNELS) - set(worker.channels)):
        log.warning("alerts.channel_not_configured", channel=name)
    log.info("alerts.worker_started", worker=worker.name, channels=sorted(worker.channels))
    await worker.run(stop)
