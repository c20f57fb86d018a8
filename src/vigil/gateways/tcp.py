"""The asyncio TCP server for stream protocols (Teltonika, GT06, watch).

Per connection: frames are cut from the stream (partial frames wait for the next read, several
frames in one read are all handled, leading junk is skipped and counted), decoded, the fixes
published to the bus, and only then the device acknowledged — an acknowledgement means the fix
was handed on, so a device never deletes a record we did not take. A silent connection is
closed after the idle timeout; a connection that floods is throttled then closed; a bad frame
is counted and logged and the connection carries on. The connection machinery (decode on
arrival, one publish per read, acks in order after the publish, backpressure, idle timeout) is
``connection.PublishingConnection``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass
from datetime import datetime

from vigil.clock import Clock
from vigil.gateways import commands as device_commands
from vigil.gateways.connection import PublishingConnection
from vigil.gateways.directory import UNKNOWN_DEVICE
from vigil.gateways.intake import Intake, Screened
from vigil.gateways.model import Decoded, DecodeError, Session
from vigil.gateways.quarantine import Refused
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


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """``"10.64.0.0/10, 192.0.2.7"`` → networks; empty means any address may connect."""
    networks = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"gateway_tcp_allowed_networks: {item!r} is not a network") from exc
    return tuple(networks)


def allowed(host: str, networks: tuple[Network, ...]) -> bool:
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


class StreamGateway:
    def __init__(
        self,
        protocol: Protocol,
        intake: Intake,
        clock: Clock,
        limits: Limits,
        commands: device_commands.CommandQueue | None = None,
        networks: tuple[Network, ...] = (),
    ) -> None:
        if protocol.split_frames is None:
            raise ValueError(f"{protocol.name} is not a stream protocol")
        self.protocol = protocol
        self.intake = intake
        self.clock = clock
        self.limits = limits
        # The TCP protocols carry only an IMEI, which is printed on the tag: where the tags'
        # network is known (the operator's APN), only it may connect.
        self.networks = networks
        self.connections = 0
        # Reporting commands ride on the connection the device holds open (docs/engine.md).
        self.commands = commands

    async def start(self, host: str, port: int) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        return await loop.create_server(lambda: _Connection(self), host, port)


class _Connection(PublishingConnection):
    def __init__(self, gateway: StreamGateway) -> None:
        protocol = gateway.protocol
        assert protocol.split_frames is not None
        limits = gateway.limits
        super().__init__(
            protocol.name, gateway.intake, limits.idle_timeout_s, limits.max_pending_reads
        )
        self.gateway = gateway
        self.split = protocol.split_frames
        self.decode = protocol.decode
        self.metrics = gateway.intake.metrics
        self.limits = limits
        self.session = Session(protocol.name)
        self.buffer = bytearray()
        self.tokens = float(limits.burst)
        self.last_refill = time.monotonic()

    def opened(self) -> None:
        self.gateway.connections += 1
        self.metrics.count(self.name, "connection_opened")
        if not allowed(self.peer_host, self.gateway.networks):
            self.intake.rejected(self.name, "network_refused", "not an allowed network", self.peer)
            self.close()

    def lost(self) -> None:
        self.gateway.connections -= 1
        self.metrics.count(self.name, "connection_closed")

    def timed_out(self) -> None:
        self.metrics.count(self.name, "idle_timeout")
        log.info(
            "gateway.idle_timeout",
            protocol=self.name,
            peer=self.peer,
            device=self.session.device_id,
        )

    def received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        name = self.name
        try:
            frames, junk = self.split(buffer)
        except Exception:  # a framer bug must not take the gateway down; this stream is lost
            self.metrics.rejected(name, "decoder_error")
            log.exception("gateway.framer_error", protocol=name, data=bytes(buffer[:256]).hex())
            self.close()
            return
        if junk:
            self.metrics.count(name, "junk_bytes", n=junk)
        limits = self.limits
        if len(buffer) > limits.max_buffer:
            self.intake.rejected(
                name, "oversize", f"{len(buffer)} bytes without a frame", self.peer
            )
            self.close()
            return
        if not frames:
            return
        frames = self._within_rate(frames)
        if not frames:
            return
        fixes, reply, close, refused = self._decode(frames)
        screened = self.intake.screen(name, fixes) if fixes else Screened()
        self.send(Screened(screened.good, screened.held + refused), reply, close)

    def _within_rate(self, frames: list[bytes]) -> list[bytes]:
        """The frames the token bucket allows; the rest are counted and reported as a flood.
        Still flooding once the bucket is empty: hang up, and nothing is decoded."""
        limits, name = self.limits, self.name
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
                self.close()
                return []
            frames = frames[: int(tokens)]
        self.tokens = tokens - len(frames)
        return frames

    def _decode(self, frames: list[bytes]) -> tuple[list[Fix], bytes, bool, list[Refused]]:
        name, session = self.name, self.session
        now = self.gateway.clock.now()
        fixes: list[Fix] = []
        replies: list[bytes] = []
        refused: list[Refused] = []
        close = False
        commands = self.gateway.commands
        for frame in frames:
            if commands is not None and device_commands.answered(
                commands, name, session, frame, now
            ):
                continue
            decoded = self._decode_one(frame, now)
            if decoded is None:
                continue
            if decoded.login and not self._knows(decoded.login, frame, now, refused):
                close = True
                break
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
        if commands is not None and not close:
            replies.append(device_commands.outgoing(commands, name, session, now))
        return fixes, b"".join(replies), close, refused

    def _decode_one(self, frame: bytes, now: datetime) -> Decoded | None:
        """One frame decoded, or None when it is refused (and reported) as it stands."""
        try:
            return self.decode(frame, self.session, now)
        except DecodeError as exc:
            self.intake.rejected(
                self.name, exc.reason, f"{exc.detail} [{frame[:64].hex()}]", self.peer
            )
        except Exception:  # a decoder bug must not take the connection down
            self.metrics.rejected(self.name, "decoder_error")
            log.exception("gateway.decoder_error", protocol=self.name, frame=frame[:256].hex())
        return None

    def _knows(self, login: str, frame: bytes, now: datetime, refused: list[Refused]) -> bool:
        if not self.intake.devices.knows(login):
            # Not acknowledged: an unregistered tag keeps its records and is found in the
            # quarantine, where its login frame waits for someone to register it.
            attempt = Refused(now, self.name, login, UNKNOWN_DEVICE, None, frame.hex())
            refused += self.intake.refuse_login(self.name, attempt, self.peer).held
            return False
        log.info("gateway.login", protocol=self.name, device=login, peer=self.peer)
        return True
