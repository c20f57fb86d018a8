"""Real local receivers for the channel tests: an SMTP server (aiosmtpd), an HTTP webhook
receiver and a stand-in for the GOV.UK Notify API (standard-library HTTP servers on loopback).

Each records what arrived and drops repeated idempotency keys, as a real receiver should.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """Answers ``status`` (or the next of ``script``) after ``delay`` seconds; records requests."""

    status: int = 200
    script: list[int] = field(default_factory=list)
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    response_body: bytes = b"{}"
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    # Start times of requests received and not yet answered (a sender killed now has them in
    # flight).
    open_since: list[float] = field(default_factory=list)

    def has_fresh_open_request(self, younger_than: float) -> bool:
        with self.lock:
            return any(time.monotonic() - started < younger_than for started in self.open_since)

    def accepted_keys(self, header: str = "idempotency-key") -> list[str]:
        """Keys of requests answered 2xx, first arrival only (receivers drop duplicates)."""
        seen: list[str] = []
        for request in self.requests:
            key = request.headers.get(header, "")
            if key and key not in seen:
                seen.append(key)
        return seen


@contextmanager
def http_receiver(receiver: HttpReceiver) -> Iterator[HttpReceiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            started = time.monotonic()
            with receiver.lock:
                receiver.open_since.append(started)
            if receiver.delay:
                time.sleep(receiver.delay)
            with receiver.lock:
                receiver.open_since.remove(started)
                status = receiver.script.pop(0) if receiver.script else receiver.status
                if 200 <= status < 300:
                    receiver.requests.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(receiver.response_body)))
            self.end_headers()
            self.wfile.write(receiver.response_body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


NOTIFY_RESPONSE = json.dumps(
    {
        "id": "740e5834-3a29-46b4-9a6f-16142fde533a",
        "reference": None,
        "content": {"body": "sent", "from_number": "Vigil"},
        "uri": "https://api.notifications.service.gov.uk/v2/notifications/740e5834",
        "template": {"id": "f33517ff-2a88-4f6e-b855-c550268ce08a", "version": 1, "uri": ""},
    }
).encode()
# A key in Notify's format: name, service id (36 chars), secret (36 chars).
NOTIFY_SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
NOTIFY_SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
NOTIFY_API_KEY = f"vigil_test-{NOTIFY_SERVICE_ID}-{NOTIFY_SECRET}"
NOTIFY_TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"


@dataclass
class SmtpReceiver:
    messages: list[EmailMessage] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    refuse: set[str] = field(default_factory=set)

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        message = message_from_bytes(content)
        # Receivers drop duplicates by Message-ID, as mail systems do.
        if str(message["Message-ID"]) not in self.message_ids():
            self.messages.append(message)
        return "250 Message accepted for delivery"


@contextmanager
def smtp_receiver(receiver: SmtpReceiver | None = None) -> Iterator[SmtpReceiver]:
    receiver = receiver or SmtpReceiver()
    receiver.port = free_port()
    controller = Controller(receiver, hostname="127.0.0.1", port=receiver.port)
    controller.start()
    try:
        yield receiver
    finally:
        controller.stop()
