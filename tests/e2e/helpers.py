"""Browser-test helpers for the monitoring pages: a live server that also runs the background
services (engine worker, alert consumer, alert delivery), logging in, and axe-core checks."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.browser import LiveServer
from tests.conftest import RunningClock, make_settings
from vigil.bootstrap import build_container
from vigil.db import migrate
from vigil.devices import keys as device_keys
from vigil.devices import service as devices
from vigil.runtime import build_app_with_services
from vigil.security.model import SYSTEM
from vigil.sim.demo import DEMO_PASSWORD, seed_demo

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live_server_with_services(tmp_path: Path) -> Iterator[LiveServer]:
    """The demo pilot behind a real server running every background service, as `vigil serve`
    does; of the device doors only OsmAnd's is open (on a free port), and MQTT is off."""
    url = f"sqlite:///{tmp_path / 'e2e-services.db'}"
    migrate.upgrade(url)
    settings = make_settings(url).model_copy(
        update={
            "gateway_tcp_ports": "",
            "gateway_osmand_port": (osmand_port := _free_port()),
            "gateway_owntracks_port": -1,
            "mqtt_url": "",
        }
    )
    container = build_container(settings, clock=RunningClock())
    seed_demo(container)  # before start-up, so the engine's first plan has the orders
    with container.uow() as uow:  # the doors read the register (and keys) as they open
        keys = {
            device.external_id: device_keys.issue_key(uow, SYSTEM, device.id)
            for device in devices.list_devices(uow, SYSTEM)
        }
        uow.commit()
    config = uvicorn.Config(
        build_app_with_services(container),
        host="127.0.0.1",
        port=0,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="e2e-services", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the live server with services did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield LiveServer(f"http://127.0.0.1:{port}", container, f"http://127.0.0.1:{osmand_port}", keys)
    server.should_exit = True
    thread.join(timeout=15)
    container.engine.dispose()


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it stands."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing; run `npm ci` (axe-core comes from the npm registry)")
    page.evaluate(AXE.read_text())  # CDP, not a <script>: the CSP allows no inline script
    found = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '));
        }"""
    )
    return list(found)


def screenshot(page: Any, name: str) -> None:
    """Refresh docs/screenshots/NAME.png when VIGIL_SCREENSHOTS=1 (so test runs leave the
    checkout clean); the pages are the same either way."""
    if os.environ.get("VIGIL_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
