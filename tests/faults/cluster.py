"""Real processes for the fault suite: a NATS server and a PostgreSQL server of the test's own on
free ports, and ``vigil serve --roles ...`` processes configured by environment, each of which the
test may stop, start again on the same store, or kill outright.

Nothing here touches the shared services (NATS on 4222, PostgreSQL on 5432): a fault stops only
what the test started. The harness is reused by the throughput measurements (1, 2 and 4 engine
processes), so it knows nothing about any one fault.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import TEST_KEYS, TEST_SECRET, require_service

VIGIL = Path(sys.executable).with_name("vigil")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, detail: Callable[[], str] = str
) -> float:
    """Poll ``condition`` until true; the seconds it took. Fails naming ``what`` (and details)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{detail()}")
        time.sleep(0.1)
    return time.monotonic() - started


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def require_binary(name: str) -> str:
    """The binary's path; skipped locally, failed under CI=true, when it is not installed."""
    found = shutil.which(name) or (
        f"/usr/local/bin/{name}" if Path(f"/usr/local/bin/{name}").exists() else None
    )
    require_service(name, found is not None, f"{name} is not on PATH")
    assert found is not None
    return found


@dataclass
class NatsServer:
    """``nats-server -js`` on a free port, its JetStream store kept across stops and starts."""

    workdir: Path
    port: int = field(default_factory=free_port)
    monitor_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = require_binary("nats-server")
        store = self.workdir / "nats-store"
        store.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [binary, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-m", str(self.monitor_port),
             "-sd", str(store)],
            stdout=subprocess.DEVNULL,
            stderr=(self.workdir / "nats.log").open("ab"),
        )  # fmt: skip
        wait_for(lambda: port_open(self.port), 10, "nats-server to listen")

    def stop(self) -> None:
        """A clean stop (SIGTERM), as an operator's restart or a host going down for patching."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(15)
        self.process = None
        wait_for(lambda: not port_open(self.port), 10, "nats-server to stop listening")


@dataclass
class PostgresServer:
    """A PostgreSQL cluster of the test's own: ``initdb`` and ``pg_ctl`` run as the ``postgres``
    user (the server refuses to run as root), in a directory that user owns."""

    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="vigil-faults-pg-")))

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def init(self) -> None:
        initdb = require_binary("initdb")
        require_service("runuser", shutil.which("runuser") is not None, "runuser is not on PATH")
        shutil.chown(self.root, "postgres", "postgres")
        self._as_postgres(initdb, "-D", str(self.root / "data"), "-A", "trust", "-U", "postgres",
                          "--no-sync", "-E", "UTF8")  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            require_binary("pg_ctl"), "-D", str(self.root / "data"), "-o", options,
            "-l", str(self.root / "server.log"), "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """``pg_ctl stop -m fast``: open sessions are cut, as in a failover or a restart."""
        self._as_postgres(
            require_binary("pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "-w", "stop"
        )

    def running(self) -> bool:
        return (self.root / "data" / "postmaster.pid").exists()

    def destroy(self) -> None:
        if self.running():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def base_env(database_url: str, bus_url: str = "", **extra: str) -> dict[str, str]:
    """A Vigil process's settings: the test's database and bus, no device door but OsmAnd, no
    MQTT, quick outbox polling; ``extra`` as ``VIGIL_<NAME>`` values."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("VIGIL_")}
    env.update(
        {
            "VIGIL_ENVIRONMENT": "test",
            "VIGIL_DATABASE_URL": database_url,
            "VIGIL_BUS_URL": bus_url,
            "VIGIL_SECRET_KEY": TEST_SECRET,
            "VIGIL_FIELD_ENCRYPTION_KEYS": TEST_KEYS,
            "VIGIL_LOG_LEVEL": "INFO",
            "VIGIL_GATEWAY_TCP_PORTS": "",
            "VIGIL_GATEWAY_OSMAND_PORT": "-1",
            "VIGIL_GATEWAY_OWNTRACKS_PORT": "-1",
            "VIGIL_GATEWAY_DIRECTORY_REFRESH_S": "1",
            "VIGIL_MQTT_URL": "",
            "VIGIL_ALERTS_OUTBOX_POLL_S": "0.2",
            "VIGIL_ALERTS_OUTBOX_BACKOFF_BASE_S": "0.5",
            "VIGIL_ALERTS_OUTBOX_LEASE_S": "10",
        }
    )
    env.update({f"VIGIL_{key.upper()}": value for key, value in extra.items()})
    return env


@dataclass
class VigilProcess:
    """One ``vigil serve --roles <roles>`` process, its output in ``<workdir>/<name>.log``."""

    name: str
    roles: str
    env: dict[str, str]
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, wait: bool = True) -> None:
        """Launch the process; with ``wait``, return once it answers ``/livez``."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(VIGIL), "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--roles", self.roles],
            env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        if wait:
            self.wait_live()

    def wait_live(self, timeout: float = 60) -> None:
        wait_for(lambda: self.status("/livez") == 200, timeout, f"{self.name} to answer", self.tail)

    def status(self, path: str) -> int:
        """The HTTP status of ``GET path``; 0 when the process does not answer at all."""
        try:
            return httpx.get(self.url + path, timeout=2).status_code
        except httpx.HTTPError:
            return 0

    def ready(self) -> dict[str, object]:
        found: dict[str, object] = httpx.get(self.url + "/readyz", timeout=2).json()
        return found

    def failing(self) -> set[str]:
        """The names of the readiness checks failing now."""
        checks = self.ready().get("checks", [])
        assert isinstance(checks, list)
        return {str(check["name"]) for check in checks if not check["ok"]}

    def kill(self) -> None:
        """SIGKILL: no goodbye, no flush, leases left to expire."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(10) == -signal.SIGKILL

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(f"{self.name} did not stop on SIGTERM{self.tail()}") from None

    def log_lines(self, event: str) -> list[dict[str, object]]:
        """The JSON log lines of ``event`` this process wrote."""
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if f'"{event}"' not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("event") == event:
                found.append(record)
        return found

    def tail(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return f"; {self.name} log: {text[-3000:]}"


def start_all(processes: list[VigilProcess], *, ready: bool = False) -> None:
    """Launch every process at once, then wait for each to answer (and, with ``ready``, to be
    ready: database and bus connected, loops turning)."""
    for process in processes:
        process.start(wait=False)
    for process in processes:
        process.wait_live()
        if ready:
            wait_for(lambda p=process: p.status("/readyz") == 200, 30, f"{process.name} ready",
                     process.tail)  # fmt: skip


def wait_until_failing(processes: list[VigilProcess], check: str) -> None:
    """Every process's readiness names ``check`` (``bus``, ``database``) as failing."""
    for process in processes:
        wait_for(lambda p=process: check in p.failing(), 10, f"{process.name} to say so")


def wait_until_ready_again(processes: list[VigilProcess], back: str, timeout: float) -> None:
    """Every process is ready again after ``back`` (what was down) returned; prints how soon."""
    for process in processes:
        took = wait_for(
            lambda p=process: p.status("/readyz") == 200,
            timeout,
            f"{process.name} ready",
            lambda p=process: f"; failing {p.failing()}" + p.tail(),
        )
        print(f"{process.name} ready again {took:.1f} s after {back} came back")
