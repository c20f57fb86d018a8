"""The asyncio TCP server for stream protocols (Teltonika, GT06, watch).

Per connection: frames are cut from the stream (partial frames wait for the next read, several
frames in one read are all handled, leading junk is skipped and counted), decoded, the fixes
published to the bus, and only then the device acknowledged — an acknowledgement means the fix
was handed on, so a device never deletes a record we did not take. A silent connection is
closed after the idle timeout; a connection that floods is throttled then closed; a bad frame
is counted and logged and the connection carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

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
    read_size: int = 64 * 1024


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
        return await asyncio.start_server(self.handle, host, port, limit=self.limits.read_size)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        name = self.protocol.name
        metrics = self.intake.metrics
        peer = _peer(writer)
        session = Session(name)
        buffer = bytearray()
        split = self.protocol.split_frames
        assert split is not None
        decode = self.protocol.decode
        limits = self.limits
        tokens = float(limits.burst)
        last = time.monotonic()
        self.connections += 1
        metrics.count(name, "connection_opened")
        try:
            while True:
                try:
                    data = await asyncio.wait_for(
                        reader.read(limits.read_size), limits.idle_timeout_s
                    )
                except TimeoutError:
                    metrics.count(name, "idle_timeout")
                    log.info(
                        "gateway.idle_timeout", protocol=name, peer=peer, device=session.device_id
                    )
                    return
                if not data:
                    return
                buffer += data
                frames, junk = split(buffer)
                if junk:
                    metrics.count(name, "junk_bytes", n=junk)
                if len(buffer) > limits.max_buffer:
                    self.intake.rejected(
                        name, "oversize", f"{len(buffer)} bytes without a frame", peer
                    )
                    return
                if not frames:
                    continue
                now_m = time.monotonic()
                tokens = min(limits.burst, tokens + (now_m - last) * limits.max_frames_per_s)
                last = now_m
                if len(frames) > tokens:
                    dropped = len(frames) - int(tokens)
                    self.intake.rejected(name, "flood", f"{dropped} frames over the limit", peer)
                    metrics.rejected(name, "flood", dropped - 1)
                    if tokens < 1:
                        return  # still flooding after the bucket emptied: hang up
                    frames = frames[: int(tokens)]
                tokens -= len(frames)
                now = self.clock.now()
                fixes: list[Fix] = []
                replies: list[bytes] = []
                close = False
                for frame in frames:
                    try:
                        decoded = decode(frame, session, now)
                    except DecodeError as exc:
                        self.intake.rejected(
                            name, exc.reason, f"{exc.detail} [{frame[:64].hex()}]", peer
                        )
                        continue
                    except Exception:  # a decoder bug must not take the connection down
                        metrics.rejected(name, "decoder_error")
                        log.exception(
                            "gateway.decoder_error", protocol=name, frame=frame[:256].hex()
                        )
                        continue
                    if decoded.login:
                        log.info("gateway.login", protocol=name, device=decoded.login, peer=peer)
                    if not decoded.crc_ok:
                        metrics.count(name, "crc_mismatch")
                    fixes.extend(decoded.fixes)
                    if decoded.reply:
                        replies.append(decoded.reply)
                    if decoded.close:
                        metrics.rejected(name, "login_refused")
                        close = True
                        break
                if fixes:
                    await self.intake.publish(name, fixes)
                if replies:
                    writer.write(b"".join(replies))
                    await writer.drain()
                if close:
                    return
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("gateway.connection_lost", protocol=name, peer=peer, error=repr(exc))
        finally:
            self.connections -= 1
            metrics.count(name, "connection_closed")
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()


def _peer(writer: asyncio.StreamWriter) -> str:
    info = writer.get_extra_info("peername")
    if isinstance(info, tuple) and len(info) >= 2:
        return f"{info[0]}:{info[1]}"
    return str(info)
