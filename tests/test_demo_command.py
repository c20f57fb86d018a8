"""`vigil demo` as a newcomer runs it: one environment variable moves its database, and the
simulated wearers send fixes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text

from vigil.sim.demo import DEMO_PASSWORD

VIGIL = Path(sys.executable).parent / "vigil"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _fixes_stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM fixes")).scalar_one())


@pytest.mark.integration
def test_demo_serves_the_database_named_by_vigil_database_url(tmp_path: Path) -> None:
    database = tmp_path / "elsewhere" / "moved-demo.db"
    database.parent.mkdir()
    port = _free_port()
    env = {
        **os.environ,
        "VIGIL_DATABASE_URL": f"sqlite:///{database}",
        # Device doors and the MQTT subscriber stay shut: other tests may hold their ports.
        "VIGIL_GATEWAY_TCP_PORTS": "",
        "VIGIL_GATEWAY_OSMAND_PORT": "-1",
        "VIGIL_MQTT_URL": "",
    }
    server = subprocess.Popen(
        [str(VIGIL), "demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "vigil demo did not start within 3 minutes"
            time.sleep(0.5)
        assert not (tmp_path / "vigil-demo.db").exists()
        engine = create_engine(f"sqlite:///{database}")
        with engine.connect() as conn:
            users = conn.execute(text("SELECT count(*) FROM users")).scalar_one()
        assert users > 0
        # The simulated wearers move: their fixes reach the trail store.
        moving_by = time.monotonic() + 90
        while _fixes_stored(engine) == 0:
            assert time.monotonic() < moving_by, "no simulated wearer sent a fix"
            time.sleep(1)
        engine.dispose()
        # An operator's live alert stream is open when the demo is stopped: it must not hold
        # the process up.
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as browser:
            login_page = browser.get("/login")
            token = login_page.text.split('name="csrf_token" value="')[1].split('"')[0]
            browser.post(
                "/login",
                data={"username": "operator", "password": DEMO_PASSWORD, "csrf_token": token},
            )
            with browser.stream("GET", "/api/alerts/stream") as stream:
                assert stream.status_code == 200
                server.send_signal(signal.SIGINT)
                stopped_at = time.monotonic()
                server.wait(timeout=20)
        assert time.monotonic() - stopped_at < 15
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
