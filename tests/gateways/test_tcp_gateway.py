"""Real TCP sockets against the stream gateway: logins, acks byte for byte, fixes on the bus."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from tests.gateways.fitting import door_intake, fit_devices, quarantined
from vigil.bootstrap import Container
from vigil.bus.memory import InMemoryBus
from vigil.bus.model import Topic
from vigil.clock import FrozenClock
from vigil.gateways import gt06, registry
from vigil.gateways.directory import KnownDevices
from vigil.gateways.gt06_frame import response
from vigil.gateways.metrics import GatewayMetrics
from vigil.gateways.tcp import Limits, Network, StreamGateway, parse_networks
from vigil.tracking.model import Alarm, Fix

CLOCK = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
GT06_LOGIN = bytes.fromhex("78780D01012345678901234500018CDD0D0A")
GT06_POSITION = bytes.fromhex(
    "78781f120f0a140e150bc505e51e780293a9e800540000f601006e0055da00035f240d0a"
)
GT06_STRAP = bytes.fromhex(
    "7878251613020C12141AC5027951430C2A16F60014000900000000001A00007C550300020002F1E70D0A"
)
TELTONIKA_LOGIN = bytes.fromhex("000F313233343536373839303132333435")
TELTONIKA_AVL = bytes.fromhex(
    "000000000000004a08010000015ebc1da508002411926621f15246010b00b913005e000f06ef01f00150011505"
    "c800450108b5000bb6000642381b18005ecd0318ce19cd430f5844000001f1000061a900010000c8e1"
)


# The devices these tests' frames name, registered and fitted.
FITTED = ("123456789012345", "8800000015", "1234567890")


class Harness:
    def __init__(
        self,
        protocol: str,
        limits: Limits,
        register: Container,
        bus: InMemoryBus | None = None,
        fitted: tuple[str, ...] = FITTED,
        networks: tuple[Network, ...] = (),
    ) -> None:
        self.bus = bus or InMemoryBus()
        self.metrics = GatewayMetrics()
        self.received: list[Fix] = []
        self.bus.subscribe(Topic.FIXES, self._collect)
        intake, _keys = door_intake(self.bus, self.metrics, register, fitted)
        self.gateway = StreamGateway(
            registry.get(protocol), intake, CLOCK, limits, networks=networks
        )
        self.server: asyncio.Server | None = None

    async def _collect(self, batch: list[Fix]) -> None:
        self.received.extend(batch)

    async def start(self) -> int:
        self.server = await self.gateway.start("127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()
        await self.bus.close()


@pytest.fixture
async def gt06_gateway(register: Container) -> AsyncIterator[tuple[Harness, int]]:
    harness = Harness("gt06", Limits(idle_timeout_s=0.5), register)
    port = await harness.start()
    yield harness, port
    await harness.close()


async def _read_exactly(reader: asyncio.StreamReader, n: int) -> bytes:
    return await asyncio.wait_for(reader.readexactly(n), 2)


async def test_gt06_login_and_positions_sent_in_pieces_are_acked_and_published(
    gt06_gateway: tuple[Harness, int],
) -> None:
    harness, port = gt06_gateway
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    stream = b"\x00\xffjunk" + GT06_LOGIN + GT06_POSITION + GT06_STRAP
    for i in range(0, len(stream), 7):  # partial frames across reads
        writer.write(stream[i : i + 7])
        await writer.drain()
        await asyncio.sleep(0.001)
    login_ack = await _read_exactly(reader, 10)
    assert login_ack == response(False, 0x01, 0x0001)
    assert login_ack.hex() == "787805010001d9dc0d0a"
    position_ack = await _read_exactly(reader, 10)
    assert position_ack == response(False, 0x12, 0x0003)
    strap_ack = await _read_exactly(reader, 10)
    assert strap_ack == response(False, 0x16, 0x0002)
    writer.close()
    await harness.bus.drain()
    assert [f.device_id for f in harness.received] == ["123456789012345"] * 2
    first, strap = harness.received
    assert first.fix_time == datetime(2015, 10, 20, 14, 21, 11, tzinfo=UTC)
    assert (round(first.lat, 5), round(first.lon, 5), first.valid) == (54.94535, 24.01762, True)
    assert first.raw == GT06_POSITION.hex()
    assert first.receive_time == CLOCK.now()
    assert Alarm.STRAP_REMOVED in strap.alarms
    assert harness.metrics.get("gt06", "junk_bytes") == 6
    assert harness.metrics.get("gt06", "accepted") == 2


async def test_gt06_data_before_login_is_rejected_without_dropping_the_connection(
    gt06_gateway: tuple[Harness, int],
) -> None:
    harness, port = gt06_gateway
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(GT06_POSITION + b"\x78\x78\x03junk" + GT06_LOGIN)
    await writer.drain()
    assert await _read_exactly(reader, 10) == response(False, 0x01, 0x0001)
    writer.write(GT06_POSITION)
    assert await _read_exactly(reader, 10) == response(False, 0x12, 0x0003)
    writer.close()
    await harness.bus.drain()
    assert len(harness.received) == 1
    assert harness.metrics.rejections("gt06")["not_logged_in"] == 1


async def test_a_silent_connection_is_closed_after_the_idle_timeout(
    gt06_gateway: tuple[Harness, int],
) -> None:
    harness, port = gt06_gateway
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert await asyncio.wait_for(reader.read(10), 3) == b""  # closed by the server
    writer.close()
    assert harness.metrics.get("gt06", "idle_timeout") == 1


async def test_an_oversize_unframed_stream_is_cut_off_and_others_carry_on(
    register: Container,
) -> None:
    harness = Harness("watch", Limits(max_buffer=4096), register)
    port = await harness.start()
    try:
        _, bad = await asyncio.open_connection("127.0.0.1", port)
        good_reader, good = await asyncio.open_connection("127.0.0.1", port)
        bad.write(b"[3G*1234567890*FFFF*UD," + b"9" * 10_000)
        await bad.drain()
        good.write(b"[SG*8800000015*0002*LK]")
        await good.drain()
        assert await asyncio.wait_for(good_reader.read(100), 2) == b"[SG*8800000015*0002*LK]"
        await asyncio.sleep(0.05)
        assert harness.metrics.rejections("watch").get("oversize") == 1
        good.close()
        bad.close()
    finally:
        await harness.close()


async def test_a_flooding_connection_is_throttled(register: Container) -> None:
    harness = Harness("watch", Limits(max_frames_per_s=10, burst=50), register)
    port = await harness.start()
    try:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"[SG*8800000015*0002*LK]" * 500)
        await writer.drain()
        await asyncio.sleep(0.2)
        assert harness.metrics.rejections("watch")["flood"] >= 400
        writer.close()
    finally:
        await harness.close()


async def test_teltonika_login_and_avl_packet_are_acked_with_the_record_count(
    register: Container,
) -> None:
    harness = Harness("teltonika", Limits(), register)
    port = await harness.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(TELTONIKA_LOGIN)
        assert await _read_exactly(reader, 1) == b"\x01"
        writer.write(TELTONIKA_AVL[:20])
        await writer.drain()
        await asyncio.sleep(0.01)
        writer.write(TELTONIKA_AVL[20:] + b"\xff")
        assert await _read_exactly(reader, 4) == b"\x00\x00\x00\x01"
        writer.close()
        await harness.bus.drain()
        [fix] = harness.received
        assert fix.device_id == "123456789012345"
        # Record header: time 0x0000015EBC1DA508 ms, lon 0x24119266, lat 0x21F15246 (1e-7 deg).
        assert fix.fix_time == datetime.fromtimestamp(0x15EBC1DA508 / 1000, tz=UTC)
        assert (fix.lon, fix.lat) == (0x24119266 / 1e7, 0x21F15246 / 1e7)
        assert fix.satellites == 19
        assert fix.valid
        assert fix.attributes["codec"] == 8
        assert "crc_ok" not in fix.attributes
    finally:
        await harness.close()


async def test_teltonika_login_that_is_not_an_imei_is_refused_and_dropped(
    register: Container,
) -> None:
    harness = Harness("teltonika", Limits(), register)
    port = await harness.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"\x00\x05ab;cd")
        assert await _read_exactly(reader, 1) == b"\x00"
        assert await asyncio.wait_for(reader.read(1), 2) == b""
        writer.close()
        assert harness.metrics.rejections("teltonika")["login_refused"] == 1
    finally:
        await harness.close()


def _gt06_position(serial: int) -> bytes:
    body = GT06_POSITION[2:-6] + serial.to_bytes(2, "big")
    return b"\x78\x78" + body + gt06.crc16_x25(body).to_bytes(2, "big") + b"\r\n"


async def test_acks_follow_publication_in_order_when_the_bus_pushes_back(
    register: Container,
) -> None:
    # A bus queue of 2 and a slow subscriber: the gateway must wait for the bus before acking,
    # keep acks in frame order, and lose nothing.
    bus = InMemoryBus(max_queue=2)
    slow: list[Fix] = []

    async def slow_engine(batch: list[Fix]) -> None:
        await asyncio.sleep(0.002)
        slow.extend(batch)

    bus.subscribe(Topic.FIXES, slow_engine)
    harness = Harness("gt06", Limits(max_pending_reads=2), register, bus)
    port = await harness.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(GT06_LOGIN)
        await _read_exactly(reader, 10)
        frames = [_gt06_position(serial) for serial in range(1, 61)]
        for i in range(0, 60, 3):  # several reads in flight while the bus is full
            writer.write(b"".join(frames[i : i + 3]))
            await writer.drain()
        acks = [await _read_exactly(reader, 10) for _ in range(60)]
        assert acks == [response(False, 0x12, serial) for serial in range(1, 61)]
        # Every ack was sent after its fix was handed to the bus.
        assert harness.metrics.get("gt06", "accepted") == 60
        writer.close()
        await harness.bus.drain()
        assert [f.raw for f in slow] == [frame.hex() for frame in frames]
    finally:
        await harness.close()


class _UnreachableBus(InMemoryBus):
    """A bus whose broker has gone away: every publish fails."""

    async def publish(self, topic: Topic, messages: list[Fix], key: str | None = None) -> None:
        raise ConnectionError("broker unreachable")


async def test_fixes_the_bus_refuses_are_not_acknowledged_and_the_device_is_dropped(
    register: Container,
) -> None:
    harness = Harness("gt06", Limits(), register, _UnreachableBus())
    port = await harness.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(GT06_LOGIN)
        assert await _read_exactly(reader, 10) == response(False, 0x01, 0x0001)
        writer.write(GT06_POSITION)
        # No ack for the position: the connection is closed so the device keeps and resends it.
        assert await asyncio.wait_for(reader.read(100), 2) == b""
        writer.close()
        assert harness.metrics.get("gt06", "accepted") == 0
    finally:
        await harness.close()


async def test_a_tag_that_is_not_registered_is_not_acknowledged_and_its_login_is_kept(
    register: Container,
) -> None:
    harness = Harness("teltonika", Limits(), register, fitted=("356938035643809",))
    port = await harness.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(TELTONIKA_LOGIN + TELTONIKA_AVL)
        # No login answer, no record count: the tag keeps its records and the line is closed.
        assert await asyncio.wait_for(reader.read(10), 2) == b""
        writer.close()
        await harness.bus.drain()
        assert harness.received == []
        assert harness.metrics.rejections("teltonika") == {"unknown_device": 1}
        assert quarantined(register) == [("teltonika", "123456789012345", "unknown_device")]
    finally:
        await harness.close()


async def test_records_from_before_a_tag_was_fitted_are_kept_aside_then_acknowledged(
    register: Container,
) -> None:
    # The GT06 position is from 2015; this tag was fitted to its wearer only in 2026.
    harness = Harness("gt06", Limits(), register, fitted=())
    fit_devices(register, ["123456789012345"], fitted_at=datetime(2026, 1, 1, tzinfo=UTC))
    with register.uow() as uow:
        harness.gateway.intake.devices = KnownDevices.load(uow)
    port = await harness.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(GT06_LOGIN)
        assert await _read_exactly(reader, 10) == response(False, 0x01, 0x0001)
        writer.write(GT06_POSITION)
        # Acknowledged once kept in quarantine, so the tag does not send it for ever.
        assert await _read_exactly(reader, 10) == response(False, 0x12, 0x0003)
        writer.close()
        await harness.bus.drain()
        assert harness.received == []
        assert quarantined(register) == [("gt06", "123456789012345", "not_allocated")]
    finally:
        await harness.close()


@pytest.mark.parametrize(
    ("networks", "answered"), [("10.64.0.0/10", False), ("10.64.0.0/10, 127.0.0.0/8", True)]
)
async def test_only_the_tags_network_may_connect_where_one_is_set(
    register: Container, networks: str, answered: bool
) -> None:
    harness = Harness("teltonika", Limits(), register, networks=parse_networks(networks))
    port = await harness.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(TELTONIKA_LOGIN)
        answer = await asyncio.wait_for(reader.read(1), 2)
        writer.close()
        assert answer == (b"\x01" if answered else b"")
        refused = harness.metrics.rejections("teltonika").get("network_refused", 0)
        assert refused == (0 if answered else 1)
    finally:
        await harness.close()


def test_a_mistyped_network_is_named() -> None:
    with pytest.raises(ValueError, match=r"10\.0\.0\.300"):
        parse_networks("10.0.0.0/8, 10.0.0.300")
