"""Scale-out on NATS + PostgreSQL: throughput with 1, 2 and 4 engine processes, alert latency at a
paced 2,000 fixes/s, and the takeover time after an engine process is SIGKILLed.

    .venv/bin/python bench/scale_out.py [--engines 1,2,4] [--rounds 2] [--wearers 400]
        [--steps 60] [--drain-steps 25] [--takeover-steps 50] [--rate 2000]

About 8 minutes with the defaults on 2 cores (seeding, then about 75 s a run); a trial:
``--engines 1,2 --rounds 1 --wearers 80 --steps 50 --takeover-steps 50`` (about a minute).

Needs ``nats-server``, PostgreSQL's ``initdb`` and ``pg_ctl`` and ``runuser`` (the server runs as
the ``postgres`` user), as the fault suite does: the harness is ``tests/faults/cluster.py`` and
``tests/faults/world.py``. The bench starts its own PostgreSQL (fsync off) and, for every run, its
own NATS server and database (copied from a seeded template), so runs do not see each other's
streams, leases or engine state. The shared NATS (4222) and PostgreSQL (5432) are left alone.

Layout of a run: one front process (``vigil serve --roles web,gateways,alerts``) and N engine
processes (``--roles engine``), which share the bus's 16 partitions by leases. The world: the
fault suite's wearers on orders with an exclusion zone each, one fix every 10 s of fix time,
a quarter of them walking into their zone once in each half of a script. Senders (4 threads in
this process, each its own devices) post 200-fix batches to ``/api/gateways/fixes``.

Each run, in order (fix times run on across the phases, all in the past), once the engines have
shared the partitions out and kept their shares for 7 s:

0. **Backlog drained**: the engines are paused (SIGSTOP, under 5 s: less than a lease's 10 s)
   while ``--drain-steps`` x ``--wearers`` quiet fixes are sent, then let go; rate = fixes /
   (resumed -> last stored), and the engines' CPU seconds per 1,000 fixes: what the engines
   themselves do, apart from the gateway route.
1. **Throughput**: ``--wearers`` x ``--steps`` fixes as fast as the gateway acknowledges them;
   rate = fixes / (first send -> last fix stored in the trail), polled every 0.1 s. The engine
   stores and evaluates each batch before acknowledging it. CPU seconds of each process per
   1,000 fixes from /proc (PostgreSQL: postmaster and backends; "sender": this process).
2. **Alert latency**: 48 more steps paced at ``--rate`` fixes/s (the rate reached is printed);
   for each incursion, the alert's ``created_at`` minus the ``receive_time`` of the fix that
   confirmed the violation (the ``fixes_inside``-th fix inside the zone that it cites), and the
   violation's ``raised_at`` (the engine's clock as it evaluated that fix) minus the same.
3. **Takeover** (N >= 2): quiet fixes paced over 20 s; 3 s in, the engine holding the most
   partitions is SIGKILLed. Times from the kill to the survivors holding every partition (their
   logs), to the first new row from the dead engine's partitions, and to every fix stored.

After each phase every acknowledged fix must be stored exactly once and every incursion must
have one violation and one alert; a difference is printed as FOUND. Rounds alternate N
(1, 2, 4, 1, 2, 4, ...); the summary gives medians and ratios to N = 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import signal
import statistics
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scale_out_cluster import database
from bench.scale_out_phases import Phases, RunResult, one_run
from tests.faults.cluster import PostgresServer
from tests.faults.world import STEP_S, World, script, seed

from vigil.db import migrate

LATENCY_STEPS = 48  # the fewest that fit an incursion in each half of the script


def scripts(world: World, steps: int, drain_steps: int, takeover_steps: int) -> Phases:
    """The phases' scripts, each after the last in fix time, the last ending 1 s ago."""
    ends = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    quiet = World([replace(w, walks_in=None) for w in world.wearers], world.token, world.keys)

    def before(*later: int) -> datetime:
        return ends - timedelta(seconds=STEP_S * sum(later))

    return Phases(
        drain=script(quiet, drain_steps, ends=before(steps, LATENCY_STEPS, takeover_steps)),
        throughput=script(world, steps, ends=before(LATENCY_STEPS, takeover_steps)),
        latency=script(world, LATENCY_STEPS, ends=before(takeover_steps)),
        takeover=script(quiet, takeover_steps, ends=ends),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="1,2,4", help="engine process counts to compare")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--wearers", type=int, default=400)
    parser.add_argument("--incursions", type=int, default=0, help="default: a quarter")
    parser.add_argument("--steps", type=int, default=60, help="fixes per wearer, throughput")
    parser.add_argument("--rate", type=float, default=2000.0, help="paced fixes/s, latency")
    parser.add_argument("--drain-steps", type=int, default=25, help="fixes per wearer, backlog")
    parser.add_argument("--takeover-steps", type=int, default=50)
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
    # A background job ignores SIGINT: SIGTERM ends the bench cleanly (its processes, its server).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    counts = [int(n) for n in args.engines.split(",")]
    machine = platform.processor() or platform.machine()
    print(f"{machine}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")  # fmt: skip
    workdir = Path(tempfile.mkdtemp(prefix="vigil-scale-"))
    postgres = PostgresServer()
    postgres.init()
    postgres.start()
    try:
        template = database(postgres, "seeded")
        migrate.upgrade(template)
        world = seed(template, args.wearers, args.incursions or args.wearers // 4)
        results: list[RunResult] = []
        for k in range(args.rounds):
            for n in counts:
                url = database(postgres, f"run_{k}_{n}", template="seeded")
                phases = scripts(world, args.steps, args.drain_steps, args.takeover_steps)
                result = one_run(postgres, url, world, n, phases, args.rate, workdir / f"{k}-{n}")
                print(result.line(), flush=True)
                results.append(result)
        summary(results, counts)
    finally:
        postgres.destroy()
    print(f"logs: {workdir}")


def summary(results: list[RunResult], counts: list[int]) -> None:
    def median(n: int, name: str) -> float:
        values = [getattr(r, name) for r in results if r.engines == n]
        values = [v for v in values if v == v]  # NaN: not measured in that run
        return statistics.median(values) if values else float("nan")

    drained, stored = median(counts[0], "drained_per_s"), median(counts[0], "stored_per_s")
    print(
        "\n| engine processes | runs | backlog drained, fixes/s | ratio | engine CPU-s per 1,000 "
        "| end to end, fixes/s | ratio | all processes CPU-s per 1,000 | paced fixes/s "
        "| alert p50 / p99 ms | takeover s: all held / first fix / all stored |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for n in counts:
        runs = sum(1 for r in results if r.engines == n)
        takeover = "–"
        if n > 1:
            takeover = " / ".join(
                f"{median(n, f):.1f}" for f in ("held_s", "first_fix_s", "all_stored_s")
            )
        print(
            f"| {n} | {runs} | {median(n, 'drained_per_s'):,.0f} | "
            f"{median(n, 'drained_per_s') / drained:.2f} | {median(n, 'engine_cpu_per_k'):.2f} | "
            f"{median(n, 'stored_per_s'):,.0f} | {median(n, 'stored_per_s') / stored:.2f} | "
            f"{median(n, 'total_cpu_per_k'):.2f} | {median(n, 'paced_rate'):,.0f} | "
            f"{median(n, 'alert_p50_ms'):,.0f} / {median(n, 'alert_p99_ms'):,.0f} | {takeover} |"
        )
    found = [f for r in results for f in r.found]
    print("\nFOUND:\n" + "\n".join(found) if found else "\nevery phase exact")


if __name__ == "__main__":
    main()
