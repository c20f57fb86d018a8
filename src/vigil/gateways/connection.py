"""What the gateway servers share: an ``asyncio.Protocol`` that decodes as bytes arrive and hands
fixes to the bus before it answers the device.

Decoding runs straight from ``data_received`` (no task switch, no per-read timeout object); what
one read produced goes to the bus in one publish. Only the publish is awaited, in one task per
connection that keeps publishes and answers in arrival order, so an answer always means the
fixes before it were handed on. While that task lags, or the peer does not read its answers,
the connection stops reading (backpressure rather than an unbounded queue). A connection silent
for the idle timeout is closed; time spent waiting on the bus does not count as silence.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import cast

from vigil.gateways.intake import Intake, Screened
from vigil.logs import get_logger

log = get_logger(__name__)

# One read's worth: fixes already screened (and refusals to keep), the answers owed after them,
# hang up afterwards?
Batch = tuple[Screened, bytes, bool]


class PublishingConnection(asyncio.Protocol):
    def __init__(self, name: str, intake: Intake, idle_timeout_s: float, max_pending: int) -> None:
        self.name = name
        self.intake = intake
        self.idle_timeout_s = idle_timeout_s
        self.max_pending = max_pending
        self.peer = ""
        self.peer_host = ""
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()
        self.last_read = self.loop.time()
        self.idle_timer: asyncio.TimerHandle | None = None
        self.pending: deque[Batch] = deque()
        self.flusher: asyncio.Task[None] | None = None
        self.closed = False
        self.write_paused = False
        self.read_paused = False

    # -- what a server adds --------------------------------------------------------------------

    def received(self, data: bytes) -> None:
        raise NotImplementedError

    def opened(self) -> None:
        """The connection is up (count it, say hello)."""

    def lost(self) -> None:
        """The connection is gone."""

    def timed_out(self) -> None:
        """Called once before an idle connection is closed."""

    # -- transport callbacks -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        info = transport.get_extra_info("peername")
        is_pair = isinstance(info, tuple) and len(info) >= 2
        self.peer = f"{info[0]}:{info[1]}" if is_pair else str(info)
        self.peer_host = str(info[0]) if is_pair else ""
        self.idle_timer = self.loop.call_later(self.idle_timeout_s, self._check_idle)
        self.opened()

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            log.info("gateway.connection_lost", protocol=self.name, peer=self.peer, error=repr(exc))
        self.closed = True
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        # Fixes already decoded are still published by the flusher; only their answers are lost.
        self.lost()

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        self.last_read = self.loop.time()
        self.received(data)

    def eof_received(self) -> bool | None:
        # The peer sent all it will: answer what is owed, then close (the flusher does).
        if self.flusher is None:
            return None
        self.closed = True
        self.pending.append((Screened(), b"", True))
        return True

    def pause_writing(self) -> None:
        self.write_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        self._update_reading()

    # -- handing on ----------------------------------------------------------------------------

    def send(self, screened: Screened, reply: bytes, close: bool) -> None:
        """Publish fixes and keep refusals (already screened), then write ``reply``, after all
        sent before."""
        if not screened and self.flusher is None:
            self._answer(reply, close)  # nothing to wait for: answer at once
            return
        self.pending.append((screened, reply, close))
        if close:
            self.closed = True  # read nothing more; the flusher hangs up after the answers
        if self.flusher is None:
            self.flusher = self.loop.create_task(self._flush())
        self._update_reading()

    async def _flush(self) -> None:
        pending = self.pending
        try:
            while pending:
                screened, reply, close = pending.popleft()
                if screened:
                    await self.intake.hand_on(self.name, screened)
                self._answer(reply, close)
                self._update_reading()
        # The bus or the database failed: hang up unanswered, so the device sends again.
        except Exception:
            log.exception("gateway.publish_failed", protocol=self.name, peer=self.peer)
            pending.clear()
            self.close()
        finally:
            self.flusher = None

    def _answer(self, reply: bytes, close: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if reply:
            transport.write(reply)
        if close:
            self.close()

    def _update_reading(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        pause = self.write_paused or len(self.pending) >= self.max_pending
        if pause and not self.read_paused:
            transport.pause_reading()
            self.read_paused = True
        elif not pause and self.read_paused:
            transport.resume_reading()
            self.read_paused = False
            self.last_read = self.loop.time()  # time spent paused is ours, not the peer's

    def _check_idle(self) -> None:
        if self.closed:
            return
        timeout = self.idle_timeout_s
        silent = self.loop.time() - self.last_read
        if silent < timeout or self.flusher is not None or self.read_paused:
            wait = timeout - silent if silent < timeout else timeout
            self.idle_timer = self.loop.call_later(wait, self._check_idle)
            return
        self.timed_out()
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()
