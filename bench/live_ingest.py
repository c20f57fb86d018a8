"""Live ingest on one core: Teltonika tags through the gateway into the trail store and the engine,
with the trail on SQLite and on PostgreSQL, side by side in one run.

    .venv/bin/python bench/live_ingest.py [--backends sqlite,postgresql] [--rounds 1]
        [--wearers 2000] [--steps 100] [--step-s 5] [--per-packet 10] [--profile]

needs, for ``--profile`` only: pip install py-spy

The server is the real ``vigil serve --roles all`` (the embedded set-up: web, gateways, engine and
alerts in one process on the in-process bus), pinned to CPU 0 by ``taskset``; the load generator
is another process pinned to the other CPU(s). With the in-process bus a publish returns only
once the engine has stored the fixes and committed (``InMemoryBus(confirm=True)``), so a tag's
packet is acknowledged only after its fixes are durable in the trail and evaluated.

The world is the fault suite's (``tests/faults/world.py``), seeded through the registry's own
services into a fresh database: ``--wearers`` persons on orders with an exclusion zone each (300 m,
250 m buffer) and a tag each; a quarter of them (at most 200) drive into their zone once. Each tag
holds its own TCP connection, logs in, then uploads ``--steps`` fixes (``--step-s`` apart, the
last one second before the run) in Codec 8 packets of ``--per-packet`` records, waiting for each
acknowledgement before the next packet. SQLite: a fresh migrated file (WAL, synchronous=NORMAL, as
Vigil configures it). PostgreSQL: a database of the bench's own, ``vigil_bench_ingest``, created
with ``createdb`` on 127.0.0.1:5432 and dropped afterwards.

Measured between "go" (every tag logged in) and the moment the last fix is counted in ``fixes``:
acknowledged fixes per second (wall, the load generator's first send to its last answer); fixes
stored per second (wall, until ``fixes`` holds them all and every incursion has its violation);
the server process's CPU seconds (all threads, /proc/<pid>/stat) and fixes per CPU-second; its
threads' run-queue wait (/proc/<pid>/task/*/schedstat); on PostgreSQL also the CPU of the
database's backends (/proc/<pid>/stat of the backends in ``pg_stat_activity``), which the server
process's own figure does not include. With ``--profile``, ``py-spy record`` samples the server
in an extra run per backend (``--profile-dir``/profile-<backend>.txt, collapsed stacks) and a
probe times the garbage collector in it; both summarised by ``bench/live_ingest_profile.py``.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from bench.live_ingest_load import LoadResult, load, tag_for
from bench.live_ingest_profile import GC_PROBE, gc_seconds, summary
from bench.live_ingest_server import (
    Server,
    Tables,
    cpu_s,
    create_database,
    drop_database,
    waited_s,
    workdir,
)
from tests.faults.cluster import wait_for
from tests.faults.world import World, seed

SERVER_CPU = 0
COLUMNS = (
    f"{'backend':<11} {'fixes':>8} {'acked/s':>8} {'stored/s':>9} {'server CPU-s':>12} "
    f"{'per CPU-s':>10} {'waited s':>9} {'PG CPU-s':>9} {'per CPU-s, +PG':>15} "
    f"{'load CPU-s':>10} {'violations':>10} {'alerts':>7}"
)


def one_run(backend: str, args: argparse.Namespace, profile: bool, notes: list[str]) -> str:
    work = workdir()
    url = create_database(backend, work)
    try:
        world = seed(url, args.wearers, min(200, args.wearers // 4))
        server = Server(url, work, SERVER_CPU)
        server.start(probe_env(work) if profile else {})
        try:
            ready = lambda: httpx.get(f"http://127.0.0.1:{server.port}/readyz").status_code == 200  # noqa: E731
            wait_for(ready, 60, "the server to be ready", server.tail)
            row = measure(
                server, Tables(url), world, args, args.profile_dir if profile else None, notes
            )
        finally:
            server.stop()
    finally:
        drop_database(backend)
    shutil.rmtree(work)  # the SQLite file is hundreds of MB; kept (with the log) if a run failed
    return row


def probe_env(work: Path) -> dict[str, str]:
    """The server's environment for a profiled run: the garbage collector probe loaded as its
    ``sitecustomize``, writing to ``<work>/gc.txt``."""
    (work / "probe").mkdir()
    (work / "probe" / "sitecustomize.py").write_text(GC_PROBE)
    paths = [str(work / "probe"), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(paths), "LIVE_INGEST_GC": str(work / "gc.txt")}


def measure(
    server: Server,
    tables: Tables,
    world: World,
    args: argparse.Namespace,
    profile_to: Path | None,
    notes: list[str],
) -> str:
    end_ms = int(time.time() * 1000) - 1000
    tags = [tag_for(w, args.steps, args.step_s, end_ms, args.per_packet) for w in world.wearers]
    total = sum(sum(tag.records) for tag in tags)
    incursions = len(world.incursions())
    others = (set(range(os.cpu_count() or 1)) - {SERVER_CPU}) or {SERVER_CPU}
    ctx = mp.get_context("spawn")
    queue, go = ctx.Queue(), ctx.Event()
    loader = ctx.Process(target=load, args=(server.teltonika, tags, others, queue, go))
    loader.start()
    assert queue.get(timeout=120) == "logged in"
    spy = None
    if profile_to is not None:
        out = profile_to / f"profile-{tables.engine.dialect.name}.txt"
        spy = subprocess.Popen(
            ["taskset", "-c", ",".join(map(str, sorted(others))),
             str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(server.pid),
             "--rate", "250", "--nonblocking", "--format", "raw", "--output", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.0)
    cpu, waited, pg = cpu_s(server.pid), waited_s(server.pid), tables.backend_cpu()
    collected = gc_seconds(server.workdir / "gc.txt")
    began = time.perf_counter()
    go.set()
    result: LoadResult = queue.get(timeout=600)
    loader.join()
    caught_up = lambda: (c := tables.counts())[0] >= total and c[1] >= incursions  # noqa: E731
    wait_for(caught_up, 120, "every fix stored and every incursion raised", server.tail)
    stored_s = time.perf_counter() - began
    cpu, waited = cpu_s(server.pid) - cpu, waited_s(server.pid) - waited
    pg_now = tables.backend_cpu()
    pg_cpu = sum(now - pg.get(pid, 0.0) for pid, now in pg_now.items())
    collected = [
        (n - n0, s - s0)
        for (n, s), (n0, s0) in zip(gc_seconds(server.workdir / "gc.txt"), collected, strict=True)
    ]
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(60)
    time.sleep(2.0)  # the alerts role raises its alerts from the engine's events
    stored, raised, alerted = tables.counts()
    tables.dispose()
    assert result.acknowledged == total, (result, total)
    assert stored == total, (stored, total)
    name = tables.engine.dialect.name + (" (py-spy)" if spy else "")
    if spy is not None:
        gc_s = sum(s for _n, s in collected)
        found = "; ".join(f"gen{g}: {n} in {s:.2f} s" for g, (n, s) in enumerate(collected))
        notes.append(
            f"{name}: garbage collector {gc_s:.2f} s of {cpu:.2f} CPU-s "
            f"({gc_s / cpu:.0%}, {gc_s / stored * 1e6:.1f} µs a fix; {found})"
        )
        notes += summary(str(out), cpu / stored * 1e6)
    pg_text = f"{pg_cpu:>9.2f}" if tables.postgres else f"{'—':>9}"
    return (
        f"{name:<11} {total:>8,} {result.acknowledged / result.wall_s:>8,.0f} "
        f"{stored / stored_s:>9,.0f} {cpu:>12.2f} {stored / cpu:>10,.0f} {waited:>9.2f} "
        f"{pg_text} {stored / (cpu + pg_cpu):>15,.0f} {result.cpu_s:>10.2f} "
        f"{raised:>5}/{incursions:<4} {alerted:>7}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--wearers", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--step-s", type=float, default=5.0)
    parser.add_argument("--per-packet", type=int, default=10)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--profile-dir", type=Path, default=Path(tempfile.gettempdir()) / "live-ingest-profiles"
    )
    args = parser.parse_args()
    for noisy in ("httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    backends = args.backends.split(",")
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}; server on CPU {SERVER_CPU}, load on the others"
    )
    print(
        f"{args.wearers} tags x {args.steps} fixes, {args.step_s} s apart, "
        f"{args.per_packet} records a packet"
    )
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(COLUMNS)
    notes: list[str] = []
    for _ in range(args.rounds):
        for backend in backends:
            print(one_run(backend, args, False, notes), flush=True)
    if args.profile:
        args.profile_dir.mkdir(parents=True, exist_ok=True)
        for backend in backends:
            print(one_run(backend, args, True, notes), flush=True)
    print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print("\n".join(notes))


if __name__ == "__main__":
    main()
