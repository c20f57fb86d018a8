"""OwnTracks over MQTT: subscribe to ``owntracks/+/+`` (and ``/event``) on the broker."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import aiomqtt

from vigil.clock import Clock
from vigil.gateways import owntracks
from vigil.gateways.commands import CommandQueue, owntracks_outgoing
from vigil.gateways.intake import Intake
from vigil.gateways.model import DecodeError
from vigil.logs import get_logger

log = get_logger(__name__)

TOPICS = ("owntracks/+/+", "owntracks/+/+/event")


def broker(url: str) -> tuple[str, int, str | None, str | None]:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
        raise ValueError(f"mqtt_url: {url!r} is not mqtt://host:port")
    return parts.hostname, parts.port or 1883, parts.username, parts.password


async def handle_message(intake: Intake, clock: Clock, topic: str, payload: bytes) -> int:
    """Decode and publish one MQTT message; returns how many fixes were published."""
    try:
        device = owntracks.identity_from_topic(topic)
        decoded = owntracks.decode_payload(payload, device, clock.now())
    except DecodeError as exc:
        intake.rejected(owntracks.NAME, exc.reason, f"{topic}: {exc.detail}")
        return 0
    return len((await intake.publish(owntracks.NAME, decoded.fixes)).good)


async def _receive(
    client: aiomqtt.Client,
    message: aiomqtt.Message,
    intake: Intake,
    clock: Clock,
    commands: CommandQueue | None,
) -> None:
    payload = message.payload
    data = payload if isinstance(payload, bytes | bytearray) else str(payload).encode()
    topic = str(message.topic)
    await handle_message(intake, clock, topic, bytes(data))
    if commands is None or topic.endswith("/cmd"):
        return
    # Reporting commands go back while the phone is connected.
    try:
        device = owntracks.identity_from_topic(topic)
    except DecodeError:
        return
    for out, body in owntracks_outgoing(commands, device, topic, clock.now()):
        await client.publish(out, body, qos=1)


async def run_subscriber(
    url: str,
    intake: Intake,
    clock: Clock,
    ready: asyncio.Event | None = None,
    commands: CommandQueue | None = None,
) -> None:
    """Stay subscribed until cancelled; reconnect with back-off when the broker goes away."""
    host, port, username, password = broker(url)
    delay = 1.0
    while True:
        try:
            async with aiomqtt.Client(host, port, username=username, password=password) as client:
                for topic in TOPICS:
                    await client.subscribe(topic, qos=1)
                log.info("gateway.mqtt_subscribed", host=host, port=port)
                delay = 1.0
                if ready is not None:
                    ready.set()
                async for message in client.messages:
                    await _receive(client, message, intake, clock, commands)
        except aiomqtt.MqttError as exc:
            intake.metrics.count(owntracks.NAME, "mqtt_disconnected")
            log.warning(
                "gateway.mqtt_unavailable", host=host, port=port, error=str(exc), retry_s=delay
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)
