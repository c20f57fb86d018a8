"""Webhook: a JSON POST signed with HMAC-SHA256 over a timestamp and the exact body.

Headers sent::

    X-Vigil-Timestamp: <unix seconds>
    X-Vigil-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>
    Idempotency-Key: <the delivery's idempotency key>

Receivers check the signature with ``verify_signature`` (or its equivalent), reject timestamps
older than a few minutes (replays), and drop repeated idempotency keys (retries).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time

import httpx

from vigil.alerts.channels.base import ChannelError, Message
from vigil.alerts.config import AlertSettings

SIGNATURE_HEADER = "X-Vigil-Signature"
TIMESTAMP_HEADER = "X-Vigil-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Client errors a retry may fix: timeouts, conflicts and "slow down".
RETRYABLE_CLIENT_ERRORS = frozenset({408, 409, 425, 429})


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float | None = None,
    tolerance_s: int = 300,
) -> bool:
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, stamp, body), signature)


class WebhookChannel:
    name = "webhook"

    def __init__(self, *, secret: str, timeout: float = 10.0) -> None:
        self.secret = secret
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> httpx.AsyncClient:
        # One pooled client per event loop: building one per request costs a TLS context each.
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(timeout=self.timeout)
            self._loop = loop
        return self._client

    def request(self, message: Message, timestamp: int) -> tuple[bytes, dict[str, str]]:
        payload = dict(message.body)
        payload.setdefault("subject", message.subject)
        payload["idempotency_key"] = message.idempotency_key
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
            IDEMPOTENCY_HEADER: message.idempotency_key,
        }
        return body, headers

    async def send(self, message: Message) -> None:
        if not self.secret:
            raise ChannelError(
                "VIGIL_ALERTS_WEBHOOK_SECRET is not set; unsigned webhooks are not sent"
            )
        body, headers = self.request(message, int(time.time()))
        try:
            response = await self._http().post(message.recipient, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ChannelError(f"webhook unreachable: {exc!r}") from exc
        if response.is_success:
            return
        code = response.status_code
        permanent = 400 <= code < 500 and code not in RETRYABLE_CLIENT_ERRORS
        raise ChannelError(f"webhook answered {code}", permanent=permanent)


def build(settings: AlertSettings) -> WebhookChannel | None:
    if not settings.webhook_secret:
        return None
    return WebhookChannel(secret=settings.webhook_secret, timeout=settings.webhook_timeout_s)
