"""The prison-system check port: POST /api/contact/call-check on its own lean HTTP/1.1 server.

Prison phone platforms ask once per dialled number, thousands of times a second at peak. Through
the web app each request pays for the whole framework (middleware, matching the path against
every route of every part) while the check itself takes a few microseconds, so this port speaks
just enough HTTP/1.1 for machine clients: POST with a Content-Length body, keep-alive and
pipelining. The rules are the web app's: the same bearer tokens (``prison_system`` role; cached
as in ``vigil.web.auth``), the same service call (refused calls recorded on the case), the same
JSON bodies and status codes (401, 403, 404, 405, 413, 422). It does not accept session cookies
or chunked bodies (411).

Off unless ``VIGIL_CONTACT_CHECK_PORT`` names a port (``VIGIL_CONTACT_CHECK_HOST``, default
127.0.0.1, the interface); runs in the server's event loop as a background service.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vigil.contact import checks
from vigil.contact.bodies import CALL_CHECK_MAX_BODY, call_check_body
from vigil.contact.index import EnforcementIndex
from vigil.db.uow import UnitOfWork
from vigil.errors import ValidationError
from vigil.logs import get_logger
from vigil.security.bearer import BearerTokens
from vigil.security.crypto import FieldCipher
from vigil.security.model import PermissionDenied
from vigil.text import ascii_digits

log = get_logger(__name__)

PATH = "/api/contact/call-check"
MAX_HEAD = 16 * 1024
IDLE_TIMEOUT_S = 60.0
PORT_VARIABLE = "VIGIL_CONTACT_CHECK_PORT"
HOST_VARIABLE = "VIGIL_CONTACT_CHECK_HOST"

_REASONS = {
    200: "OK",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Content Too Large",
    422: "Unprocessable Content",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}


def _response(status: int, body: bytes, extra: str = "", close: bool = False) -> bytes:
    head = (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n{extra}"
    )
    if close:
        head += "connection: close\r\n"
    return head.encode() + b"\r\n" + body


def _detail(status: int, detail: Any, extra: str = "", close: bool = False) -> bytes:
    body = json.dumps({"detail": detail}, separators=(",", ":")).encode()
    return _response(status, body, extra, close)


_OK_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
_BEARER = "www-authenticate: Bearer\r\n"


# The same cap as the check on the web app's port.
MAX_BODY = CALL_CHECK_MAX_BODY


@dataclass(frozen=True)
class CheckPortDeps:
    """What the check port needs: the same pieces the web app's route uses."""

    uow: Callable[[], UnitOfWork]
    index: EnforcementIndex
    tokens: BearerTokens
    cipher: FieldCipher


class CallCheckHandler:
    """One request in, one response out: the same answers as the web app's route."""

    def __init__(self, deps: CheckPortDeps) -> None:
        self.deps = deps
        self.index = deps.index

    def __call__(self, method: str, target: str, headers: dict[str, str], body: bytes) -> bytes:
        if target.partition("?")[0] != PATH:
            return _detail(404, "Not Found")
        if method != "POST":
            return _detail(405, "Method Not Allowed", "allow: POST\r\n")
        auth = headers.get("authorization", "")
        if auth[:7].lower() != "bearer ":
            return _detail(401, "authorization: log in or send a bearer token", _BEARER)
        principal = self.deps.tokens.principal(auth[7:].strip())
        if principal is None:
            return _detail(401, "authorization: the bearer token is unknown or revoked", _BEARER)
        try:
            try:
                data = json.loads(body)
            except (ValueError, RecursionError) as exc:
                raise ValidationError("body", "must be a JSON object") from exc
            if not isinstance(data, dict):
                raise ValidationError("body", "must be a JSON object")
            result = checks.call_check(
                self.deps.uow,
                self.index,
                principal,
                data.get("prison_number"),
                data.get("number"),
                cipher=self.deps.cipher,
            )
        except ValidationError as exc:
            return _detail(422, [{"field": e.field, "reason": e.reason} for e in exc.errors])
        except PermissionDenied as exc:
            return _detail(403, str(exc))
        answer = call_check_body(result)
        return _OK_HEAD + str(len(answer)).encode() + b"\r\n\r\n" + answer


Handler = Callable[[str, str, dict[str, str], bytes], bytes]


class CheckProtocol(asyncio.Protocol):
    """HTTP/1.1 framing: requests parsed from the buffer as they complete, answered in order."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.active = True
        self._idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport (TCP)
        self._idle = asyncio.get_running_loop().call_later(IDLE_TIMEOUT_S, self._check_idle)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self.transport = None

    def _check_idle(self) -> None:
        # Re-armed every IDLE_TIMEOUT_S rather than per request: cheap, and closes quiet clients.
        if self.transport is None:
            return
        if not self.active:
            self.transport.close()
            return
        self.active = False
        self._idle = asyncio.get_running_loop().call_later(IDLE_TIMEOUT_S, self._check_idle)

    def pause_writing(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None:
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        self.active = True
        self.buffer += data
        out: list[bytes] = []
        close = False
        while not close:
            taken = take_request(self.buffer)
            if taken is None:
                break  # the rest of the request is still on its way
            if isinstance(taken, bytes):
                out.append(taken)  # refused: the connection closes after the answer
                close = True
                break
            out.append(self._answer(taken))
            close = taken.closes
        if self.transport is None:
            return
        if out:
            self.transport.write(b"".join(out))
        if close:
            self.transport.close()

    def _answer(self, request: Request) -> bytes:
        try:
            return self.handler(request.method, request.target, request.headers, request.body)
        except Exception as exc:  # answer like the web app would, and keep serving
            log.error("contact.checkport.failed", error=repr(exc))
            return _detail(500, "Internal Server Error")


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes

    @property
    def closes(self) -> bool:
        """The client asked to close after this answer (or speaks HTTP/1.0)."""
        return self.headers.get("connection", "").lower() == "close" or self.version == "HTTP/1.0"


def take_request(buffer: bytearray) -> Request | bytes | None:
    """The next whole request, cut from the front of ``buffer``; or the bytes of a refusal
    (after which the connection closes); or None while the request is still arriving."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return _detail(431, "headers: too large", close=True) if len(buffer) > MAX_HEAD else None
    lines = buffer[:end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return _detail(404, "Not Found", close=True)
    if "transfer-encoding" in headers:
        return _detail(411, "content-length: required", close=True)
    length_text = headers.get("content-length", "0")
    if not ascii_digits(length_text) or int(length_text) > MAX_BODY:
        return _detail(413, f"body: larger than {MAX_BODY} bytes", close=True)
    length = int(length_text)
    if len(buffer) < end + 4 + length:
        return None
    body = bytes(buffer[end + 4 : end + 4 + length])
    del buffer[: end + 4 + length]
    return Request(parts[0], parts[1], parts[2], headers, body)


async def start(deps: CheckPortDeps, host: str, port: int) -> asyncio.Server:
    handler = CallCheckHandler(deps)
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: CheckProtocol(handler), host, port)


async def run(deps: CheckPortDeps, stop: asyncio.Event) -> None:
    port = os.environ.get(PORT_VARIABLE, "").strip()
    if not port:
        return
    host = os.environ.get(HOST_VARIABLE, "127.0.0.1")
    server = await start(deps, host, int(port))
    log.info("contact.checkport.listening", host=host, port=server.sockets[0].getsockname()[1])
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
