"""One run of ``bench/scale_out.py``: start the layout with N engine processes, then the
throughput, alert-latency and takeover phases, each checked against the tables."""

from __future__ import annotations

import json
import math
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from bench.scale_out_cluster import PARTITIONS, Layout, held, send_all, start_layout
from sqlalchemy import func, select
from tests.faults.cluster import PostgresServer, wait_for
from tests.faults.world import M_PER_DEG, ZONE_RADIUS_M, Script, Tables, World, expected_counts

from vigil.alerts.tables import alerts
from vigil.bus.model import partition_of
from vigil.engine.tables import violations
from vigil.tracking.tables import fixes

THREADS = 4
BATCH = 200
KILL_AFTER_S = 3.0
TAKEOVER_SEND_S = 20.0  # long enough for the takeover to happen while fixes flow


@dataclass(frozen=True)
class Phases:
    drain: Script
    throughput: Script
    latency: Script
    takeover: Script


@dataclass
class RunResult:
    engines: int
    fixes: int = 0
    drained_per_s: float = float("nan")
    drain_cpu_per_k: dict[str, float] = field(default_factory=dict)
    drain_send_s: float = float("nan")
    stored_per_s: float = float("nan")
    acknowledged_per_s: float = float("nan")
    cpu_per_k: dict[str, float] = field(default_factory=dict)
    paced_rate: float = float("nan")
    alerts_measured: int = 0
    alert_p50_ms: float = float("nan")
    alert_p99_ms: float = float("nan")
    engine_p99_ms: float = float("nan")
    held_s: float = float("nan")
    first_fix_s: float = float("nan")
    all_stored_s: float = float("nan")
    load: tuple[float, float] = (0.0, 0.0)
    found: list[str] = field(default_factory=list)

    @property
    def engine_cpu_per_k(self) -> float:
        return self.drain_cpu_per_k.get("engines", float("nan"))

    @property
    def total_cpu_per_k(self) -> float:
        return sum(self.cpu_per_k.values()) if self.cpu_per_k else float("nan")

    def line(self) -> str:
        cpu = ", ".join(f"{k} {v:.2f}" for k, v in self.cpu_per_k.items())
        return (
            f"N={self.engines}: backlog drained {self.drained_per_s:,.0f}/s (sent in "
            f"{self.drain_send_s:.1f} s, engine CPU-s per 1,000 "
            f"{self.engine_cpu_per_k:.2f}); {self.fixes:,} fixes, "
            f"stored {self.stored_per_s:,.0f}/s "
            f"(acknowledged {self.acknowledged_per_s:,.0f}/s); CPU-s per 1,000 fixes: {cpu}; "
            f"paced {self.paced_rate:,.0f}/s, {self.alerts_measured} alerts, receive->alert "
            f"p50 {self.alert_p50_ms:.0f} ms p99 {self.alert_p99_ms:.0f} ms (engine raised p99 "
            f"{self.engine_p99_ms:.0f} ms); takeover: all held {self.held_s:.1f} s, first fix "
            f"{self.first_fix_s:.1f} s, all stored {self.all_stored_s:.1f} s; load "
            f"{self.load[0]:.1f}->{self.load[1]:.1f}"
        )


def one_run(
    postgres: PostgresServer, url: str, world: World, engines: int, phases: Phases,
    rate: float, workdir: Path,
) -> RunResult:  # fmt: skip
    result = RunResult(engines, load=(os.getloadavg()[0], 0.0))
    layout = start_layout(postgres, url, engines, workdir)
    tables = Tables(url)
    sent: list[dict[str, object]] = []
    try:
        drain(layout, tables, world, phases.drain, sent, result)
        check(tables, world, sent, 0, "drain", result)
        throughput(layout, tables, world, phases.throughput, sent, result)
        check(tables, world, sent, 1, "throughput", result)
        latency(layout, tables, world, phases.latency, rate, sent, result)
        check(tables, world, sent, 2, "latency", result)
        if engines > 1:
            takeover(layout, tables, world, phases.takeover, sent, result)
            check(tables, world, sent, 2, "takeover", result)
    finally:
        result.load = (result.load[0], os.getloadavg()[0])
        tables.dispose()
        layout.stop()
    return result


def drain(layout: Layout, tables: Tables, world: World, script_: Script,
          sent: list[dict[str, object]], result: RunResult) -> None:  # fmt: skip
    """A backlog in the stream, then the engines let loose on it: their own rate. The engines are
    paused (SIGSTOP) while the backlog is sent, for less than a lease's 10 s, so they keep their
    partitions."""
    for engine in layout.engines:
        os.kill(engine.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        senders = send_all(layout.front.url, world.token, script_, THREADS, BATCH)
        result.drain_send_s = time.monotonic() - started
    finally:
        for engine in layout.engines:
            os.kill(engine.pid, signal.SIGCONT)
    if result.drain_send_s > 5.0:  # member keys may have expired: the drain includes a reshuffle
        result.found.append(f"N={result.engines} drain: engines paused {result.drain_send_s:.1f} s")
    before, resumed = layout.cpu(), time.monotonic()
    sent.extend(row for s in senders for row in s.acknowledged)
    wait_for(lambda: tables.stored() >= len(sent), 120, "the backlog to be stored")
    n = len(script_.rows)
    result.drained_per_s = n / (time.monotonic() - resumed)
    after = layout.cpu()
    result.drain_cpu_per_k = {k: (after[k] - before[k]) * 1000 / n for k in before}


def throughput(layout: Layout, tables: Tables, world: World, script_: Script,
               sent: list[dict[str, object]], result: RunResult) -> None:  # fmt: skip
    before = layout.cpu()
    started = time.monotonic()
    senders = send_all(layout.front.url, world.token, script_, THREADS, BATCH)
    acknowledged = time.monotonic() - started
    sent.extend(row for s in senders for row in s.acknowledged)
    wait_for(lambda: tables.stored() >= len(sent), 300, "the throughput script to be stored")
    took = time.monotonic() - started
    after = layout.cpu()
    n = len(script_.rows)
    result.fixes = n
    result.stored_per_s = n / took
    result.acknowledged_per_s = n / acknowledged
    result.cpu_per_k = {k: (after[k] - before[k]) * 1000 / n for k in before}


def latency(layout: Layout, tables: Tables, world: World, script_: Script, rate: float,
            sent: list[dict[str, object]], result: RunResult) -> None:  # fmt: skip
    started = time.monotonic()
    senders = send_all(layout.front.url, world.token, script_, THREADS, BATCH, rate)
    result.paced_rate = len(script_.rows) / (time.monotonic() - started)
    sent.extend(row for s in senders for row in s.acknowledged)
    wait_for(lambda: tables.stored() >= len(sent), 120, "the latency script to be stored")
    want = 2 * len(world.incursions())
    wait_for(lambda: sum(tables.zone_alerts().values()) >= want, 60, "the paced run's alerts")
    first = min(datetime.fromisoformat(str(r["time"])) for r in script_.rows)
    waits, engine_waits = alert_waits(tables, world, first)
    result.alerts_measured = len(waits)
    if waits:
        result.alert_p50_ms = float(np.percentile(waits, 50))
        result.alert_p99_ms = float(np.percentile(waits, 99))
        result.engine_p99_ms = float(np.percentile(engine_waits, 99))


def alert_waits(tables: Tables, world: World, since: datetime) -> tuple[list[float], list[float]]:
    """Per incursion since ``since`` (fix time): the receive time of the fix that confirmed it to
    the alert created, and to the engine raising it (its clock when it evaluated that fix), in
    ms. The confirming fix is the ``fixes_inside``-th fix inside the zone among those the
    violation cites (it also cites the fixes that ended it)."""
    query = (
        select(alerts.c.created_at, violations.c.raised_at, violations.c.fix_ids,
               violations.c.detail, violations.c.person_id)
        .join(violations, violations.c.episode_id == alerts.c.episode_id)
        .where(alerts.c.kind == "exclusion_zone", violations.c.start >= since)
    )  # fmt: skip
    zones = {str(w.person_id): w.zone for w in world.wearers}
    waits, engine_waits = [], []
    with tables.engine.connect() as conn:
        for created, raised, fix_ids, detail, person in conn.execute(query).all():
            cited = conn.execute(
                select(fixes.c.fix_time, fixes.c.receive_time, fixes.c.lat, fixes.c.lon)
                .where(fixes.c.id.in_(json.loads(fix_ids)))
                .order_by(fixes.c.fix_time)
            ).all()
            inside = [
                row for row in cited if _metres(row.lat, row.lon, zones[person]) < ZONE_RADIUS_M
            ]
            n = int(json.loads(detail).get("fixes_inside", 0))
            if not 0 < n <= len(inside) or inside[n - 1].receive_time > raised:
                continue  # not identifiable: left out (the count of measured alerts says so)
            at = inside[n - 1].receive_time
            waits.append((created - at).total_seconds() * 1000)
            engine_waits.append((raised - at).total_seconds() * 1000)
    return waits, engine_waits


def _metres(lat: float, lon: float, centre: tuple[float, float]) -> float:
    north = (lat - centre[0]) * M_PER_DEG
    east = (lon - centre[1]) * M_PER_DEG * math.cos(math.radians(centre[0]))
    return math.hypot(north, east)


def takeover(layout: Layout, tables: Tables, world: World, script_: Script,
             sent: list[dict[str, object]], result: RunResult) -> None:  # fmt: skip
    victim = max(layout.engines, key=lambda e: len(held(e)))
    survivors = [e for e in layout.engines if e is not victim]
    theirs = [w.device for w in world.wearers
              if partition_of(str(w.person_id), PARTITIONS) in held(victim)]  # fmt: skip
    since = min(datetime.fromisoformat(str(r["time"])) for r in script_.rows)
    done: list[dict[str, object]] = []
    rate = len(script_.rows) / TAKEOVER_SEND_S
    sender = threading.Thread(target=lambda: done.extend(
        row for s in send_all(layout.front.url, world.token, script_, THREADS, BATCH, rate)
        for row in s.acknowledged))  # fmt: skip
    sender.start()
    time.sleep(KILL_AFTER_S)
    victim.kill()
    killed = time.monotonic()
    baseline = stored_of(tables, theirs, since)
    marks = watch_takeover(
        killed,
        all_held=lambda: set().union(*(held(e) for e in survivors)) == set(range(PARTITIONS)),
        first_fix=lambda: stored_of(tables, theirs, since) > baseline,
    )
    result.held_s, result.first_fix_s = marks["all_held"], marks["first_fix"]
    sender.join()
    sent.extend(done)
    wait_for(lambda: tables.stored() >= len(sent), 120, "every fix after the kill")
    result.all_stored_s = time.monotonic() - killed


def watch_takeover(killed: float, **conditions: Callable[[], bool]) -> dict[str, float]:
    """Seconds from ``killed`` until each condition was first seen true (polled every 0.1 s)."""
    marks: dict[str, float] = {}
    while len(marks) < len(conditions):
        for name, condition in conditions.items():
            if name not in marks and condition():
                marks[name] = time.monotonic() - killed
        assert time.monotonic() - killed < 90, f"takeover incomplete after 90 s: {marks}"
        time.sleep(0.1)
    return marks


def stored_of(tables: Tables, devices: list[str], since: datetime) -> int:
    with tables.engine.connect() as conn:
        query = select(func.count()).where(
            fixes.c.device_id.in_(devices), fixes.c.fix_time >= since
        )
        return int(conn.execute(query).scalar_one())


def check(tables: Tables, world: World, sent: list[dict[str, object]], episodes: int,
          phase: str, result: RunResult) -> None:  # fmt: skip
    """Every acknowledged fix stored once; ``episodes`` violations and alerts per incursion."""
    time.sleep(1.0)  # anything still to come would be a duplicate
    found, expected = tables.fix_counts(), expected_counts(sent)
    missing = expected - found
    extra = found - expected
    where = f"N={result.engines} {phase}"
    if missing:
        result.found.append(f"{where}: {sum(missing.values())} acknowledged fixes not stored")
    if extra:
        result.found.append(f"{where}: {sum(extra.values())} rows stored twice or unsent")
    want = Counter({str(w.person_id): episodes for w in world.incursions()})
    for name, got in (("violations", tables.zone_violations()), ("alerts", tables.zone_alerts())):
        if got != want:
            wrong = {p: got.get(p, 0) for p in set(got) | set(want) if got.get(p, 0) != want[p]}
            result.found.append(f"{where}: {name} per incursion differ: {wrong}")
