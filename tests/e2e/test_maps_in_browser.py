"""Every page with a map, in a real browser, draws what it was given: the alert page (zone,
warning buffer, the fixes with their accuracy circles, where the alert happened), the person page
and its trail playback (Play button and slider that move along the trail), what the wearer is
shown, and the order editor (a zone found by postcode, with its buffer, and an existing order's
zones when it is varied). What is drawn is read from Leaflet itself (tests/browser.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import LiveServer, drawn_maps, map_problems
from tests.conftest import FIXTURES
from tests.demo_pilot import exclusion_zone, person_in, raise_alert
from tests.e2e.helpers import log_in, screenshot
from vigil.geo import postcodes
from vigil.sim.demo import seed_demo
from vigil.tracking import store
from vigil.tracking.model import Fix


@pytest.fixture
def wearer_with_an_alert(live_server: LiveServer) -> tuple[int, int]:
    """The demo pilot; a Birmingham wearer who walked into their exclusion zone over the last
    half hour (a fix a minute), and the alert that raised. (person id, alert id)"""
    container = live_server.container
    seed_demo(container)
    with container.uow() as uow:
        postcodes.load(uow, FIXTURES / "postcodes" / "onspd-extract.csv", actor="test")
        uow.commit()
    wearer = person_in(container, "Birmingham North")
    condition_id, zone = exclusion_zone(container, wearer.id)
    lon, lat = zone["geometry"]["coordinates"]  # type: ignore[index]
    now = container.clock.now()
    walk = [
        Fix(
            device_id="map-test-tag",
            fix_time=now - timedelta(minutes=30 - i),
            receive_time=now - timedelta(minutes=30 - i, seconds=-5),
            lat=lat - 0.006 + 0.0002 * i,  # from about 700 m south to the zone's centre
            lon=lon,
            protocol="osmand",
            accuracy_m=12.0,
        )
        for i in range(31)
    ]
    with container.uow() as uow:
        store.append(uow.connection, walk, [wearer.id] * len(walk))
        uow.commit()
    alert = raise_alert(container, wearer.id, condition_id=condition_id, lat=lat, lon=lon)
    return wearer.id, alert


def _only_map(page: Any) -> dict[str, Any]:
    page.locator(".leaflet-container").first.wait_for()
    assert map_problems(page) == []
    maps = drawn_maps(page)
    assert len(maps) == 1
    return maps[0]


def test_the_alert_page_draws_the_zone_buffer_fixes_and_where_the_alert_happened(
    live_server: LiveServer, wearer_with_an_alert: tuple[int, int], page: Any
) -> None:
    _person, alert = wearer_with_an_alert
    log_in(page, live_server.url, "operator")
    page.goto(f"{live_server.url}/alerts/{alert}")
    drawn = _only_map(page)["drawn"]
    assert drawn["zone"]["count"] >= 1
    assert drawn["buffer"]["count"] >= 1
    assert drawn["fix"]["count"] >= 20  # the walk's fixes in the alert's window
    assert drawn["accuracy"]["count"] == drawn["fix"]["count"]
    assert drawn["alert"]["count"] == 1
    screenshot(page, "alert")


def test_the_person_page_draws_the_zones_and_plays_the_trail_back(
    live_server: LiveServer, wearer_with_an_alert: tuple[int, int], page: Any
) -> None:
    person, _alert = wearer_with_an_alert
    base = live_server.url
    log_in(page, base, "officer")
    page.goto(f"{base}/persons/{person}")
    plain = _only_map(page)
    assert plain["drawn"]["zone"]["count"] >= 2  # the exclusion zone and the curfew address
    assert "trail" not in plain["drawn"]  # the trail needs a reason

    tz = live_server.container.settings.tz
    now = live_server.container.clock.now()
    page.fill("#from", (now - timedelta(hours=1)).astimezone(tz).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#to", (now + timedelta(minutes=5)).astimezone(tz).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#reason", "Checking the approach to the zone")
    page.click("button:has-text('Show trail')")
    page.wait_for_url("**reason=*")
    drawn = _only_map(page)["drawn"]
    assert drawn["trail"]["count"] == 1
    assert drawn["fix"]["count"] >= 1  # the fixes inside the zone are marked
    assert drawn["playback"]["count"] == 1

    slider = page.locator(".vigil-playback input[type=range]")
    assert slider.input_value() == "0"
    page.click(".vigil-playback button[data-play]")
    # Locator waits, not wait_for_function: the page's CSP allows no eval of a string.
    expect(slider).not_to_have_value("0")
    assert page.locator(".vigil-playback [data-time]").inner_text() != ""
    screenshot(page, "person-trail")


def test_what_the_wearer_is_shown_is_drawn(
    live_server: LiveServer, wearer_with_an_alert: tuple[int, int], page: Any
) -> None:
    person, _alert = wearer_with_an_alert
    log_in(page, live_server.url, "officer")
    page.goto(f"{live_server.url}/persons/{person}/wearer-view")
    drawn = _only_map(page)["drawn"]
    assert drawn["zone"]["count"] >= 1
    screenshot(page, "wearer-view")


def test_the_order_editor_draws_a_zone_found_by_postcode_and_an_orders_zones(
    live_server: LiveServer, wearer_with_an_alert: tuple[int, int], page: Any
) -> None:
    person, _alert = wearer_with_an_alert
    base = live_server.url
    log_in(page, base, "officer")
    page.goto(f"{base}/persons/{person}/orders/new")
    page.locator("#order-map.leaflet-container").wait_for()
    page.check("#exclusion")
    page.fill("#exclusion_radius", "350")
    page.fill("#exclusion_buffer", "150")
    page.fill("#exclusion_postcode", "SE1 2DL")
    page.click("button[data-find=exclusion]")
    expect(page.locator("#exclusion_lat")).to_have_value("51.498972")
    drawn = _only_map(page)["drawn"]
    assert drawn["zone"] == {"count": 1, "empty": 0, "outside": 0}
    assert drawn["buffer"] == {"count": 1, "empty": 0, "outside": 0}
    screenshot(page, "order-editor")

    page.goto(f"{base}/persons/{person}")
    page.locator("a[href$='/vary']").first.click()
    page.wait_for_url("**/vary")
    drawn = _only_map(page)["drawn"]
    assert drawn["zone"]["count"] >= 1
    assert drawn["zone"]["empty"] == drawn["zone"]["outside"] == 0
