"""The load side of ``bench/live_ingest.py``: Teltonika tags, one TCP connection each, that log in,
then upload their fixes in Codec 8 packets and wait for each packet's acknowledgement before
sending the next, as a tag does (it deletes a record only once the server has counted it).

Positions follow the fault suite's world (``tests/faults/world.py``): each wearer at home 700 m
from his exclusion zone, and some walking (here driving, 20 m/s) into it once.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import struct
import time
from dataclasses import dataclass

from tests.faults.world import Wearer, path

from vigil.gateways.binary import crc16_ibm

# IO elements of every record: ignition and movement (1 byte), external and battery voltage and
# HDOP x 10 (2 bytes); the HDOP gives the fix its accuracy (1.2 -> 6 m).
_IO_HEAD = bytes([0, 5, 2, 239, 1, 240, 1, 3])
_IO_TAIL = bytes([66, 0x30, 0x39, 67, 0x0F, 0xA0, 182, 0, 12, 0, 0])


def _command_answer(text: bytes) -> bytes:
    """A Codec 12 response (type 6) carrying ``text``."""
    body = bytes((0x0C, 1, 0x06)) + len(text).to_bytes(4, "big") + text + bytes((1,))
    return (
        b"\x00\x00\x00\x00"
        + len(body).to_bytes(4, "big")
        + body
        + crc16_ibm(body).to_bytes(4, "big")
    )


COMMAND_ANSWER = _command_answer(b"Param ID:1000 Value:10")


@dataclass(frozen=True)
class Tag:
    imei: str
    packets: list[bytes]
    records: list[int]  # per packet: the count the server must acknowledge


def avl_packet(points: list[tuple[int, float, float, int]]) -> bytes:
    """A Codec 8 AVL packet of ``(time ms, lat, lon, speed km/h)`` records."""
    body = bytearray([0x08, len(points)])
    for t_ms, lat, lon, speed in points:
        body += struct.pack(
            ">QBiihHBH", t_ms, 0, round(lon * 1e7), round(lat * 1e7), 120, 90, 9, speed
        )
        body += _IO_HEAD + _IO_TAIL
    body.append(len(points))
    return (
        b"\x00\x00\x00\x00"
        + len(body).to_bytes(4, "big")
        + bytes(body)
        + crc16_ibm(body).to_bytes(4, "big")
    )


def tag_for(wearer: Wearer, steps: int, step_s: float, end_ms: int, per_packet: int) -> Tag:
    """The wearer's ``steps`` fixes, ``step_s`` apart, the last at ``end_ms``, in packets."""
    where = path(wearer, steps)
    points = []
    for k, (lat, lon) in enumerate(where):
        moving = k > 0 and where[k - 1] != (lat, lon)
        t_ms = end_ms - round((steps - 1 - k) * step_s * 1000)
        points.append((t_ms, lat, lon, 72 if moving else 0))
    chunks = [points[i : i + per_packet] for i in range(0, len(points), per_packet)]
    return Tag(wearer.device, [avl_packet(c) for c in chunks], [len(c) for c in chunks])


@dataclass(frozen=True)
class LoadResult:
    acknowledged: int
    wall_s: float  # first packet sent -> last acknowledgement
    cpu_s: float  # this process's CPU time while sending


def load(
    port: int,
    tags: list[Tag],
    cpus: set[int],
    ready: mp.Queue,  # type: ignore[type-arg]
    go: mp.Event,  # type: ignore[type-arg]
) -> None:
    """Log every tag in, say so on ``ready``, wait for ``go``, then upload; the result on
    ``ready`` too."""
    os.sched_setaffinity(0, cpus)

    async def connect(tag: Tag) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(len(tag.imei).to_bytes(2, "big") + tag.imei.encode())
        answer = await reader.readexactly(1)
        assert answer == b"\x01", f"login refused for {tag.imei}"
        return reader, writer

    async def upload(
        tag: Tag, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, start: asyncio.Event
    ) -> int:
        await start.wait()
        acked = 0
        for packet, count in zip(tag.packets, tag.records, strict=True):
            writer.write(packet)
            while (head := await reader.readexactly(4)) == b"\x00\x00\x00\x00":
                # A command (the engine asking the tag to report faster or slower) follows an
                # acknowledgement; the tag answers it, as a real one does.
                size = int.from_bytes(await reader.readexactly(4), "big")
                await reader.readexactly(size + 4)
                writer.write(COMMAND_ANSWER)
            answer = int.from_bytes(head, "big")
            assert answer == count, f"{tag.imei}: {answer} acknowledged of {count}"
            acked += count
        writer.close()
        return acked

    async def main() -> LoadResult:
        connections = []
        for first in range(0, len(tags), 200):  # not thousands of SYNs at once
            connections += await asyncio.gather(*(connect(t) for t in tags[first : first + 200]))
        start = asyncio.Event()
        tasks = [
            asyncio.create_task(upload(tag, r, w, start))
            for tag, (r, w) in zip(tags, connections, strict=True)
        ]
        ready.put("logged in")
        await asyncio.to_thread(go.wait)
        cpu, began = time.process_time(), time.perf_counter()
        start.set()
        acked = sum(await asyncio.gather(*tasks))
        return LoadResult(acked, time.perf_counter() - began, time.process_time() - cpu)

    ready.put(asyncio.run(main()))
