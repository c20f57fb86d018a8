"""The scaled layout of ``bench/scale_out.py`` on the fault suite's harness: one front process
(web, gateways, alerts), N engine processes, a NATS server and a PostgreSQL database of its own;
CPU time read from /proc; which partitions each engine holds read from its log; fixes sent
through ``/api/gateways/fixes`` by several sender threads, as fast as acknowledged or paced.

Nothing here touches the shared NATS (4222) or PostgreSQL (5432).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from tests.faults.cluster import NatsServer, PostgresServer, VigilProcess, base_env, wait_for
from tests.faults.world import Script, Sender

PARTITIONS = 16
# A share unchanged this long has had two lease renewals since; the member keys are fresh.
SETTLED_S = 7.0
TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        # The command name (field 2) may hold spaces: split after its closing bracket.
        return f.read().rsplit(")", 1)[1].split()


def cpu_s(pid: int, children: bool = True) -> float:
    """User + system CPU seconds of ``pid``, with its reaped children's when ``children``."""
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    # After the name: state is index 0, so utime/stime/cutime/cstime are 11..14.
    ticks = sum(int(v) for v in fields[11 : 15 if children else 13])
    return ticks / TICK


def postgres_cpu_s(server: PostgresServer) -> float:
    """The postmaster's CPU time, its reaped backends' and its live backends' (by parent id)."""
    master = int((server.root / "data" / "postmaster.pid").read_text().split()[0])
    total = cpu_s(master)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if int(_stat(int(entry))[1]) == master:
                total += cpu_s(int(entry), children=False)
        except (OSError, IndexError):
            continue
    return total


def _changes(process: VigilProcess) -> list[dict[str, object]]:
    return [
        line
        for line in process.log_lines("bus.partitions_changed")
        if "fixes" in str(line["group"])
    ]


def held(process: VigilProcess) -> set[int]:
    """The fixes partitions the engine process last said it holds (``bus.partitions_changed``)."""
    changes = _changes(process)
    if not changes:
        return set()
    found = changes[-1]["held"]
    assert isinstance(found, list)
    return {int(p) for p in found}


def quiet_for(process: VigilProcess) -> float:
    """Seconds since the process last changed the partitions it holds."""
    changes = _changes(process)
    if not changes:
        return 0.0
    at = datetime.fromisoformat(str(changes[-1]["timestamp"]).replace("Z", "+00:00"))
    return (datetime.now(UTC) - at).total_seconds()


@dataclass
class Layout:
    """The processes of one run; ``cpu()`` reads their CPU seconds by role."""

    front: VigilProcess
    engines: list[VigilProcess]
    nats: NatsServer
    postgres: PostgresServer

    def processes(self) -> list[VigilProcess]:
        return [self.front, *self.engines]

    def cpu(self) -> dict[str, float]:
        assert self.nats.process is not None
        return {
            "front": cpu_s(self.front.pid),
            "engines": sum(
                cpu_s(e.pid) for e in self.engines if e.process and e.process.poll() is None
            ),
            "nats": cpu_s(self.nats.process.pid),
            "postgres": postgres_cpu_s(self.postgres),
            "sender": sum(os.times()[:2]),
        }

    def shared_out(self, timeout: float = 90) -> float:
        """Wait until the engines hold every partition between them, each some, none twice, and
        none has changed its share for ``SETTLED_S`` (the start-up shuffle is over)."""

        def fair() -> bool:
            if min(quiet_for(e) for e in self.engines) < SETTLED_S:
                return False
            sets = [held(e) for e in self.engines]
            union = set().union(*sets)
            return (
                union == set(range(PARTITIONS))
                and sum(len(s) for s in sets) == PARTITIONS
                and all(sets)
            )

        return wait_for(fair, timeout, "the engines to share the partitions out", self._logs)

    def _logs(self) -> str:
        return "".join(p.tail() for p in self.processes())

    def stop(self) -> None:
        for process in self.processes():
            if process.process is not None and process.process.poll() is None:
                process.process.kill()
                process.process.wait(10)
        self.nats.stop()


def database(server: PostgresServer, name: str, template: str | None = None) -> str:
    """Create database ``name`` (from ``template``) on the bench's server; its URL."""
    admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        copy = f" TEMPLATE {template}" if template else ""
        conn.execute(text(f"CREATE DATABASE {name}{copy}"))
    admin.dispose()
    return server.url.rsplit("/", 1)[0] + "/" + name


def start_layout(
    postgres: PostgresServer, database_url: str, engines: int, workdir: Path
) -> Layout:
    workdir.mkdir(parents=True, exist_ok=True)
    nats = NatsServer(workdir)
    nats.start()
    env = base_env(database_url, nats.url)
    front = VigilProcess("front", "web,gateways,alerts", env, workdir)
    engine_processes = [VigilProcess(f"engine-{n}", "engine", env, workdir) for n in range(engines)]
    layout = Layout(front, engine_processes, nats, postgres)
    for process in layout.processes():
        process.start(wait=False)
    for process in layout.processes():
        process.wait_live(90)
    layout.shared_out()
    return layout


def by_device_groups(script_: Script, groups: int) -> list[Script]:
    """The script split into ``groups`` by device, each device's fixes in their order."""
    devices = sorted({str(r["device"]) for r in script_.rows})
    group_of = {d: n % groups for n, d in enumerate(devices)}
    parts: list[list[dict[str, object]]] = [[] for _ in range(groups)]
    for row in script_.rows:
        parts[group_of[str(row["device"])]].append(row)
    return [Script(p) for p in parts]


def send_all(base_url: str, token: str, script_: Script, threads: int, batch: int,
             rate: float = 0.0) -> list[Sender]:  # fmt: skip
    """Send the script from ``threads`` senders, each its own devices; paced at ``rate`` fixes
    a second in all when given, else as fast as acknowledged. Returns when all is acknowledged."""
    senders = [Sender(base_url, token, batch=batch) for _ in range(threads)]
    parts = by_device_groups(script_, threads)
    started = time.monotonic()
    workers = [
        threading.Thread(target=_send_paced, args=(s, p, rate / threads, started), daemon=True)
        for s, p in zip(senders, parts, strict=True)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return senders


def _send_paced(sender: Sender, script_: Script, rate: float, started: float) -> None:
    for start in range(0, len(script_.rows), sender.batch):
        if rate:
            # Batches on a fixed timetable from the common start: a slow answer is caught up on.
            due = started + start / rate
            if (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
        sender.send(Script(script_.rows[start : start + sender.batch]))
