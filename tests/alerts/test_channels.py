"""Each channel against a real local server, then the outbox worker: retries after a channel
failure, every attempt recorded, a channel that is down delaying only its own deliveries, and
police-only safety context resolved at send time."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import jwt
import pytest
from sqlalchemy import select

from tests.alerts.conftest import OFFICER_EMAIL, Registry, alert_settings, event, handle
from tests.alerts.receivers import (
    NOTIFY_API_KEY,
    NOTIFY_RESPONSE,
    NOTIFY_SECRET,
    NOTIFY_SERVICE_ID,
    NOTIFY_TEMPLATE,
    HttpReceiver,
    SmtpReceiver,
    http_receiver,
    smtp_receiver,
)
from vigil.alerts import outbox, service
from vigil.alerts.channels import build_channels
from vigil.alerts.channels.base import ChannelError, Message
from vigil.alerts.channels.email import EmailChannel
from vigil.alerts.channels.protected_person import SAFE_TEXT
from vigil.alerts.channels.sms import SmsChannel
from vigil.alerts.channels.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookChannel,
    verify_signature,
)
from vigil.alerts.model import DeliveryStatus
from vigil.alerts.tables import alert_deliveries, alert_delivery_attempts
from vigil.alerts.worker import DeliveryWorker
from vigil.bootstrap import Container
from vigil.clock import FrozenClock
from vigil.errors import ValidationError

SECRET = "test-webhook-secret"


def message(channel: str, recipient: str, key: str = "k-1", **body: object) -> Message:
    return Message(1, channel, recipient, "CRITICAL alert 1: exclusion zone", dict(body), key)


async def test_email_channel_delivers_to_a_real_smtp_server_with_a_stable_message_id() -> None:
    with smtp_receiver() as smtp:
        channel = EmailChannel(host=smtp.host, port=smtp.port, sender="alerts@vigil.example")
        await channel.send(message("email", "officer@probation.example", text="Acknowledge it."))
        await channel.send(message("email", "officer@probation.example", text="Acknowledge it."))
    [received] = smtp.messages  # the repeat carried the same Message-ID and was dropped
    assert received["To"] == "officer@probation.example"
    assert received["X-Vigil-Idempotency-Key"] == "k-1"
    assert "Acknowledge it." in received.get_payload()


async def test_email_channel_reports_a_refused_recipient_as_permanent_and_a_down_server_not() -> (
    None
):
    with smtp_receiver(SmtpReceiver(refuse={"gone@probation.example"})) as smtp:
        channel = EmailChannel(host=smtp.host, port=smtp.port, sender="alerts@vigil.example")
        with pytest.raises(ChannelError) as refused:
            await channel.send(message("email", "gone@probation.example", text="x"))
        down = EmailChannel(host="127.0.0.1", port=smtp.port + 1, sender="a@vigil.example")
    assert refused.value.permanent
    with pytest.raises(ChannelError) as unavailable:
        await down.send(message("email", "officer@probation.example", text="x"))
    assert not unavailable.value.permanent


async def test_webhook_channel_posts_signed_json_to_a_real_receiver() -> None:
    with http_receiver(HttpReceiver()) as hook:
        channel = WebhookChannel(secret=SECRET)
        await channel.send(message("webhook", f"{hook.url}/control-room", alert_id=1, lat=52.48))
    [request] = hook.requests
    assert request.path == "/control-room"
    assert request.headers["idempotency-key"] == "k-1"
    assert verify_signature(
        SECRET,
        request.headers[TIMESTAMP_HEADER.lower()],
        request.body,
        request.headers[SIGNATURE_HEADER.lower()],
    )
    assert request.json()["alert_id"] == 1
    # A tampered body or an old timestamp does not verify.
    assert not verify_signature(
        SECRET,
        request.headers[TIMESTAMP_HEADER.lower()],
        request.body.replace(b"52.48", b"51.00"),
        request.headers[SIGNATURE_HEADER.lower()],
    )
    assert not verify_signature(
        SECRET,
        request.headers[TIMESTAMP_HEADER.lower()],
        request.body,
        request.headers[SIGNATURE_HEADER.lower()],
        now=time.time() + 3600,
    )


async def test_webhook_channel_retries_server_errors_but_not_rejections() -> None:
    with http_receiver(HttpReceiver(script=[503, 400])) as hook:
        channel = WebhookChannel(secret=SECRET)
        with pytest.raises(ChannelError) as unavailable:
            await channel.send(message("webhook", hook.url))
        with pytest.raises(ChannelError) as rejected:
            await channel.send(message("webhook", hook.url))
    assert not unavailable.value.permanent
    assert rejected.value.permanent


async def test_sms_channel_calls_the_notify_api_with_a_signed_token() -> None:
    with http_receiver(HttpReceiver(status=201, response_body=NOTIFY_RESPONSE)) as notify:
        channel = SmsChannel(
            api_key=NOTIFY_API_KEY, base_url=notify.url, template_id=NOTIFY_TEMPLATE, timeout=5
        )
        await channel.send(message("sms", "+447400123457", text="CRITICAL alert 1"))
    [request] = notify.requests
    assert request.path == "/v2/notifications/sms"
    token = request.headers["authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, NOTIFY_SECRET, algorithms=["HS256"])
    assert claims["iss"] == NOTIFY_SERVICE_ID
    assert request.json() == {
        "phone_number": "+447400123457",
        "template_id": NOTIFY_TEMPLATE,
        "personalisation": {"message": "CRITICAL alert 1"},
        "reference": "k-1",
    }


def test_enqueue_validates_and_ignores_a_repeated_idempotency_key(container: Container) -> None:
    with container.uow() as uow:
        with pytest.raises(ValidationError) as bad:
            outbox.enqueue(
                uow, channel="pigeon", recipient="", subject="x", body={}, idempotency_key="k"
            )
        assert {e.field for e in bad.value.errors} == {"channel", "recipient"}
        for _ in range(2):
            outbox.enqueue(
                uow,
                channel="email",
                recipient="someone@example.org",
                subject="Weekly overview",
                body={"text": "hello"},
                idempotency_key="evidence:weekly:1",
            )
        uow.commit()
    with container.engine.connect() as conn:
        rows = conn.execute(select(alert_deliveries)).all()
    assert len(rows) == 1
    assert rows[0].status == DeliveryStatus.PENDING


def _worker(container: Container, **settings: object) -> DeliveryWorker:
    built = alert_settings(**settings)
    container.alerts.configure(built, channels=build_channels(built))
    return DeliveryWorker(container.alerts, name="test-worker")


async def test_outbox_retries_after_a_channel_failure_and_records_each_attempt(
    container: Container, clock: FrozenClock
) -> None:
    with http_receiver(HttpReceiver(script=[503, 500])) as hook:
        worker = _worker(container, webhook_secret=SECRET)
        with container.uow() as uow:
            outbox.enqueue(
                uow,
                channel="webhook",
                recipient=hook.url,
                subject="s",
                body={"n": 1},
                idempotency_key="retry-1",
            )
            uow.commit()
        assert await worker.run_once("webhook") == 1  # 503
        assert await worker.run_once("webhook") == 0  # backing off: not due yet
        clock.advance(timedelta(seconds=2))
        assert await worker.run_once("webhook") == 1  # 500
        clock.advance(timedelta(seconds=3))
        assert await worker.run_once("webhook") == 0  # second backoff is 4 s
        clock.advance(timedelta(seconds=1))
        assert await worker.run_once("webhook") == 1  # delivered
    assert hook.accepted_keys() == ["retry-1"]
    with container.engine.connect() as conn:
        row = conn.execute(select(alert_deliveries)).one()
        attempts = conn.execute(
            select(alert_delivery_attempts).order_by(alert_delivery_attempts.c.attempt)
        ).all()
    assert row.status == DeliveryStatus.DELIVERED
    assert row.attempts == 3
    # Delivered: the outbox forgets the address and the content.
    assert row.recipient.startswith("sha256:")
    assert row.body == {}
    assert [(a.attempt, a.ok) for a in attempts] == [(1, False), (2, False), (3, True)]
    assert "503" in (attempts[0].error or "")


async def test_a_channel_that_is_down_delays_only_its_own_deliveries(
    container: Container, clock: FrozenClock
) -> None:
    # The webhook receiver hangs longer than the channel's timeout; email is healthy.
    with (
        http_receiver(HttpReceiver(delay=3.0)) as slow_hook,
        smtp_receiver() as smtp,
    ):
        worker = _worker(
            container,
            webhook_secret=SECRET,
            webhook_timeout_s=2.0,
            smtp_port=smtp.port,
        )
        with container.uow() as uow:
            for n in range(3):
                outbox.enqueue(
                    uow,
                    channel="webhook",
                    recipient=slow_hook.url,
                    subject="s",
                    body={"n": n},
                    idempotency_key=f"hook-{n}",
                )
                outbox.enqueue(
                    uow,
                    channel="email",
                    recipient=f"person{n}@example.org",
                    subject="s",
                    body={"text": "t"},
                    idempotency_key=f"mail-{n}",
                )
            uow.commit()
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        started = time.monotonic()
        while len(smtp.messages) < 3 and time.monotonic() - started < 5:
            await asyncio.sleep(0.02)
        email_done = time.monotonic() - started
        with container.engine.connect() as conn:
            hook_states = set(
                conn.execute(
                    select(alert_deliveries.c.status).where(alert_deliveries.c.channel == "webhook")
                ).scalars()
            )
        stop.set()
        await task
    assert len(smtp.messages) == 3
    assert email_done < 1.5
    assert DeliveryStatus.DELIVERED not in hook_states  # still waiting on the slow receiver


async def test_police_get_safety_context_at_send_time_and_the_victim_only_the_fixed_text(
    container: Container, registry: Registry, weekday_morning: FrozenClock
) -> None:
    with (
        http_receiver(HttpReceiver()) as police,
        http_receiver(HttpReceiver(status=201, response_body=NOTIFY_RESPONSE)) as notify,
        smtp_receiver() as smtp,
    ):
        worker = _worker(
            container,
            webhook_secret=SECRET,
            smtp_port=smtp.port,
            control_room_webhooks={"WMP": f"{police.url}/wmp"},
            notify_api_key=NOTIFY_API_KEY,
            notify_base_url=notify.url,
            notify_sms_template_id=NOTIFY_TEMPLATE,
        )
        with container.uow() as uow:
            service.set_protected_person_opt_in(
                uow, registry.officer, registry.protected_person, True
            )
            uow.commit()
        [raised] = handle(container, event(registry.high_risk_person, at=weekday_morning.now()))
        for channel in ("webhook", "protected_person", "email"):
            assert await worker.run_once(channel) >= 1
        with container.engine.connect() as conn:
            outbox_bodies = [
                json.dumps(body) for body in conn.execute(select(alert_deliveries.c.body)).scalars()
            ]
    [police_call] = police.requests
    payload = police_call.json()
    assert payload["alert_id"] == raised.alert_id
    assert payload["lat"] == pytest.approx(52.4862)
    [context] = payload["safety_context"]
    assert context["name"] == "Vera Victim"
    assert context["relationship"] == "former_partner"
    [victim_text] = notify.requests
    sent = victim_text.json()
    assert sent["phone_number"].endswith("7400123456")
    assert sent["personalisation"] == {"message": SAFE_TEXT}
    assert "52.4" not in victim_text.body.decode()
    # Staff email carries no safety context; the outbox never held the victim's details.
    officer_mail = [m for m in smtp.messages if m["To"] == OFFICER_EMAIL]
    assert officer_mail
    assert "Vera" not in officer_mail[0].get_payload()
    assert not any("Vera" in body or "7400123456" in body for body in outbox_bodies)
