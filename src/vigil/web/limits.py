"""How much body a request may send, enforced before anything reads it.

JSON bodies are parsed whole before a route runs, so without a limit a client could make the
server hold any amount of memory. Each prefix gets the size its largest honest body needs; the
first matching prefix wins. A body declared larger is refused at once; one that turns out larger
while streaming is refused as soon as it passes the limit, both as 413 naming the limit.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import HTTPException, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigil.contact.bodies import CALL_CHECK_MAX_BODY

KIB = 1024
MIB = 1024 * KIB

# (path prefix, bytes): the first that matches the request's path applies.
LIMITS: tuple[tuple[str, int], ...] = (
    ("/api/contact/requests", 64 * KIB),  # the public request twin: up to ten people
    ("/api/contact/", CALL_CHECK_MAX_BODY),  # case actions, checks and reports are small
    ("/api/gateways/", 32 * MIB),  # bulk fix imports
    # A police crime extract (a CSV of at most 5,000,000 bytes, in a multipart form).
    ("/api/evidence/crime-batches", 6 * MIB),
    ("/evidence/crime/upload", 6 * MIB),
    ("/harm/import", 201 * MIB),  # incident data (files up to 200 MiB)
    ("/api/", 1 * MIB),
)
DEFAULT = 2 * MIB  # page forms


class TooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(status.HTTP_413_CONTENT_TOO_LARGE, f"body: larger than {limit} bytes")


def limit_for(path: str, limits: Sequence[tuple[str, int]] = LIMITS) -> int:
    for prefix, limit in limits:
        if path.startswith(prefix):
            return limit
    return DEFAULT


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, limit)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Raised where the route reads its body, so the app answers it as a 413.
                    raise TooLarge(limit)
            return message

        await self.app(scope, limited, send)


async def _refuse(send: Send, limit: int) -> None:
    body = b'{"detail":"body: larger than %d bytes"}' % limit
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
