"""The one small interface every delivery channel implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Message:
    """One delivery, ready to send. ``recipient`` is the channel's address (email address, URL,
    phone number); ``idempotency_key`` must reach the receiver so it can drop duplicates."""

    delivery_id: int
    channel: str
    recipient: str
    subject: str
    body: dict[str, Any]
    idempotency_key: str


class ChannelError(Exception):
    """Sending failed. ``permanent`` errors (a rejected address) are not retried; all others are
    retried with backoff until the channel is back."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Channel(Protocol):
    name: str

    async def send(self, message: Message) -> None:
        """Deliver the message or raise ChannelError. Must not block the event loop."""
