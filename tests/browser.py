"""Browser fixtures (a pytest plugin loaded by tests/conftest.py, so every folder shares one
Chromium): a real server on an ephemeral port and Debian's Chromium through Playwright.

``live_server`` runs uvicorn in a thread against a freshly migrated SQLite file; ``browser`` is
one headless Chromium per test module; ``page`` is a fresh page (own cookies) per test.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.conftest import RunningClock, make_settings
from vigil.bootstrap import Container, build_container
from vigil.db import migrate
from vigil.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass(frozen=True)
class LiveServer:
    url: str
    container: Container
    osmand_url: str = ""  # the OsmAnd device door, when the server runs its gateways
    # The door's key of each device, by external id (issued when the server runs its gateways).
    device_keys: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path / 'e2e.db'}"
    migrate.upgrade(url)
    container = build_container(make_settings(url), clock=RunningClock())
    config = uvicorn.Config(
        create_app(container), host="127.0.0.1", port=0, log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the live server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield LiveServer(f"http://127.0.0.1:{port}", container)
    server.should_exit = True
    thread.join(timeout=10)
    container.engine.dispose()


def _ensure_chromium() -> None:
    if CHROMIUM.exists():
        return
    if shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "chromium"], check=False, capture_output=True)
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; install Debian's chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per module: sync Playwright marks its event loop as running while it is
    open, which would break the asyncio tests of any later module."""
    from playwright.sync_api import sync_playwright

    _ensure_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()
