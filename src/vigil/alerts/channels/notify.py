"""Shared GOV.UK Notify plumbing for the SMS and protected-person channels.

The official Python client is synchronous (requests), so each send runs in a worker thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient

from vigil.alerts.channels.base import ChannelError

# Notify answers 400 for a bad number or template and 403 for a bad key: retrying cannot help.
PERMANENT_STATUSES = frozenset({400, 403})


async def send_sms(
    *,
    api_key: str,
    base_url: str,
    timeout: float,
    phone_number: str,
    template_id: str,
    personalisation: dict[str, Any],
    reference: str,
) -> None:
    if not api_key or not template_id:
        raise ChannelError("GOV.UK Notify is not configured (API key and template id)")

    def _send() -> None:
        client = NotificationsAPIClient(  # type: ignore[no-untyped-call]
            api_key, base_url=base_url, timeout=timeout
        )
        client.send_sms_notification(  # type: ignore[no-untyped-call]
            phone_number=phone_number,
            template_id=template_id,
            personalisation=personalisation,
            reference=reference,
        )

    try:
        await asyncio.to_thread(_send)
    except HTTPError as exc:
        status = exc.status_code if isinstance(exc.status_code, int) else 0
        raise ChannelError(
            f"Notify answered {status or 'no response'}", permanent=status in PERMANENT_STATUSES
        ) from exc
    except Exception as exc:  # the client wraps most failures, but not every one
        raise ChannelError(f"Notify unavailable: {exc!r}") from exc
