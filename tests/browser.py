"""Browser fixtures (a pytest plugin loaded by tests/conftest.py, so every folder shares one
Chromium): a real server on an ephemeral port and Debian's Chromium through Playwright.

``live_server`` runs uvicorn in a thread against a freshly migrated SQLite file; ``browser`` is
one headless Chromium per test module; ``page`` is a fresh page (own cookies) per test.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def serving(container: Container, port: int = 0) -> Iterator[LiveServer]:
    """The app on 127.0.0.1 (``port`` 0: any free port) in a thread, until the block ends."""
    config = uvicorn.Config(
        create_app(container), host="127.0.0.1", port=port, log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the live server did not start")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer(f"http://127.0.0.1:{bound}", container)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        container.engine.dispose()


def free_port() -> int:
    """A port free now, for a server whose own address must be known before it starts (its
    public URL goes into its settings)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path / 'e2e.db'}"
    migrate.upgrade(url)
    with serving(build_container(make_settings(url), clock=RunningClock())) as server:
        yield server


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


@dataclass
class PageProblems:
    """What went wrong in a page that no assertion looks at: a JavaScript error (thrown or logged
    with console.error) or an asset that did not load. A map that stopped with a TypeError
    looks like an empty box to a test that only waits for the box."""

    found: list[str] = field(default_factory=list)

    def watch(self, page: Any) -> Any:
        page.on("pageerror", lambda error: self.found.append(f"script error: {error}"))
        page.on("console", self._console)
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)
        return page

    def _console(self, message: Any) -> None:
        # Chromium logs every 4xx/5xx response as "Failed to load resource"; those are judged by
        # _response, which knows an asset from a page a test opens to see its 404 or 403.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.found.append(f"console error: {message.text}")

    def _request_failed(self, request: Any) -> None:
        # Leaving a page cancels its live stream and any fetch still running; that is not a fault.
        if request.failure == "net::ERR_ABORTED" and request.resource_type in _CANCELLABLE:
            return
        # Leaving a page also cancels a font or image still arriving. Whether the asset itself is
        # sound is asked of the server again (outside the browser, whose loop is busy here).
        if request.failure == "net::ERR_ABORTED" and _asset_loads(request.url):
            return
        self.found.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response: Any) -> None:
        if response.status >= 400 and response.request.resource_type in _ASSETS:
            self.found.append(f"asset answered {response.status}: {response.url}")


def _asset_loads(url: str) -> bool:
    if not url.startswith("http://127.0.0.1:"):
        return False  # only the server under test is asked again
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (loopback http only)
            return bool(answer.status < 400)
    except (OSError, ValueError):
        return False


_ASSETS = frozenset({"script", "stylesheet", "image", "font", "media"})
_CANCELLABLE = frozenset({"document", "eventsource", "fetch", "xhr"})


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page; the test fails if the page logged a script error or lost an asset."""
    context = browser.new_context()
    problems = PageProblems()
    opened = problems.watch(context.new_page())
    opened.set_default_timeout(15_000)
    yield opened
    context.close()
    assert problems.found == [], "the browser reported problems:\n" + "\n".join(problems.found)


# What each map on the page really drew, read from Leaflet itself (vigil-map.js keeps the map on
# its element and tags each layer with its part), beside what the map's data asks for.
_MAPS = """() => Array.from(document.querySelectorAll('.vigil-map')).map(el => {
  const out = {id: el.id, leaflet: Boolean(el.vigilMap), expected: {}, drawn: {}};
  const source = el.dataset.map && document.getElementById(el.dataset.map);
  if (source) {
    const data = JSON.parse(source.textContent);
    const shapes = ['Point', 'Polygon', 'MultiPolygon'];
    const zones = (data.zones || []).filter(z => z.geometry && shapes.includes(z.geometry.type));
    const points = (data.trail && data.trail.points) || [];
    const accuracy = el.hasAttribute('data-accuracy');
    out.expected = {
      zone: zones.length,
      buffer: zones.filter(z => z.buffer_m > 0).length,  // circles and polygons alike
      trail: points.length ? 1 : 0,
      fix: points.filter(p => accuracy || p[4]).length,
      alert: data.alert && data.alert.lat !== null && data.alert.lat !== undefined ? 1 : 0,
    };
  }
  if (!el.vigilMap) { return out; }
  const map = el.vigilMap;
  const view = map.getBounds();
  map.eachLayer(layer => {
    const part = layer.options && layer.options.vigil;
    if (!part) { return; }
    const seen = out.drawn[part] || (out.drawn[part] = {count: 0, empty: 0, outside: 0});
    seen.count += 1;
    if (!layer.getBounds && !layer.getLatLng) { return; }  // street tiles: no shape of their own
    const bounds = layer.getBounds ? layer.getBounds()
      : L.latLngBounds(layer.getLatLng(), layer.getLatLng());
    if (!bounds.isValid() || map.distance(bounds.getSouthWest(), bounds.getNorthEast()) <= 0) {
      seen.empty += 1;
    }
    if (!bounds.isValid() || !view.intersects(bounds)) { seen.outside += 1; }
  });
  return out;
})"""

# Parts that have an area: a zone or buffer of no size, or one off the view, is not drawn.
_AREAS = ("zone", "buffer")


def drawn_maps(page: Any) -> list[dict[str, Any]]:
    """Per map on the page: whether Leaflet drew it, the parts its data asks for (``expected``)
    and, per part, the layers on the map (``drawn``: count, how many have empty bounds, how many
    lie outside the view)."""
    found: list[dict[str, Any]] = page.evaluate(_MAPS)
    return found


def map_problems(page: Any) -> list[str]:
    """What is wrong with the maps on the page: one not drawn by Leaflet, a zone, buffer, trail,
    fix or alert position in its data with no layer, a zone or buffer with empty bounds or out of
    view. Empty when every map draws what it was given."""
    problems = []
    for found in drawn_maps(page):
        name = found["id"] or "a map"
        if not found["leaflet"]:
            problems.append(f"{name}: Leaflet did not draw it")
            continue
        for part, wanted in found["expected"].items():
            seen = found["drawn"].get(part, {"count": 0, "empty": 0, "outside": 0})
            if seen["count"] < wanted:
                problems.append(f"{name}: {wanted} {part} asked for, {seen['count']} drawn")
            if part in _AREAS and (seen["empty"] or seen["outside"]):
                problems.append(f"{name}: a {part} has empty bounds or lies outside the view")
    return problems
