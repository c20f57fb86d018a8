"""The server side of ``bench/live_ingest.py``: the database (a fresh SQLite file, or a database of
the bench's own on the local PostgreSQL), the seeded world, one embedded ``vigil serve`` process
pinned to one CPU, and what its CPU time, run-queue wait and PostgreSQL backends cost, from /proc.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from tests.conftest import TEST_KEYS, TEST_SECRET
from tests.faults.cluster import VIGIL, free_port, port_open, wait_for

from vigil.alerts.tables import alerts
from vigil.db import migrate
from vigil.engine.tables import violations
from vigil.tracking.tables import fixes

PG = "127.0.0.1"
PG_DATABASE = "vigil_bench_ingest"
TICK = os.sysconf("SC_CLK_TCK")


def create_database(backend: str, workdir: Path) -> str:
    """A freshly migrated, empty database; its URL."""
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'live.db'}"
    else:
        drop_database(backend)
        subprocess.run(["createdb", "-h", PG, "-U", "postgres", PG_DATABASE], check=True)
        url = f"postgresql+psycopg://postgres@{PG}:5432/{PG_DATABASE}"
    migrate.upgrade(url)
    return url


def drop_database(backend: str) -> None:
    if backend == "postgresql":  # only the bench's own database, never another
        subprocess.run(
            ["dropdb", "-h", PG, "-U", "postgres", "--if-exists", "--force", PG_DATABASE],
            check=True,
        )


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (all its threads, live or ended)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def waited_s(pid: int) -> float:
    """Seconds the threads of ``pid`` alive now have spent runnable, waiting for a CPU."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


@dataclass
class Server:
    """``vigil serve`` with every role (web, gateways, engine, alerts: the embedded set-up), on
    the in-process bus, its Teltonika door on a free port, pinned to ``cpu`` by ``taskset``."""

    url: str
    workdir: Path
    cpu: int
    port: int = 0
    teltonika: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self, extra_env: dict[str, str]) -> None:
        self.port, self.teltonika = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
        env.update(
            VIGIL_ENVIRONMENT="test",
            VIGIL_DATABASE_URL=self.url,
            VIGIL_SECRET_KEY=TEST_SECRET,
            VIGIL_FIELD_ENCRYPTION_KEYS=TEST_KEYS,
            VIGIL_GATEWAY_TCP_PORTS=f"teltonika:{self.teltonika}",
            VIGIL_GATEWAY_OSMAND_PORT="-1",
            VIGIL_GATEWAY_OWNTRACKS_PORT="-1",
            VIGIL_MQTT_URL="",
        )
        env.update(extra_env)
        log = (self.workdir / "server.log").open("ab")
        self.process = subprocess.Popen(
            ["taskset", "-c", str(self.cpu), str(VIGIL), "serve", "--host", "127.0.0.1",
             "--port", str(self.port), "--roles", "all"],
            env=env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for(lambda: port_open(self.teltonika), 60, "the Teltonika door", self.tail)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)

    def tail(self) -> str:
        found = self.workdir / "server.log"
        return (
            "; server log: " + found.read_text(errors="replace")[-3000:] if found.exists() else ""
        )


class Tables:
    """Counts from the bench's side, and the PostgreSQL backends serving the database."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.postgres = url.startswith("postgresql")

    def counts(self) -> tuple[int, int, int]:
        """Rows in fixes, exclusion-zone violations and alerts."""
        with self.engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(fixes)).scalar_one()
            raised = conn.execute(
                select(func.count())
                .select_from(violations)
                .where(violations.c.kind == "exclusion_zone")
            ).scalar_one()
            alerted = conn.execute(select(func.count()).select_from(alerts)).scalar_one()
        return int(stored), int(raised), int(alerted)

    def backend_cpu(self) -> dict[int, float]:
        """CPU seconds of each live backend connected to this database but this connection."""
        if not self.postgres:
            return {}
        with self.engine.connect() as conn:
            pids = conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalars()
            found = {}
            for pid in pids:
                try:
                    found[int(pid)] = cpu_s(int(pid))
                except OSError:
                    continue
        return found

    def dispose(self) -> None:
        self.engine.dispose()


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="vigil-live-ingest-"))
