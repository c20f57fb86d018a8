"""OsmAnd HTTP throughput on the dedicated port (one process, one core), measured with wrk.

The server process is pinned to CPU 0 and wrk to the other CPUs; the table also gives requests
per CPU-second of the server process (its capacity on one core on a shared, busy machine).

    .venv/bin/python bench/gateways_osmand.py [--seconds 10] [--connections 50]

Needs ``wrk`` (Debian package ``wrk``). The server process publishes to an in-memory bus whose
subscriber counts fixes, so every 200 is a fix decoded, validated and handed on.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.door_register import door_intake

from vigil.bus.memory import InMemoryBus
from vigil.bus.model import Topic
from vigil.clock import SystemClock
from vigil.gateways.http_door import OSMAND, HttpDoor
from vigil.logs import configure_logging

SERVER_CPUS = {0}


def run_queue_wait_s() -> float:
    """Seconds this process has spent runnable but waiting for a CPU (Linux schedstat)."""
    try:
        with open("/proc/self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return float("nan")


def serve(ports: mp.Queue, stop: mp.Event) -> None:  # type: ignore[type-arg]
    configure_logging("WARNING")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, SERVER_CPUS)

    async def main() -> None:
        bus = InMemoryBus()
        count = [0]

        async def engine(batch: list) -> None:  # type: ignore[type-arg]
            count[0] += len(batch)

        bus.subscribe(Topic.FIXES, engine)
        intake = door_intake(bus, ["353861053849681"])
        server = await HttpDoor(OSMAND, intake, SystemClock()).start("127.0.0.1", 0)
        ports.put(server.sockets[0].getsockname()[1])
        cpu, waited = time.process_time(), run_queue_wait_s()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        await bus.drain()
        ports.put((count[0], time.process_time() - cpu, run_queue_wait_s() - waited))

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    ports, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=serve, args=(ports, stop))
    server.start()
    port = ports.get(timeout=10)
    stamp = int(time.time())
    others = set(range(os.cpu_count() or 1)) - SERVER_CPUS
    pin = ["taskset", "-c", ",".join(map(str, sorted(others)))] if others else []
    before = os.getloadavg()
    url = f"http://127.0.0.1:{port}/?id=353861053849681&lat=51.5072&lon=-0.1276&timestamp={stamp}&hdop=1.2&speed=1.5&batt=87"
    out = subprocess.run(
        [*pin, "wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    stop.set()
    published, cpu, waited = ports.get(timeout=30)
    server.join()
    after = os.getloadavg()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    print(
        f"cpus={os.cpu_count()} connections={args.connections} seconds={args.seconds} "
        f"server on CPU {sorted(SERVER_CPUS)}, wrk on CPU {sorted(others) or 'any'}"
    )
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*before))
    print(
        f"{'endpoint':<22} {'req/s':>10} {'fixes published':>16} {'non-2xx':>8} "
        f"{'server CPU s':>13} {'req/CPU-s':>10} {'server waited s':>16}"
    )
    print(
        f"{'osmand port (GET)':<22} {rps:>10,.0f} {published:>16,} "
        f"{non2xx.group(1) if non2xx else 0:>8} {cpu:>13.2f} {published / cpu:>10,.0f} "
        f"{waited:>16.2f}"
    )
    print("load average after:  {:.2f} {:.2f} {:.2f}".format(*after))


if __name__ == "__main__":
    main()
