"""The OsmAnd port over raw sockets: pipelining, split bodies, limits and timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from tests.gateways.fitting import door_intake, quarantined
from vigil.bootstrap import Container
from vigil.bus.memory import InMemoryBus
from vigil.bus.model import Topic
from vigil.clock import FrozenClock
from vigil.gateways.http_door import OSMAND, HttpDoor
from vigil.gateways.metrics import GatewayMetrics
from vigil.tracking.model import Fix

CLOCK = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


@dataclass
class Port:
    number: int
    bus: InMemoryBus
    metrics: GatewayMetrics
    received: list[Fix]
    keys: dict[str, str]


@pytest.fixture
async def port(register: Container) -> AsyncIterator[Port]:
    bus = InMemoryBus()
    received: list[Fix] = []

    async def handler(batch: list[Fix]) -> None:
        received.extend(batch)

    bus.subscribe(Topic.FIXES, handler)
    metrics = GatewayMetrics()
    intake, keys = door_intake(bus, metrics, register, FITTED)
    server = await HttpDoor(OSMAND, intake, CLOCK, idle_timeout_s=0.3).start("127.0.0.1", 0)
    yield Port(server.sockets[0].getsockname()[1], bus, metrics, received, keys)
    server.close()
    await server.wait_closed()
    await bus.close()


FITTED = [*(f"dev{i}" for i in range(5)), "devx", "devf", "last", "split"]


def _get(query: str, key: str = "") -> bytes:
    return f"GET /{key}?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode()


async def _read_all(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.read(), 2)


async def test_pipelined_requests_are_answered_in_order_and_published_in_order(port: Port) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port.number)
    keys = port.keys
    good = [
        _get(f"id=dev{i}&lat=51.{i}&lon=-0.1&timestamp=1767225000", keys[f"dev{i}"])
        for i in range(5)
    ]
    bad = _get("id=devx&lat=north&lon=-0.1", keys["devx"])
    # Years ahead of the clock:
    future = _get("id=devf&lat=51&lon=0&timestamp=1799999999", keys["devf"])
    closing = (
        f"GET /{keys['last']}?id=last&lat=1&lon=2 HTTP/1.1\r\nConnection: close\r\n\r\n"
    ).encode()
    writer.write(good[0] + good[1] + bad + good[2] + future + good[3] + good[4] + closing)
    answers = (await _read_all(reader)).split(b"HTTP/1.1 ")[1:]
    writer.close()
    assert [a[:3] for a in answers] == [
        b"200",
        b"200",
        b"400",
        b"200",
        b"400",
        b"200",
        b"200",
        b"200",
    ]
    assert answers[2].endswith(b"lat: 'north' is not a number")
    assert answers[4].endswith(b"fix: rejected (see gateway metrics)")
    await port.bus.drain()
    assert [f.device_id for f in port.received] == ["dev0", "dev1", "dev2", "dev3", "dev4", "last"]
    assert port.metrics.rejections("osmand") == {"malformed": 1, "future_time": 1}


async def test_a_post_body_split_across_packets_is_awaited(port: Port) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port.number)
    body = b"id=split&lat=10.5&lon=20.25"
    head = (
        b"POST /"
        + port.keys["split"].encode()
        + b" HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
    )
    for piece in (head[:10], head[10:] + body[:5], body[5:]):
        writer.write(piece)
        await writer.drain()
        await asyncio.sleep(0.01)
    assert await _read_all(reader) == OK
    writer.close()
    await port.bus.drain()
    [fix] = port.received
    assert (fix.device_id, fix.lat, fix.lon) == ("split", 10.5, 20.25)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"BREW / HTTP/1.1\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nid=1&\r\n0\r\n\r\n", b"411"),
        (b"POST / HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n", b"413"),
        # A superscript digit is a digit to str.isdigit, not to int.
        (b"POST / HTTP/1.1\r\nContent-Length: \xb3\r\n\r\n", b"400"),
        (b"GET /?" + b"a" * 20_000, b"431"),
    ],
)
async def test_bad_requests_get_a_status_and_the_connection_is_closed(
    port: Port, request_bytes: bytes, status: bytes
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port.number)
    writer.write(request_bytes)
    answer = await _read_all(reader)  # read() returning means the server closed
    writer.close()
    assert answer.startswith(b"HTTP/1.1 " + status)
    assert port.received == []


async def test_a_silent_connection_is_closed_after_the_idle_timeout(port: Port) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port.number)
    writer.write(b"GET /?id=1&lat=1&lon=1 HTTP/1.1\r\n")  # half a head, then silence
    assert await _read_all(reader) == b""
    writer.close()


async def test_a_report_without_the_device_key_is_refused_and_kept(
    port: Port, register: Container
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port.number)
    query = "id=dev0&lat=52.4&lon=-1.9&timestamp=1767225000"
    no_key = _get(query)
    someone_elses = _get(query, port.keys["dev1"])
    made_up = _get(query, "not-a-key")
    writer.write(no_key + someone_elses + made_up + _get(query, port.keys["dev0"]))
    writer.write_eof()
    answers = (await _read_all(reader)).split(b"HTTP/1.1 ")[1:]
    writer.close()
    assert [a[:3] for a in answers] == [b"401", b"401", b"401", b"200"]
    await port.bus.drain()
    assert len(port.received) == 1
    assert port.metrics.rejections("osmand") == {"bad_device_key": 3}
    assert quarantined(register) == [("osmand", "dev0", "bad_device_key")] * 3
