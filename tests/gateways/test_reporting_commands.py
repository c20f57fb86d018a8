"""Reporting commands in each protocol's own words, and their queue (queued, sent, answered).

The Teltonika frame is checked against the Codec 12 example Teltonika publishes ("getinfo");
OwnTracks commands against the OwnTracks JSON Schema in tests/fixtures/owntracks (MIT).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import aiomqtt
import jsonschema

from tests.conftest import FIXTURES, require_service
from tests.gateways.fitting import door_intake
from tests.gateways.test_http_and_mqtt import CLOCK, _mqtt_up
from tests.gateways.test_tcp_gateway import TELTONIKA_AVL, TELTONIKA_LOGIN, Harness, _read_exactly
from vigil.bootstrap import Container
from vigil.bus.memory import InMemoryBus
from vigil.gateways.binary import crc16_ibm, crc16_x25
from vigil.gateways.command_words import (
    gt06_answer,
    gt06_frame,
    owntracks_commands_json,
    teltonika_answer,
    teltonika_frame,
    teltonika_text,
)
from vigil.gateways.commands import CommandQueue, CommandState
from vigil.gateways.metrics import GatewayMetrics
from vigil.gateways.mqtt import run_subscriber
from vigil.gateways.tcp import Limits

NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def test_a_codec_12_command_matches_the_published_getinfo_example() -> None:
    expected = "000000000000000F0C010500000007676574696E666F0100004312"
    assert teltonika_frame("getinfo").hex().upper() == expected


def test_the_teltonika_speed_up_sets_the_home_network_periods() -> None:
    assert teltonika_text(10) == "setparam 10000:10;10005:10;10050:10;10055:10"


def test_a_codec_12_response_is_read_back_and_a_corrupt_one_is_not() -> None:
    text = b"Param ID:10000 Value:10"
    body = bytes((0x0C, 1, 0x06)) + len(text).to_bytes(4, "big") + text + bytes((1,))
    frame = b"\0\0\0\0" + len(body).to_bytes(4, "big") + body + crc16_ibm(body).to_bytes(4, "big")
    assert teltonika_answer(frame) == text.decode()
    assert teltonika_answer(frame[:-1] + b"\x00") is None
    assert teltonika_answer(teltonika_frame("getinfo")) is None  # a command, not an answer


def test_a_gt06_server_command_is_framed_with_its_flag_and_a_crc() -> None:
    frame = gt06_frame("TIMER,10#", server_flag=7, serial=1)
    assert frame[:2] == b"\x78\x78"
    assert frame[-2:] == b"\r\n"
    assert frame[3] == 0x80
    assert frame[4] == 4 + len("TIMER,10#")
    assert int.from_bytes(frame[5:9], "big") == 7
    assert frame[9:18] == b"TIMER,10#"
    size = frame[2]
    assert len(frame) == size + 5
    assert crc16_x25(frame[2 : 1 + size]) == int.from_bytes(frame[1 + size : 3 + size], "big")


def test_a_gt06_answer_is_matched_to_its_command_by_server_flag() -> None:
    text = b"TIMER=10 OK"
    content = (7).to_bytes(4, "big") + b"\x01" + text
    body = bytes((1 + len(content) + 4, 0x21)) + content + (1).to_bytes(2, "big")
    frame = b"\x78\x78" + body + crc16_x25(body).to_bytes(2, "big") + b"\r\n"
    assert gt06_answer(frame, 7) == text.decode()
    assert gt06_answer(frame, 8) is None


def test_owntracks_commands_are_valid_owntracks_messages() -> None:
    schema = json.loads((FIXTURES / "owntracks" / "schemas" / "message.json").read_text())
    fast = owntracks_commands_json(10, fast=True)
    assert [m["action"] for m in fast] == ["setConfiguration", "reportLocation"]
    assert fast[0]["configuration"]["locatorInterval"] == 10
    for message in fast + owntracks_commands_json(60, fast=False):
        jsonschema.validate(message, schema)


def test_a_command_waits_for_its_device_then_is_sent_then_acknowledged() -> None:
    queue = CommandQueue()
    queue.request("T1", fast=True, now=NOW)
    assert queue.waiting("T1")
    assert queue.take("T2", "teltonika", NOW) is None
    sent = queue.take("T1", "teltonika", NOW)
    assert sent is not None
    assert sent.state == CommandState.SENT
    assert sent.text.startswith("setparam 10000:10")
    assert not queue.waiting("T1")
    answered = queue.acknowledge("T1", "Param ID:10000 Value:10", NOW)
    assert answered is sent
    assert sent.state == CommandState.ACKNOWLEDGED
    assert [c.state for c in queue.history("T1")] == [CommandState.ACKNOWLEDGED]


def test_only_the_newest_wanted_rate_is_sent() -> None:
    queue = CommandQueue()
    queue.request("T1", fast=True, now=NOW)
    queue.request("T1", fast=False, now=NOW)
    sent = queue.take("T1", "gt06", NOW)
    assert sent is not None
    assert sent.text == "TIMER,60#"
    assert queue.take("T1", "gt06", NOW) is None


def test_an_osmand_phone_cannot_be_commanded_and_says_so() -> None:
    queue = CommandQueue()
    queue.request("PHONE", fast=True, now=NOW)
    refused = queue.take("PHONE", "osmand", NOW)
    assert refused is not None
    assert refused.state == CommandState.UNSUPPORTED


async def test_a_teltonika_tag_gets_its_command_on_the_connection_it_holds_open(
    register: Container,
) -> None:
    harness = Harness("teltonika", Limits(), register)
    queue = CommandQueue()
    harness.gateway.commands = queue
    imei = "123456789012345"
    queue.request(imei, fast=True, now=NOW)  # queued before the tag is connected
    port = await harness.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(TELTONIKA_LOGIN)
        assert await _read_exactly(reader, 1) == b"\x01"
        command = teltonika_frame(teltonika_text(10))
        assert await _read_exactly(reader, len(command)) == command
        writer.write(TELTONIKA_AVL)
        assert await _read_exactly(reader, 4) == b"\x00\x00\x00\x01"
        text = b"New value 10000:10;10005:10;10050:10;10055:10;"
        body = bytes((0x0C, 1, 0x06)) + len(text).to_bytes(4, "big") + text + bytes((1,))
        answer = b"\0\0\0\0" + len(body).to_bytes(4, "big") + body
        writer.write(answer + crc16_ibm(body).to_bytes(4, "big"))
        await writer.drain()
        for _ in range(100):
            if queue.history(imei)[-1].state == CommandState.ACKNOWLEDGED:
                break
            await asyncio.sleep(0.01)
        [sent] = queue.history(imei)
        assert sent.state == CommandState.ACKNOWLEDGED
        assert sent.answer == text.decode()
        writer.close()
        await harness.bus.drain()
        assert len(harness.received) == 1  # the answer is not taken for a fix
        assert not harness.metrics.rejections("teltonika")
    finally:
        await harness.close()


async def test_an_owntracks_phone_gets_its_command_over_mqtt_and_its_next_fix_answers_it(
    register: Container,
) -> None:
    require_service("MQTT", _mqtt_up(), "Mosquitto on 127.0.0.1:1883")
    bus = InMemoryBus()
    queue = CommandQueue()
    ready = asyncio.Event()
    user = f"c{uuid.uuid4().hex[:8]}"
    device = f"{user}/phone"
    intake, _keys = door_intake(bus, GatewayMetrics(), register, [device])
    task = asyncio.create_task(
        run_subscriber("mqtt://127.0.0.1:1883", intake, CLOCK, ready, commands=queue)
    )
    queue.request(device, fast=True, now=NOW)
    location = (FIXTURES / "owntracks" / "test" / "l.json").read_bytes()
    try:
        await asyncio.wait_for(ready.wait(), 5)
        async with aiomqtt.Client("127.0.0.1", 1883) as phone:
            await phone.subscribe(f"owntracks/{user}/phone/cmd", qos=1)
            await phone.publish(f"owntracks/{user}/phone", location, qos=1)
            got = []
            async with asyncio.timeout(5):
                async for message in phone.messages:
                    got.append(json.loads(bytes(message.payload)))  # type: ignore[arg-type]
                    if len(got) == 2:
                        break
            assert [m["action"] for m in got] == ["setConfiguration", "reportLocation"]
            assert got[0]["configuration"]["locatorInterval"] == 10
            assert queue.history(device)[-1].state == CommandState.SENT
            await phone.publish(f"owntracks/{user}/phone", location, qos=1)
            for _ in range(100):
                if queue.history(device)[-1].state == CommandState.ACKNOWLEDGED:
                    break
                await asyncio.sleep(0.05)
        assert queue.history(device)[-1].state == CommandState.ACKNOWLEDGED
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await bus.close()
