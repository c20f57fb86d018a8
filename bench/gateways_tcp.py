"""TCP gateway throughput: Teltonika and GT06 fixes decoded, acknowledged and handed to the bus.

The gateway runs alone in one process pinned to CPU 0 (``os.sched_setaffinity``); the load
generators run in other processes pinned to the remaining CPUs, each with several connections that
log in, then send frames and wait for every acknowledgement. Besides wall-clock throughput the
table gives fixes per CPU-second of the gateway process, which is what "on one core" means on a
shared machine where the gateway does not get its core to itself.

    .venv/bin/python bench/gateways_tcp.py [--seconds 5] [--connections 8]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import struct
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.door_register import door_intake

from vigil.bus.memory import InMemoryBus
from vigil.bus.model import Topic
from vigil.clock import SystemClock
from vigil.gateways import gt06, registry
from vigil.gateways.binary import crc16_ibm
from vigil.gateways.model import Session
from vigil.gateways.tcp import Limits, StreamGateway
from vigil.logs import configure_logging

RECORDS_PER_PACKET = 25  # Teltonika devices upload buffered records in packets of tens
# Every IMEI a load generator logs in with (35 + index) is in the register, as on a national
# caseload; the decode-only runs use the first.
BENCH_DEVICES = [f"35{i:013d}" for i in range(10_000)]


def teltonika_packet(records: int, start_ms: int) -> bytes:
    body = bytearray([0x08, records])
    for i in range(records):
        body += struct.pack(
            ">QBiihHBH", start_ms + i * 1000, 0, -1_276_000 + i, 515_072_000 + i, 30, 90, 9, 12
        )
        body += bytes([0, 4, 2, 239, 1, 240, 1, 2, 66, 0x30, 0x39, 67, 0x0F, 0xA0, 0, 0])
    body.append(records)
    return (
        b"\x00\x00\x00\x00"
        + len(body).to_bytes(4, "big")
        + bytes(body)
        + crc16_ibm(body).to_bytes(4, "big")
    )


def gt06_frame(serial: int) -> bytes:
    now = datetime.now(UTC)
    content = bytes([now.year - 2000, now.month, now.day, now.hour, now.minute, now.second, 0xC9])
    content += int(51.5 * 1_800_000).to_bytes(4, "big") + int(0.1 * 1_800_000).to_bytes(4, "big")
    content += bytes([20]) + (0x1400 | 90).to_bytes(2, "big") + bytes.fromhex("00eb0a00280f0068ad")
    body = bytes([5 + len(content), 0x12]) + content + serial.to_bytes(2, "big")
    return b"\x78\x78" + body + gt06.crc16_x25(body).to_bytes(2, "big") + b"\r\n"


SERVER_CPUS = {0}


def pin(cpus: set[int]) -> None:
    """Keep this process on ``cpus`` (where the platform allows it)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cpus)


def run_queue_wait_s() -> float:
    """Seconds this process has spent runnable but waiting for a CPU (Linux schedstat)."""
    try:
        with open("/proc/self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return float("nan")


def load_cpus() -> set[int]:
    everything = set(range(os.cpu_count() or 1))
    return (everything - SERVER_CPUS) or everything


def serve(protocol: str, port_out: mp.Queue, stop: mp.Event) -> None:  # type: ignore[type-arg]
    configure_logging("WARNING")
    pin(SERVER_CPUS)

    async def main() -> None:
        bus = InMemoryBus()
        count = [0]

        async def engine(batch: list) -> None:  # type: ignore[type-arg]
            count[0] += len(batch)

        bus.subscribe(Topic.FIXES, engine)
        gateway = StreamGateway(
            registry.get(protocol),
            door_intake(bus, BENCH_DEVICES),
            SystemClock(),
            Limits(max_frames_per_s=1e9, burst=10**9),
        )
        server = await gateway.start("127.0.0.1", 0)
        port_out.put(server.sockets[0].getsockname()[1])
        cpu, waited = time.process_time(), run_queue_wait_s()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        await bus.drain()
        port_out.put((count[0], time.process_time() - cpu, run_queue_wait_s() - waited))

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())


def load(protocol: str, port: int, seconds: float, connections: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    pin(load_cpus())

    async def one(index: int) -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        imei = f"35{index:013d}"
        if protocol == "teltonika":
            writer.write(len(imei).to_bytes(2, "big") + imei.encode())
            await reader.readexactly(1)
            packet = teltonika_packet(RECORDS_PER_PACKET, int(time.time() * 1000) - 3_600_000)
            per, ack = RECORDS_PER_PACKET, 4
            burst = packet * 8
        else:
            login = bytes.fromhex("0d01") + bytes.fromhex("0" + imei) + b"\x00\x01"
            writer.write(b"\x78\x78" + login + gt06.crc16_x25(login).to_bytes(2, "big") + b"\r\n")
            await reader.readexactly(10)
            per, ack = 1, 10
            burst = b"".join(gt06_frame(i) for i in range(200))
        frames = 8 if protocol == "teltonika" else 200
        sent = 0
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            writer.write(burst)
            await reader.readexactly(ack * frames)
            sent += frames * per
        writer.close()
        return sent

    async def main() -> int:
        return sum(await asyncio.gather(*(one(i) for i in range(connections))))

    cpu = time.process_time()
    sent = asyncio.run(main())
    out.put((sent, time.process_time() - cpu))


def decode_only(protocol: str, rounds: int = 40) -> float:
    """Fixes per CPU-second for cutting, decoding and screening alone (no sockets, no bus)."""
    now = datetime.now(UTC)
    proto = registry.get(protocol)
    assert proto.split_frames is not None
    if protocol == "teltonika":
        stream = teltonika_packet(RECORDS_PER_PACKET, int(time.time() * 1000) - 3_600_000) * 8
    else:
        stream = b"".join(gt06_frame(i) for i in range(200))
    intake = door_intake(InMemoryBus(), BENCH_DEVICES)
    best = float("inf")
    for _ in range(5):
        session = Session(protocol, device_id=BENCH_DEVICES[1])
        fixes = 0
        started = time.process_time()
        for _ in range(rounds):
            frames, _junk = proto.split_frames(bytearray(stream))
            for frame in frames:
                decoded = proto.decode(frame, session, now).fixes
                fixes += len(intake.screen(protocol, decoded).good)
        best = min(best, (time.process_time() - started) / fixes)
    return 1 / best


def run(
    protocol: str, seconds: float, connections: int, generators: int
) -> tuple[int, float, float, float, float]:
    ctx = mp.get_context("spawn")
    ports, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    server = ctx.Process(target=serve, args=(protocol, ports, stop))
    server.start()
    port = ports.get(timeout=10)
    started = time.perf_counter()
    loaders = [
        ctx.Process(target=load, args=(protocol, port, seconds, connections, results))
        for _ in range(generators)
    ]
    for p in loaders:
        p.start()
    reports = [results.get(timeout=seconds + 60) for _ in loaders]
    acked = sum(sent for sent, _ in reports)
    load_cpu = sum(cpu for _, cpu in reports)
    elapsed = time.perf_counter() - started
    for p in loaders:
        p.join()
    stop.set()
    published, cpu, waited = ports.get(timeout=30)
    server.join()
    assert published >= acked, (published, acked)
    return acked, elapsed, cpu, load_cpu, waited


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--generators", type=int, default=1)
    args = parser.parse_args()
    print(
        f"cpus={os.cpu_count()} seconds={args.seconds} "
        f"connections={args.connections} x {args.generators} "
        f"server on CPU {sorted(SERVER_CPUS)}, load on CPU {sorted(load_cpus())}"
    )
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    pin(SERVER_CPUS)  # the in-process decode measurement runs where the server will
    for protocol in ("teltonika", "gt06"):
        print(f"{protocol:<10} decode + screen only: {decode_only(protocol):,.0f} fixes/CPU-s")
    print(
        f"{'protocol':<10} {'fixes acked':>12} {'fixes/s':>10} {'server CPU s':>13} "
        f"{'fixes/CPU-s':>12} {'load CPU s':>11} {'server waited s':>16}"
    )
    for protocol in ("teltonika", "gt06"):
        acked, elapsed, cpu, load_cpu, waited = run(
            protocol, args.seconds, args.connections, args.generators
        )
        print(
            f"{protocol:<10} {acked:>12,} {acked / elapsed:>10,.0f} {cpu:>13.2f} "
            f"{acked / cpu:>12,.0f} {load_cpu:>11.2f} {waited:>16.2f}"
        )
    print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
