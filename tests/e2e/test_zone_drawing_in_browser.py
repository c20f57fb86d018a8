"""Drawing zones in the order editor, in a real browser: a circle placed by postcode and then
dragged (its centre and its radius), saved and stored as drawn; then, varying the order, a
polygon drawn corner by corner with one corner dragged, saved and stored as drawn; each drawn
again, with its warning buffer, on the order's page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from tests.browser import LiveServer, drawn_maps, map_problems
from tests.demo_pilot import person_in
from tests.e2e.helpers import log_in, screenshot
from vigil.orders import service as orders
from vigil.security.model import SYSTEM
from vigil.sim.demo import seed_demo


def _drag(page: Any, selector: str, dx: float, dy: float) -> None:
    page.locator("#order-map").scroll_into_view_if_needed()  # the mouse works in the viewport
    box = page.locator(selector).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y + dy, steps=8)
    page.mouse.up()


def _exclusion_zone(server: LiveServer, order_id: int) -> dict[str, Any]:
    with server.container.uow() as uow:
        order = orders.get_order(uow, SYSTEM, order_id)
    [zone] = [c.params for c in order.conditions if c.type.value == "exclusion_zone"]
    return zone


def _saved_order(page: Any) -> int:
    page.wait_for_url(re.compile(r"/orders/[0-9]+$"))
    return int(page.url.rsplit("/", 1)[1])


def _order_page_draws(page: Any) -> dict[str, Any]:
    page.locator("#order-zones.leaflet-container").wait_for()
    assert map_problems(page) == []
    [found] = drawn_maps(page)
    return dict(found["drawn"])


@pytest.fixture
def wearer(live_server: LiveServer) -> int:
    seed_demo(live_server.container)  # with the demo's postcode directory
    return person_in(live_server.container, "Birmingham North").id


def test_an_officer_draws_a_circle_then_a_polygon_and_both_are_stored_and_drawn(
    live_server: LiveServer, wearer: int, page: Any
) -> None:
    base = live_server.url
    today = live_server.container.clock.now().astimezone(live_server.container.settings.tz)
    log_in(page, base, "officer")
    page.goto(f"{base}/persons/{wearer}/orders/new")
    page.locator("#order-map.leaflet-container").wait_for()
    page.fill("#starts_on", today.date().isoformat())
    page.fill("#ends_on", (today.date() + timedelta(days=180)).isoformat())
    page.fill("#exclusion_label", "Protected person's home")
    page.fill("#exclusion_postcode", "SE1 2DL")
    page.click("button[data-find=exclusion]")
    page.locator(".vigil-handle[title=Radius]").wait_for()
    assert page.locator("#exclusion_radius").input_value() == "500"

    _drag(page, ".vigil-handle[title=Radius]", 40, 0)  # a wider circle
    radius = float(page.locator("#exclusion_radius").input_value())
    assert radius > 550
    _drag(page, ".vigil-handle[title=Centre]", 0, -30)  # moved north
    lat = float(page.locator("#exclusion_lat").input_value())
    lon = float(page.locator("#exclusion_lon").input_value())
    assert lat > 51.498972 + 0.0005
    assert lon == pytest.approx(-0.071609, abs=0.0002)
    drawn = drawn_maps(page)[0]["drawn"]
    assert drawn["zone"]["count"] == drawn["buffer"]["count"] == 1
    page.click("button[value=save]")
    order_id = _saved_order(page)

    zone = _exclusion_zone(live_server, order_id)
    assert zone["geometry"] == {"type": "Point", "coordinates": [lon, lat]}
    assert (zone["radius_m"], zone["buffer_m"]) == (radius, 250)
    drawn = _order_page_draws(page)
    assert (drawn["zone"]["count"], drawn["buffer"]["count"]) == (1, 1)

    page.goto(f"{base}/orders/{order_id}/vary")
    page.locator("#order-map.leaflet-container").wait_for()
    page.fill("#reason", "The protected person's estate, not just her home")
    page.check("#exclusion_shape-polygon")
    page.locator("#order-map").scroll_into_view_if_needed()
    box = page.locator("#order-map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((-120, -80), (120, -80), (120, 80), (-120, 80)):
        page.mouse.click(cx + dx, cy + dy)
    assert len(page.locator("#exclusion_polygon").input_value().splitlines()) == 4
    first = page.locator("#exclusion_polygon").input_value().splitlines()[0]
    _drag(page, ".vigil-handle[title='Corner 1']", -40, -30)
    corners = page.locator("#exclusion_polygon").input_value().splitlines()
    assert corners[0] != first
    drawn = drawn_maps(page)[0]["drawn"]
    assert drawn["zone"]["count"] >= 1  # a GeoJSON group and its polygon
    assert drawn["buffer"]["count"] == 1
    screenshot(page, "order-editor-polygon")
    page.click("button[value=save]")
    assert _saved_order(page) == order_id

    zone = _exclusion_zone(live_server, order_id)
    typed = [[float(n) for n in line.split(", ")] for line in corners]
    ring = [[lon, lat] for lat, lon in typed]
    assert zone["geometry"] == {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    assert zone["buffer_m"] == 250
    drawn = _order_page_draws(page)
    assert drawn["zone"]["count"] >= 1
    assert drawn["buffer"]["count"] == 1
    screenshot(page, "order-zones")
