"""Street tiles on the pages' maps, in a real browser, from a tile server the test runs on
loopback: the map loads its tiles from that server (and nowhere else) with no script error, with
the provider's notice shown as text; a tile server that fails leaves the grid and a note; and
without a tile source the maps keep the grid and the scale bar."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import LiveServer, PageProblems, drawn_maps, map_problems, serving
from tests.conftest import RunningClock, make_settings
from tests.demo_pilot import person_in
from tests.e2e.helpers import log_in
from tests.tile_server import TileServer, tile_server
from vigil.bootstrap import build_container
from vigil.db import migrate
from vigil.geo import tile_fetch
from vigil.sim.demo import seed_demo

# Markup in the notice must be shown, not obeyed.
ATTRIBUTION = "Test tiles <b>©</b> Vigil & friends"


@pytest.fixture
def tiles() -> Iterator[TileServer]:
    with tile_server() as server:
        yield server


@pytest.fixture
def server_with_tiles(tmp_path: Path, tiles: TileServer) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path / 'tiles.db'}"
    migrate.upgrade(url)
    settings = make_settings(url).model_copy(
        update={"map_tiles_url": tiles.template, "map_tiles_attribution": ATTRIBUTION}
    )
    try:
        with serving(build_container(settings, clock=RunningClock())) as server:
            seed_demo(server.container)
            yield server
    finally:
        tile_fetch.install(None)  # the next test's maps must not look for this server


def _person_map(page: Any, server: LiveServer) -> dict[str, Any]:
    person = person_in(server.container, "Birmingham North")
    log_in(page, server.url, "officer")
    page.goto(f"{server.url}/persons/{person.id}")
    page.locator(".vigil-map.leaflet-container").wait_for()
    assert map_problems(page) == []
    [drawn] = drawn_maps(page)
    return dict(drawn["drawn"])


def test_the_map_loads_its_tiles_from_the_tile_server(
    server_with_tiles: LiveServer, tiles: TileServer, page: Any
) -> None:
    drawn = _person_map(page, server_with_tiles)
    page.locator("img.leaflet-tile-loaded").first.wait_for()
    assert drawn["tiles"]["count"] == 1
    assert "grid" not in drawn
    sources = page.eval_on_selector_all("img.leaflet-tile", "tiles => tiles.map(t => t.src)")
    assert sources
    assert all(source.startswith(f"{tiles.origin}/tiles/") for source in sources)
    assert len(tiles.requests) >= 4
    loaded = page.eval_on_selector_all(
        "img.leaflet-tile-loaded", "tiles => tiles.filter(t => t.naturalWidth === 256).length"
    )
    assert loaded >= 4
    notice = page.locator(".leaflet-control-attribution")
    assert notice.inner_text() == ATTRIBUTION
    assert page.locator(".leaflet-control-attribution b").count() == 0
    assert page.locator(".leaflet-control-scale").is_visible()


def test_a_failing_tile_server_leaves_the_grid_and_says_so(
    server_with_tiles: LiveServer, tiles: TileServer, browser: Any
) -> None:
    tiles.failing = True
    context = browser.new_context()
    problems = PageProblems()
    page = problems.watch(context.new_page())
    try:
        _person_map(page, server_with_tiles)
        note = page.locator(".vigil-map-note")
        note.wait_for()
        assert "Street map unavailable" in note.inner_text()
        assert drawn_maps(page)[0]["drawn"]["grid"]["count"] > 0
        assert "tiles" not in drawn_maps(page)[0]["drawn"]
    finally:
        context.close()
    # What the browser reports is the tile server's refusals, nothing of Vigil's own.
    assert problems.found
    assert all(tiles.origin in problem for problem in problems.found), problems.found


def test_without_a_tile_source_the_maps_keep_the_grid_and_scale_bar(
    live_server: LiveServer, page: Any
) -> None:
    seed_demo(live_server.container)
    drawn = _person_map(page, live_server)
    assert drawn["grid"]["count"] > 0
    assert "tiles" not in drawn
    assert page.locator("#vigil-map-tiles").count() == 0
    assert page.locator("img.leaflet-tile").count() == 0
    assert page.locator(".leaflet-control-scale").is_visible()
    assert page.locator(".leaflet-control-attribution").count() == 0
