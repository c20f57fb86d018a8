"""HTTP device doors: the OsmAnd port (5055) and the OwnTracks HTTP port (5056 by default).

Phones are configured with a bare ``http://host:port`` and send every report as its own request.
These doors are listeners of their own, never routes on the staff web app, so a deployment puts
them on the devices' network and keeps the web app on the staff network. A full web framework
would cost most of the time per request, so this speaks just enough HTTP/1.1: GET or POST,
Content-Length bodies, keep-alive and pipelining (answers in request order). 200 on success, 400
with the reason otherwise. It runs on ``connection.PublishingConnection``: requests are parsed
and decoded as bytes arrive, the fixes of one read go to the bus in one publish, and the 200s are
written only after it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from vigil.clock import Clock
from vigil.gateways import osmand, owntracks
from vigil.gateways.connection import PublishingConnection
from vigil.gateways.directory import BAD_DEVICE_KEY
from vigil.gateways.intake import Intake, PresentedKey, Screened
from vigil.gateways.model import Decoded, DecodeError
from vigil.gateways.quarantine import Refused
from vigil.text import ascii_digits
from vigil.tracking.model import Fix

MAX_HEAD = 16 * 1024
IDLE_TIMEOUT_S = 60.0
# Reads parsed but not yet answered before the connection stops reading (pipelining clients).
MAX_PENDING_READS = 8
_METHODS = frozenset({"GET", "POST", "PUT"})


@dataclass(frozen=True)
class Request:
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class DoorProtocol:
    """What a door decodes and what it answers a device on success."""

    name: str
    max_body: int
    decode: Callable[[Request, datetime], Decoded]
    # The device key the request carries, if any (every report through a door must have one).
    key: Callable[[Request], str | None]
    ok: bytes


def _decode_osmand(request: Request, now: datetime) -> Decoded:
    content_type = request.headers.get("content-type", "")
    return osmand.decode_request(request.query, request.body, content_type, now)


def _path_key(request: Request) -> str | None:
    """Traccar Client and OsmAnd send only their id, but keep the path of the server URL they
    are given, so the key rides there (``http://host:5055/<key>``) and never in the query
    string, which is kept with each fix as its raw frame."""
    key = request.path.strip("/")
    return key or None


def _basic_credentials(headers: dict[str, str]) -> tuple[str, str] | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise DecodeError("malformed", "authorization: not valid basic credentials") from exc
    return user, password


def _owntracks_key(request: Request) -> str | None:
    """The OwnTracks app's HTTP mode sends its password by basic auth."""
    try:
        credentials = _basic_credentials(request.headers)
    except DecodeError:
        return None
    return credentials[1] if credentials else _path_key(request)


def _decode_owntracks(request: Request, now: datetime) -> Decoded:
    """OwnTracks HTTP mode: user and device from X-Limit-U/-D (or ?u=&d=), else the basic-auth
    user; the JSON message in the body."""
    query = dict(osmand.query_pairs(request.query))
    credentials = _basic_credentials(request.headers)
    basic_user = credentials[0] if credentials else None
    user = request.headers.get("x-limit-u") or query.get("u") or basic_user
    device = owntracks.identity(user, request.headers.get("x-limit-d") or query.get("d"))
    return owntracks.decode_payload(request.body, device, now)


def _ok(content_type: str, body: bytes) -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


OSMAND = DoorProtocol(
    osmand.NAME,
    osmand.MAX_BODY,
    _decode_osmand,
    _path_key,
    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
)
# The app expects a JSON array back (messages for it; Vigil sends none).
OWNTRACKS = DoorProtocol(
    owntracks.NAME,
    owntracks.MAX_BODY,
    _decode_owntracks,
    _owntracks_key,
    _ok("application/json", b"[]"),
)


def _response(status: str, text: str, close: bool = False) -> bytes:
    body = text.encode("utf-8", "replace")
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
    )
    if close:
        head += "Connection: close\r\n"
    return head.encode() + b"\r\n" + body


class HttpDoor:
    def __init__(
        self,
        protocol: DoorProtocol,
        intake: Intake,
        clock: Clock,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
    ) -> None:
        self.protocol = protocol
        self.intake = intake
        self.clock = clock
        self.idle_timeout_s = idle_timeout_s

    async def start(self, host: str, port: int) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        return await loop.create_server(lambda: _HttpConnection(self), host, port)


class _HttpConnection(PublishingConnection):
    def __init__(self, server: HttpDoor) -> None:
        super().__init__(
            server.protocol.name, server.intake, server.idle_timeout_s, MAX_PENDING_READS
        )
        self.protocol = server.protocol
        self.clock = server.clock
        self.buffer = bytearray()

    def received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        good: list[Fix] = []
        held: list[Refused] = []
        replies: list[bytes] = []
        close = False
        while not close:
            end = buffer.find(b"\r\n\r\n", 0, MAX_HEAD + 4)
            if end < 0:
                if len(buffer) > MAX_HEAD:
                    self.intake.rejected(self.name, "oversize", "request head too large", self.peer)
                    replies.append(
                        _response("431 Request Header Fields Too Large", "headers too large", True)
                    )
                    close = True
                break  # wait for the rest of the head
            outcome = self._request(buffer, end)
            if outcome is None:
                break  # wait for the rest of the body
            reply, screened, keep_alive = outcome
            good += screened.good
            held += screened.held
            replies.append(reply)
            close = not keep_alive
        if replies or close:
            self.send(Screened(good, held), b"".join(replies), close)

    def _request(self, buffer: bytearray, end: int) -> tuple[bytes, Screened, bool] | None:
        """Answer the request whose head ends at ``end`` and take it off the buffer; None when
        its body has not all arrived yet."""
        lines = buffer[:end].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or parts[0] not in _METHODS:
            del buffer[:]
            self.intake.rejected(self.name, "bad_request", lines[0][:100], self.peer)
            return (
                _response("400 Bad Request", "request line: expected GET or POST", True),
                Screened(),
                False,
            )
        headers = _headers(lines[1:])
        keep_alive = parts[2] == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        refusal = self._refusal(headers)
        if refusal is not None:
            del buffer[:]
            return refusal, Screened(), False
        length = int(headers.get("content-length", "0") or "0")
        start = end + 4
        if len(buffer) < start + length:
            return None
        body = bytes(buffer[start : start + length])
        del buffer[: start + length]
        path, _, query = parts[1].partition("?")
        return self._screen_request(Request(path, query, headers, body), keep_alive)

    def _refusal(self, headers: dict[str, str]) -> bytes | None:
        """The answer refusing a request before its body is read, or None to read it."""
        if "transfer-encoding" in headers:
            return _response("411 Length Required", "transfer-encoding: send Content-Length", True)
        length_text = headers.get("content-length", "0") or "0"
        if not ascii_digits(length_text):
            return _response("400 Bad Request", "content-length: not a number", True)
        length = int(length_text)
        if length > self.protocol.max_body:
            self.intake.rejected(self.name, "oversize", f"body of {length} bytes", self.peer)
            return _response("413 Content Too Large", "body: too large", True)
        return None

    def _screen_request(self, request: Request, keep_alive: bool) -> tuple[bytes, Screened, bool]:
        """Decode and screen a whole request; the reply says what became of its fixes."""
        try:
            decoded = self.protocol.decode(request, self.clock.now())
        except DecodeError as exc:
            self.intake.rejected(self.name, exc.reason, exc.detail, self.peer)
            return _response("400 Bad Request", str(exc)), Screened(), keep_alive
        presented = PresentedKey(self.protocol.key(request))
        screened = self.intake.screen(self.name, decoded.fixes, presented)
        if decoded.fixes and not screened.good:
            # Answered only after the refusals are kept (the flusher stores them first).
            if any(held.reason == BAD_DEVICE_KEY for held in screened.held):
                answer = _response("401 Unauthorized", "device key: missing or wrong")
            elif screened.held:
                answer = _response("403 Forbidden", "device: not registered and fitted")
            else:
                answer = _response("400 Bad Request", "fix: rejected (see gateway metrics)")
            return answer, screened, keep_alive
        return self.protocol.ok, screened, keep_alive


def _headers(lines: list[str]) -> dict[str, str]:
    """Header lines by lower-case name (a repeated header keeps its last value)."""
    headers: dict[str, str] = {}
    for line in lines:
        key, _, value = line.partition(":")
        if key:
            headers[key.strip().lower()] = value.strip()
    return headers
