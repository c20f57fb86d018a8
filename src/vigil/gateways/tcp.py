"""The asyncio TCP server for stream protocols (Teltonika, GT06, watch).

Per connection: frames are cut from the stream (partial frames wait for the next read, several
frames in one read are all handled, leading junk is skipped and counted), decoded, the fixes
published to the bus, and only then the device acknowledged — an acknowledgement means the fix
was handed on, so a device never deletes a record we did not take. A silent connection is
closed after the idle timeout; a connection that floods is throttled then closed; a bad frame
is counted and logged and the connection carries on.

It is an ``asyncio.Protocol`` rather than a stream reader/writer pair: cutting and decoding run
straight from ``data_received`` with no task switch or per-read timeout object, and everything a
read produced goes to the bus in one publish. Only the publish itself is awaited, in one task per
connection that keeps publishes and acknowledgements in arrival order; while it lags, reading
from that connection pauses (backpressure instead of an unbounded queue).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import cast

from vigil.clock import Clock
from vigil.gateways.intake import Intake
from vigil.gateways.model import DecodeError, Session
from vigil.gateways.registry import Protocol
from vigil.logs import get_logger
from vigil.tracking.model import Fix

log = get_logger(__name__)


@dataclass(frozen=True)
class Limits:
    idle_timeout_s: float = 600.0
    # Unframed bytes a connection may hold; more means garbage or an attack, not a device.
    max_buffer: int = 256 * 1024
    # Frames per second a single device may send, averaged over ``burst`` frames.
    max_frames_per_s: float = 2_000.0
    burst: int = 20_000
    # Reads decoded but not yet handed to the bus before the connection stops reading.
    max_pending_reads: int = 8


class StreamGateway:
    def __init__(self, protocol: Protocol, intake: Intake, clock: Clock, limits: Limits) -> None:
        if protocol.split_frames is None:
            raise ValueError(f"{protocol.name} is not a stream protocol")
        self.protocol = protocol
        self.intake = intake
        self.clock = clock
        self.limits = limits
        self.connections = 0

    async def start(self, host: str, port: int) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        return await loop.create_server(lambda: _Connection(self), host, port)


# One decoded read: its fixes, the replies owed for it, and whether to hang up afterwards.
_Batch = tuple[list[Fix], bytes, bool]


class _Connection(asyncio.Protocol):
    def __init__(self, gateway: StreamGateway) -> None:
        protocol = gateway.protocol
        assert protocol.split_frames is not None
        self.gateway = gateway
        self.name = protocol.name
        self.split = protocol.split_frames
        self.decode = protocol.decode
        self.intake = gateway.intake
        self.metrics = gateway.intake.metrics
        self.limits = gateway.limits
        self.session = Session(protocol.name)
        self.buffer = bytearray()
        self.tokens = float(gateway.limits.burst)
        self.last_refill = time.monotonic()
        self.peer = ""
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()
        self.last_read = self.loop.time()
        self.idle_timer: asyncio.TimerHandle | None = None
        self.pending: deque[_Batch] = deque()
        self.flusher: asyncio.Task[None] | None = None
        self.closed = False
        self.write_paused = False
        self.read_paused = False

    # -- transport callbacks -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        self.peer = _peer(self.transport)
        self.gateway.connections += 1
        self.metrics.count(self.name, "connection_opened")
        self.idle_timer = self.loop.call_later(self.limits.idle_timeout_s, self._check_idle)

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            log.info("gateway.connection_lost", protocol=self.name, peer=self.peer, error=repr(exc))
        self.closed = True
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        self.gateway.connections -= 1
        self.metrics.count(self.name, "connection_closed")
        # Fixes already decoded are still published by the flusher; only their acks are lost.

    def pause_writing(self) -> None:
        self.write_paused = True  # the device is not reading its acks: stop reading from it
        self._update_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        self._update_reading()

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        self.last_read = self.loop.time()
        buffer = self.buffer
        buffer += data
        name = self.name
        try:
            frames, junk = self.split(buffer)
        except Exception:  # a framer bug must not take the gateway down; this stream is lost
            self.metrics.rejected(name, "decoder_error")
            log.exception("gateway.framer_error", protocol=name, data=bytes(buffer[:256]).hex())
            self._close()
            return
        if junk:
            self.metrics.count(name, "junk_bytes", n=junk)
        limits = self.limits
        if len(buffer) > limits.max_buffer:
            self.intake.rejected(
                name, "oversize", f"{len(buffer)} bytes without a frame", self.peer
            )
            self._close()
            return
        if not frames:
            return
        now_m = time.monotonic()
        tokens = min(
            limits.burst, self.tokens + (now_m - self.last_refill) * limits.max_frames_per_s
        )
        self.last_refill = now_m
        if len(frames) > tokens:
            dropped = len(frames) - int(tokens)
            self.intake.rejected(name, "flood", f"{dropped} frames over the limit", self.peer)
            self.metrics.rejected(name, "flood", dropped - 1)
            if tokens < 1:
                self.tokens = tokens
                self._close()  # still flooding after the bucket emptied: hang up
                return
            frames = frames[: int(tokens)]
        self.tokens = tokens - len(frames)
        self._queue(self._decode(frames))

    # -- decoding and handing on ---------------------------------------------------------------

    def _decode(self, frames: list[bytes]) -> _Batch:
        name, decode, session = self.name, self.decode, self.session
        now = self.gateway.clock.now()
        fixes: list[Fix] = []
        replies: list[bytes] = []
        close = False
        for frame in frames:
            try:
                decoded = decode(frame, session, now)
            except DecodeError as exc:
                self.intake.rejected(
                    name, exc.reason, f"{exc.detail} [{frame[:64].hex()}]", self.peer
                )
                continue
            except Exception:  # a decoder bug must not take the connection down
                self.metrics.rejected(name, "decoder_error")
                log.exception("gateway.decoder_error", protocol=name, frame=frame[:256].hex())
                continue
            if decoded.login:
                log.info("gateway.login", protocol=name, device=decoded.login, peer=self.peer)
            if not decoded.crc_ok:
                self.metrics.count(name, "crc_mismatch")
            if decoded.fixes:
                fixes.extend(decoded.fixes)
            if decoded.reply:
                replies.append(decoded.reply)
            if decoded.close:
                self.metrics.rejected(name, "login_refused")
                close = True
                break
        return fixes, b"".join(replies), close

    def _queue(self, batch: _Batch) -> None:
        fixes, reply, close = batch
        if not fixes and self.flusher is None:
            # Nothing to publish and nothing ahead of it: answer at once (logins, heartbeats).
            self._answer(reply, close)
            return
        self.pending.append(batch)
        if close:
            self.closed = True  # read nothing more; the flusher hangs up after the acks
        if self.flusher is None:
            self.flusher = self.loop.create_task(self._flush())
        self._update_reading()

    async def _flush(self) -> None:
        pending = self.pending
        try:
            while pending:
                fixes, reply, close = pending.popleft()
                if fixes:
                    await self.intake.publish(self.name, fixes)
                self._answer(reply, close)
                self._update_reading()
        except Exception:  # the bus failed: hang up unacknowledged, so the device sends again
            log.exception("gateway.publish_failed", protocol=self.name, peer=self.peer)
            pending.clear()
            self._close()
        finally:
            self.flusher = None

    def _answer(self, reply: bytes, close: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if reply:
            transport.write(reply)
        if close:
            self._close()

    def _update_reading(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        pause = self.write_paused or len(self.pending) >= self.limits.max_pending_reads
        if pause and not self.read_paused:
            transport.pause_reading()
            self.read_paused = True
        elif not pause and self.read_paused:
            transport.resume_reading()
            self.read_paused = False
            self.last_read = self.loop.time()  # time spent paused is ours, not the device's

    def _check_idle(self) -> None:
        if self.closed:
            return
        timeout = self.limits.idle_timeout_s
        silent = self.loop.time() - self.last_read
        if silent < timeout or self.flusher is not None or self.read_paused:
            wait = timeout - silent if silent < timeout else timeout
            self.idle_timer = self.loop.call_later(wait, self._check_idle)
            return
        self.metrics.count(self.name, "idle_timeout")
        log.info(
            "gateway.idle_timeout",
            protocol=self.name,
            peer=self.peer,
            device=self.session.device_id,
        )
        self._close()

    def _close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _peer(transport: asyncio.BaseTransport) -> str:
    info = transport.get_extra_info("peername")
    if isinstance(info, tuple) and len(info) >= 2:
        return f"{info[0]}:{info[1]}"
    return str(info)
