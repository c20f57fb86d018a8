"""The OsmAnd port (5055 by default): a small HTTP/1.1 server for Traccar Client and OsmAnd.

Those apps are configured with a bare ``http://host:port`` and send every report as its own
request; a full web framework on this port would cost most of the time per request, so this
speaks just enough HTTP/1.1: GET or POST, Content-Length bodies, keep-alive. 200 on success,
400 with the reason otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib

from vigil.clock import Clock
from vigil.gateways import osmand
from vigil.gateways.intake import Intake
from vigil.gateways.model import DecodeError
from vigil.logs import get_logger

log = get_logger(__name__)

MAX_HEAD = 16 * 1024
IDLE_TIMEOUT_S = 60.0
_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


def _response(status: str, text: str, close: bool = False) -> bytes:
    body = text.encode("utf-8", "replace")
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
    )
    if close:
        head += "Connection: close\r\n"
    return head.encode() + b"\r\n" + body


class OsmAndServer:
    def __init__(self, intake: Intake, clock: Clock) -> None:
        self.intake = intake
        self.clock = clock

    async def start(self, host: str, port: int) -> asyncio.Server:
        return await asyncio.start_server(self.handle, host, port, limit=MAX_HEAD)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT_S)
                except (TimeoutError, asyncio.IncompleteReadError):
                    return
                except asyncio.LimitOverrunError:
                    self.intake.rejected(osmand.NAME, "oversize", "request head too large")
                    writer.write(
                        _response("431 Request Header Fields Too Large", "headers too large", True)
                    )
                    return
                reply, keep_alive = await self._one(reader, head)
                writer.write(reply)
                await writer.drain()
                if not keep_alive:
                    return
        except ConnectionError:
            return
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _one(self, reader: asyncio.StreamReader, head: bytes) -> tuple[bytes, bool]:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or parts[0] not in ("GET", "POST", "PUT"):
            self.intake.rejected(osmand.NAME, "bad_request", lines[0][:100])
            return _response("400 Bad Request", "request line: expected GET or POST", True), False
        headers: dict[str, str] = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            if key:
                headers[key.strip().lower()] = value.strip()
        keep_alive = headers.get("connection", "").lower() != "close" and parts[2] == "HTTP/1.1"
        body = b""
        length_text = headers.get("content-length", "0") or "0"
        if not length_text.isdigit():
            return _response("400 Bad Request", "content-length: not a number", True), False
        length = int(length_text)
        if length > osmand.MAX_BODY:
            self.intake.rejected(osmand.NAME, "oversize", f"body of {length} bytes")
            return _response("413 Content Too Large", "body: too large", True), False
        if length:
            body = await reader.readexactly(length)
        _, _, query = parts[1].partition("?")
        try:
            decoded = osmand.decode_request(
                query, body, headers.get("content-type", ""), self.clock.now()
            )
        except DecodeError as exc:
            self.intake.rejected(osmand.NAME, exc.reason, exc.detail)
            return _response("400 Bad Request", str(exc)), keep_alive
        published = await self.intake.publish(osmand.NAME, decoded.fixes)
        if not published:
            return _response("400 Bad Request", "fix: rejected (see gateway metrics)"), keep_alive
        return _OK, keep_alive
